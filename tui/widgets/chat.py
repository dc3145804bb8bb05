"""The conversation: interviewer turns as Markdown (streamed), candidate turns as plain text."""

from __future__ import annotations

from collections.abc import Mapping

from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Markdown, Static

from tui.safe_text import as_text


class InterviewerMessage(Markdown):
    """One interviewer turn, rendered as Markdown."""


class CandidateMessage(Static):
    """One candidate turn, shown literally: markup and escape sequences are displayed, never run."""

    def __init__(self, text: str) -> None:
        super().__init__(as_text(text), markup=False)


class RoleLabel(Static):
    """Who speaks next in the conversation ("Interviewer" or "You")."""


#: How the candidate's actions other than an answer are shown in the conversation.
ACTIONS = {"skip": "(moves on)", "end": "(ends the interview)", "hint_request": "(asks for a hint)"}


def turn_widgets(turn: Mapping[str, object]) -> list[Widget]:
    """A recorded turn (`agent.state.Turn`, or a transcript's turn event) as its role label and
    message ([] for a kind of turn that is not shown)."""
    if turn["role"] == "interviewer":
        return [RoleLabel("Interviewer", classes="-interviewer"), InterviewerMessage(str(turn["text"]))]
    text = str(turn["text"]) if turn["kind"] == "answer" else ACTIONS.get(str(turn["kind"]))
    if text is None:
        return []
    return [RoleLabel("You", classes="-candidate"), CandidateMessage(text)]


class ChatLog(VerticalScroll):
    """The scrolling conversation, kept at its newest line.

    Scrolling once after a mount is not enough: a Markdown message parses in a worker and grows
    after that scroll, which left the newest lines below the fold on a busy machine. So the log
    scrolls each time an interviewer message has finished rendering its latest text (on mount and
    on every update), and a candidate message, plain text, as soon as it is added. It is also
    anchored: a log at its end stays at its end when the terminal is resized, until the reader
    scrolls up (and again once they scroll back down).
    """

    def on_mount(self) -> None:
        """Anchor the log to its end."""
        self.anchor()

    def add_interviewer(self, text: str = "") -> InterviewerMessage:
        """Append an interviewer message (empty, to stream into); it scrolls into view once rendered."""
        message = InterviewerMessage(text)
        self.mount(RoleLabel("Interviewer", classes="-interviewer"), message)
        return message

    def add_turn(self, turn: Mapping[str, object]) -> None:
        """Append a recorded turn (a resumed session's history)."""
        self.mount(*turn_widgets(turn))
        self.scroll_end(animate=False)

    def add_candidate(self, text: str) -> CandidateMessage:
        """Append the candidate's message."""
        message = CandidateMessage(text)
        self.mount(RoleLabel("You", classes="-candidate"), message)
        self.scroll_end(animate=False)
        return message

    def on_markdown_table_of_contents_updated(self, event: Markdown.TableOfContentsUpdated) -> None:
        """A message finished rendering (Markdown posts this after every update): show its end."""
        event.stop()
        self.scroll_end(animate=False)
