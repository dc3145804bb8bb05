"""The multi-line answer box: Enter sends, Ctrl+J inserts a new line, pasted text keeps its breaks."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea


class AnswerBox(TextArea):
    """A TextArea whose Enter key submits the answer."""

    BINDINGS = [Binding("ctrl+j", "newline", "New line", show=True)]

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
        await super()._on_key(event)

    def action_newline(self) -> None:
        """Insert a line break at the cursor."""
        self.insert("\n")
