"""One past session, read-only: what the report said and the whole conversation, from its transcript."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Header, Label, Markdown, Static

from agent.history import PastSession
from tui.screens.base import mlsd_app
from tui.widgets.chat import turn_widgets

if TYPE_CHECKING:
    from agent.content.loader import KnowledgeBase


def report_text(past: PastSession, kb: KnowledgeBase) -> tuple[str, str]:
    """The problem's title and the report as the feedback screen shows it (Markdown, "" if unfinished)."""
    from agent.export import report_markdown
    from agent.report import report_with_titles
    from agent.study import study_guide

    problem = past.summary.problem
    # A problem the knowledge in use lacks was practised with another knowledge folder: no titles
    # to add and no study guide to make.
    known = problem in kb.problems
    title = kb.problem_note(problem).title if known else problem.replace("_", " ")
    if past.report is None:
        return title, ""
    report = report_with_titles(past.report, kb, problem)
    # The same study guide the feedback showed when it was new.
    study = study_guide(kb, problem, report, past.turns, past.grades) if known else None
    markdown = report_markdown(report, problem_title=title, session_id=past.summary.session_id, study=study)
    return title, markdown.split("\n", 1)[1]  # the screen's own heading replaces the first line


class SessionScreen(Screen[None]):
    """A past session as it was: nothing here changes it."""

    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back")]

    def __init__(self, session_id: str) -> None:
        super().__init__()
        self.session_id = session_id

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="past"):
            yield Static("Reading the session...", id="past-title", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        """Read the transcript and the notes in a worker."""
        self.query_one("#past", VerticalScroll).focus()
        self._load()

    @work(thread=True, exclusive=True)
    def _load(self) -> None:
        from agent.errors import MlsdError
        from agent.history import read_session

        app = mlsd_app(self)
        try:
            past = read_session(app.settings.home, self.session_id)
            kb = app.knowledge()
            title, report = report_text(past, kb)
        except (MlsdError, OSError) as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        except Exception as exc:  # unexpected: shown here rather than ending the app
            self.app.call_from_thread(self._failed, f"{type(exc).__name__}: {exc}")
            return
        self.app.call_from_thread(self._show, past, title, report)

    def _failed(self, message: str) -> None:
        self.query_one("#past-title", Static).update(f"This session cannot be shown: {message}")

    def _show(self, past: PastSession, title: str, report: str) -> None:
        s = past.summary
        state = "finished" if s.finished else "unfinished: resume it from the start screen"
        self.sub_title = title
        self.query_one("#past-title", Static).update(
            f"{title}\n{s.started:%Y-%m-%d %H:%M}, {s.level}, {s.length} minutes, {s.engine} engine; {state}"
        )
        parts: list[Widget] = []
        if report:  # the report holds the whole conversation, annotated, beside the model answers
            parts.append(Markdown(report, id="past-report"))
        else:
            parts.append(Label("Conversation", classes="section"))
            for turn in past.turns:
                parts.extend(turn_widgets(turn))
        self.query_one("#past", VerticalScroll).mount(*parts)
