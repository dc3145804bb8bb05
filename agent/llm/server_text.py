"""Text from an LLM server is untrusted: strip terminal control sequences and redact secrets.

A server (or a model it runs) can put escape sequences in a reply: CSI to move the cursor or
recolour the screen, OSC to set the title or, with OSC 52, write the user's clipboard. Everything
a server sends passes through :func:`clean` (or a :class:`StreamCleaner` for streamed pieces)
before the app shows it or the CLI prints it. Server error messages can echo the request's
credentials; :func:`redact` removes the API key and anything shaped like an OpenAI key before a
message is printed or stored (LangGraph persists node errors in its checkpoint).
"""

from __future__ import annotations

import re

# ESC-introduced sequences, complete or running to the end of the text (an unterminated OSC
# swallows the rest, as a terminal would). 8-bit C1 introducers (U+009B CSI, U+009D OSC...) too.
_SEQUENCE = re.compile(
    r"(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c|$)"  # OSC ... BEL | ST
    r"|(?:\x1b[P^_X]|[\x90\x98\x9e\x9f])[^\x1b\x9c]*(?:\x1b\\|\x9c|$)"  # DCS, SOS, PM, APC ... ST
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*(?:[@-~]|$)"  # CSI parameters, intermediates, final byte
    r"|\x1b[ -/]*[0-~]?"  # any other escape (charset selection, RIS, ...)
)
# C0 controls except tab and newline, DEL, and the C1 range (U+0080-U+009F).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# The start of a sequence cut off at the end of a streamed piece: held back until the next one.
_UNFINISHED = re.compile(
    r"(?:(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*\x1b?"
    r"|(?:\x1b[P^_X]|[\x90\x98\x9e\x9f])[^\x1b\x9c]*\x1b?"
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*"
    r"|\x1b[ -/]*)\Z"
)
#: Longest unfinished sequence held back in a stream; past this it is dropped, not shown.
MAX_HELD = 4096
# OpenAI-style secret keys (sk-..., sk-proj-...), and bearer tokens echoed in error messages.
_KEY_SHAPED = re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}|(?i:bearer\s+)[A-Za-z0-9._\-]{8,}")
REDACTED = "[redacted]"


def clean(text: str) -> str:
    """`text` without terminal escape sequences or control characters other than newline and tab."""
    return _CONTROL.sub("", _SEQUENCE.sub("", text))


def redact(text: str, secret: str | None = None) -> str:
    """`text` with `secret` (the API key) and key-shaped tokens replaced by a marker."""
    if secret and len(secret) >= 4:
        text = text.replace(secret, REDACTED)
    return _KEY_SHAPED.sub(REDACTED, text)


def safe_message(text: str, secret: str | None = None) -> str:
    """A server's error text fit to print or store: cleaned, redacted, on one line."""
    return " ".join(redact(clean(text), secret).split())


class StreamCleaner:
    """:func:`clean` for a stream of pieces: a sequence split across two pieces is still removed."""

    def __init__(self) -> None:
        self._held = ""

    def feed(self, piece: str) -> str:
        """The displayable part of `piece`; the start of a cut-off sequence waits for the next one."""
        text = self._held + piece
        unfinished = _UNFINISHED.search(text)
        if unfinished is not None and len(text) - unfinished.start() <= MAX_HELD:
            self._held = text[unfinished.start() :]
            text = text[: unfinished.start()]
        else:
            self._held = ""
        return clean(text)

    def finish(self) -> str:
        """Whatever is still held at the end of the stream, cleaned."""
        text, self._held = self._held, ""
        return clean(text)
