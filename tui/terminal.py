"""Terminal input that keeps a bracketed paste whole, whatever bytes it holds.

Textual's parser reads an ESC inside a paste as the start of an escape sequence: the paste is cut
at the first ESC and the rest arrives as key presses, before the paste itself. Here the paste is
taken out of the stream between its start and end markers and delivered as one Paste event; the
answer box then shows its control bytes as text (tui.safe_text).
"""

from __future__ import annotations

import os
import selectors
from codecs import getincrementaldecoder
from collections.abc import Iterable

from textual import events
from textual._parser import ParseError
from textual._xterm_parser import BRACKETED_PASTE_END, BRACKETED_PASTE_START, XTermParser
from textual.drivers.linux_driver import LinuxDriver
from textual.message import Message


class PasteSafeParser(XTermParser):
    """XTermParser whose bracketed pastes end only at the end marker."""

    def __init__(self, debug: bool = False) -> None:
        super().__init__(debug)
        self._paste: str | None = None  # the text of a paste under way, or None outside one

    def feed(self, data: str) -> Iterable[Message]:
        """Parse input; pastes become one Paste event each, everything else is parsed as usual."""
        if not data:
            yield from super().feed(data)
            return
        while data:
            if self._paste is None:
                start = data.find(BRACKETED_PASTE_START)
                if start < 0:
                    yield from super().feed(data)
                    return
                if start:
                    yield from super().feed(data[:start])
                self._paste, data = "", data[start + len(BRACKETED_PASTE_START) :]
            else:
                # The end marker can be split over two reads: search the paste so far.
                text = self._paste + data
                end = text.find(BRACKETED_PASTE_END)
                if end < 0:
                    self._paste = text
                    return
                self._paste = None
                # NUL bytes are dropped as Textual does (textual#1661).
                yield events.Paste(text[:end].replace("\x00", ""))
                data = text[end + len(BRACKETED_PASTE_END) :]


class PasteSafeDriver(LinuxDriver):
    """The Linux/macOS driver with PasteSafeParser (this loop is LinuxDriver's, with that parser)."""

    def run_input_thread(self) -> None:
        """Wait for input and dispatch events."""
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        parser = PasteSafeParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode

        def process(ready: list[tuple[selectors.SelectorKey, int]], final: bool = False) -> None:
            for index, (_, mask) in enumerate(ready):
                if mask & selectors.EVENT_READ:
                    last = index == len(ready) - 1
                    data = decode(os.read(self.fileno, 1024 * 4), final=final and last)
                    if not data:
                        break
                    for event in parser.feed(data):
                        self.process_message(event)
            for event in parser.tick():
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                process(selector.select(0.1))
            selector.unregister(self.fileno)
            process(selector.select(0.1), final=True)
        finally:
            selector.close()
            try:
                for _ in parser.feed(""):
                    pass
            except (EOFError, ParseError):
                pass
