"""The multi-line answer box: Enter sends, Ctrl+J inserts a new line, pasted text keeps its breaks."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

from tui.safe_text import visible


def pasted(text: str) -> str:
    """Pasted text as the box keeps it: line breaks as new lines, other control bytes as `\\xNN` text."""
    return visible(text.replace("\r\n", "\n").replace("\r", "\n"))


class AnswerBox(TextArea):
    """A TextArea whose Enter key submits the answer."""

    # For the keys panel (the placeholder names it, the footer has no room at 80 columns); the key
    # itself is handled in _on_key (see there).
    BINDINGS = [Binding("ctrl+j", "newline", "New line", show=False)]

    class Submitted(Message):
        """The candidate pressed Enter on a non-empty answer."""

        def __init__(self, box: AnswerBox, text: str) -> None:
            super().__init__()
            self.box = box
            self.text = text

    def __init__(self, **kwargs: object) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs)  # type: ignore[arg-type]

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            if self.text.strip():
                self.post_message(self.Submitted(self, self.text))
            return
        if event.key == "ctrl+j":
            # Here, not through the binding: a binding runs once the key has bubbled up to the app,
            # after the letters typed just behind it, so a fast Ctrl+J landed at the end.
            event.stop()
            event.prevent_default()
            self.action_newline()
            return
        await super()._on_key(event)

    async def _on_paste(self, event: events.Paste) -> None:
        event.prevent_default()  # instead of TextArea's, which inserts the bytes as they came
        if self.read_only:
            return
        result = self.replace(pasted(event.text), *self.selection)
        self.move_cursor(result.end_location)
        self.focus()

    def action_newline(self) -> None:
        """Insert a line break at the cursor."""
        self.insert("\n")
