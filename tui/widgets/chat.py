"""The conversation: interviewer turns as Markdown (streamed), candidate turns as plain text."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static

from tui.safe_text import as_text


class InterviewerMessage(Markdown):
    """One interviewer turn, rendered as Markdown."""


class CandidateMessage(Static):
    """One candidate turn, shown literally: markup and escape sequences are displayed, never run."""

    def __init__(self, text: str) -> None:
        super().__init__(as_text(text), markup=False)


class ChatLog(VerticalScroll):
    """The scrolling conversation, kept at its newest line.

    Scrolling once after a mount is not enough: a Markdown message parses in a worker and grows
    after that scroll, which left the newest lines below the fold on a busy machine. So the log
    scrolls each time an interviewer message has finished rendering its latest text (on mount and
    on every update), and a candidate message, plain text, as soon as it is added.
    """

    def add_interviewer(self, text: str = "") -> InterviewerMessage:
        """Append an interviewer message (empty, to stream into); it scrolls into view once rendered."""
        message = InterviewerMessage(text)
        self.mount(message)
        return message

    def add_candidate(self, text: str) -> CandidateMessage:
        """Append the candidate's message."""
        message = CandidateMessage(text)
        self.mount(message)
        self.scroll_end(animate=False)
        return message

    def on_markdown_table_of_contents_updated(self, event: Markdown.TableOfContentsUpdated) -> None:
        """A message finished rendering (Markdown posts this after every update): show its end."""
        event.stop()
        self.scroll_end(animate=False)
