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
    """The scrolling conversation."""

    def add_interviewer(self, text: str = "") -> InterviewerMessage:
        """Append an interviewer message (empty, to stream into)."""
        message = InterviewerMessage(text)
        self.mount(message)
        self.scroll_end(animate=False)
        return message

    def add_candidate(self, text: str) -> CandidateMessage:
        """Append the candidate's message."""
        message = CandidateMessage(text)
        self.mount(message)
        self.scroll_end(animate=False)
        return message
