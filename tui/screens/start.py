"""The start screen: the problem bank with a filter, level and length, engine shown, sessions to resume."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from tui.screens.base import mlsd_app

if TYPE_CHECKING:
    from agent.history import SessionSummary


class StartScreen(Screen[None]):
    """Pick a problem (or a session to resume) and start."""

    BINDINGS = [
        Binding("slash", "filter", "Filter"),
        Binding("h", "history", "History"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._problems: list[tuple[str, str, str, str]] = []  # id, title, difficulty, prompt

    def compose(self) -> ComposeResult:
        app = mlsd_app(self)
        yield Header()
        with Horizontal(id="start"):
            with Vertical(id="bank"):
                yield Label("Problems", classes="section")
                yield Input(placeholder="Filter problems (/)", id="filter")
                yield OptionList(id="problems")
                with Horizontal(id="options"):
                    yield Select(
                        [(lvl, lvl) for lvl in ("junior", "senior", "staff")],
                        value=app.preferences.level,
                        allow_blank=False,
                        id="level",
                    )
                    yield Select(
                        [("45 minutes", 45), ("60 minutes", 60)],
                        value=app.preferences.length,
                        allow_blank=False,
                        id="length",
                    )
                yield Static(f"Engine: {app.engine_label()}", id="engine")
            with Vertical(id="side"):
                yield Label("Resume an unfinished session", classes="section")
                yield OptionList(id="resume")
                yield Static("", id="preview")
        yield Footer()

    def on_mount(self) -> None:
        """Read the problem bank and the sessions (cheap: files only, no model)."""
        self._load()

    @work(thread=True)
    def _load(self) -> None:
        from agent.history import list_sessions

        app = mlsd_app(self)
        try:
            kb = app.knowledge()
            problems = [
                (pid, note.title, note.difficulty, note.prompt)
                for pid in sorted(kb.problems)
                if (note := kb.problem_note(pid))
            ]
            sessions = [s for s in list_sessions(app.settings.home) if not s.finished and not s.damaged]
        except Exception as exc:  # without the problem bank there is nothing to practise
            todo = "check the knowledge folder (--knowledge, MLSD_KNOWLEDGE_DIR) with `mlsd kb check`"
            self.app.call_from_thread(app.fail, "the problem bank could not be read", exc, todo)
            return
        self.app.call_from_thread(self._show, problems, sessions)

    def _show(self, problems: list[tuple[str, str, str, str]], sessions: list[SessionSummary]) -> None:
        self._problems = problems
        self._fill("")
        resume = self.query_one("#resume", OptionList)
        resume.clear_options()
        titles = {pid: title for pid, title, _, _ in problems}
        for s in sessions[:20]:
            title = titles.get(s.problem, s.problem)
            resume.add_option(Option(f"{s.started:%b %d %H:%M}  {title}  ({s.turns} turns)", id=s.session_id))
        if not sessions:
            resume.add_option(Option("No unfinished sessions.", disabled=True))
        self.query_one("#problems", OptionList).focus()

    def _fill(self, needle: str) -> None:
        options = self.query_one("#problems", OptionList)
        options.clear_options()
        for pid, title, difficulty, prompt in self._problems:
            if needle.lower() in f"{pid} {title} {prompt}".lower():
                options.add_option(Option(Text.assemble(title, (f"  {difficulty}", "dim")), id=pid))
        if options.option_count:
            options.highlighted = 0

    @on(Input.Changed, "#filter")
    def _filter(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(OptionList.OptionHighlighted, "#problems")
    def _preview(self, event: OptionList.OptionHighlighted) -> None:
        prompt = next((p for pid, _, _, p in self._problems if pid == event.option.id), "")
        self.query_one("#preview", Static).update(prompt)

    @on(OptionList.OptionSelected, "#problems")
    def _start(self, event: OptionList.OptionSelected) -> None:
        level = str(self.query_one("#level", Select).value)
        length = int(self.query_one("#length", Select).value)  # type: ignore[arg-type]
        app = mlsd_app(self)
        app.remember(level=level, length=length)
        app.open_interview(problem=event.option.id, session_id=None, level=level, length=length)

    @on(OptionList.OptionSelected, "#resume")
    def _resume(self, event: OptionList.OptionSelected) -> None:
        app = mlsd_app(self)
        app.open_interview(problem=None, session_id=event.option.id)

    def action_filter(self) -> None:
        """Focus the filter box."""
        self.query_one("#filter", Input).focus()

    def action_history(self) -> None:
        """Past sessions and score trends."""
        app = mlsd_app(self)
        app.show_history()
