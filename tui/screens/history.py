"""Past sessions: date, problem, score; open one, delete one, filter by problem; a score trend per
phase over the assessed sessions; the weakest phase and the problem to practise next."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Select, Static

from agent.grading.scale import score_text
from agent.history import MIN_TREND_MINUTES, SessionSummary
from agent.ids import PHASE_TITLES, PHASES
from tui.screens.base import mlsd_app

_SPARKS = "▁▂▃▄▅▆▇█"


def trend(scores: list[float]) -> str:
    """A sparkline of scores on the 1-4 scale, oldest first."""
    return "".join(_SPARKS[min(7, max(0, round((s - 1) / 3 * 7)))] for s in scores)


def weakest_phase(sessions: list[SessionSummary]) -> str | None:
    """The phase with the lowest average over the last five sessions in the trends (assessed phases only)."""
    recent = [s for s in sessions if s.in_trends and s.phase_scores][:5]
    averages = {
        p: sum(scores) / len(scores)
        for p in PHASES
        if (scores := [s.phase_scores[p] for s in recent if p in s.phase_scores])
    }
    return min(averages, key=lambda p: averages[p]) if averages else None


def next_problem(sessions: list[SessionSummary], problems: list[str], now: datetime) -> str | None:
    """Spaced repetition over problems: never practised first, then the longest ago and the weakest.

    A problem's priority grows with the days since it was last practised and with how far its last
    score fell short of 4, so a poor result comes back soon and a strong one only after a while.
    Only sessions in the trends count as practice (a scripted run or an abandoned start does not).
    """
    if not problems:
        return None
    last: dict[str, SessionSummary] = {}
    for s in sessions:  # newest first
        if s.in_trends and s.problem not in last:
            last[s.problem] = s
    fresh = [p for p in problems if p not in last]
    if fresh:
        return fresh[0]

    def priority(problem: str) -> float:
        session: SessionSummary = last[problem]
        days = max((now - session.started).total_seconds() / 86400, 0.0) + 1.0
        return days * (5.0 - (session.score or 1.0))

    return max(problems, key=priority)


def status(session: SessionSummary) -> str:
    """The score column: the score, or why there is none."""
    if session.damaged:
        return "damaged"
    return score_text(session.score) if session.finished else "unfinished"


def trends_text(sessions: list[SessionSummary], titles: dict[str, str], now: datetime) -> Text:
    """Per-phase sparklines over the sessions in the trends, what was left out, the weakest phase,
    and the problem due next among `titles` (problem id -> title)."""
    counted = [s for s in reversed(sessions) if s.in_trends]  # oldest first
    text = Text()
    text.append(f"Score trend per phase, oldest to newest ({len(counted)} assessed sessions)\n", style="bold")
    if not counted:
        text.append(
            f"No assessed session yet: finish an interview of {MIN_TREND_MINUTES:.0f} minutes or more.\n"
        )
    for phase in PHASES if counted else []:
        # An unreached phase is missing evidence, not a score of 1: only assessed phases count.
        scores = [s.phase_scores[phase] for s in counted if phase in s.phase_scores]
        text.append(f"{PHASE_TITLES[phase]:<40} {trend(scores)}\n")
    left_out = len(sessions) - len(counted)
    if left_out:
        text.append(
            f"{left_out} session(s) left out (dimmed): unfinished, not assessed, scripted, damaged "
            f"or under {MIN_TREND_MINUTES:.0f} minutes.\n",
            style="dim",
        )
    weakest = weakest_phase(sessions)
    if weakest:
        text.append(f"\nWeakest phase: {PHASE_TITLES[weakest]} (lowest recent average)", style="bold")
    problem = next_problem(sessions, sorted(titles), now)
    if problem:
        text.append(f"\nProblem due next: {titles[problem]}", style="bold")
    return text


#: The history table's columns, in order.
COLUMNS = ("date", "problem", "score", "verdict", "engine")


class HistoryScreen(Screen[None]):
    """What you have practised and how it went."""

    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("enter", "open", "Open", show=True),
        Binding("d,delete", "delete", "Delete"),
        Binding("slash", "filter", "Filter by problem"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._sessions: list[SessionSummary] = []
        self._titles: dict[str, str] = {}  # problem id -> title, for the problems of the knowledge base

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="history"):
            with Horizontal(id="history-bar"):
                yield Select[str]([], prompt="All problems", id="problem-filter")
                # The table's own Enter hides the screen's from the footer: say it here.
                yield Static("Enter opens, D deletes", classes="hint", id="history-keys")
            table: DataTable[Text] = DataTable(id="sessions", cursor_type="row")
            table.add_columns(*COLUMNS)
            yield table
            yield Static("Reading your sessions...", id="trends")
        yield Footer()

    def on_mount(self) -> None:
        """Read the transcripts in a worker: there may be hundreds."""
        self.query_one("#sessions", DataTable).focus()
        self._load()

    @work(thread=True, exclusive=True, group="history")
    def _load(self) -> None:
        from agent.history import list_sessions

        app = mlsd_app(self)
        try:
            kb = app.knowledge()  # the app's, read once: the start screen has usually read it already
            titles = {pid: kb.problem_note(pid).title for pid in kb.problems}
            sessions = list_sessions(app.settings.home)
        except Exception as exc:  # the history is not worth a crash: say what failed
            self.app.call_from_thread(
                self.notify, f"Could not read the history: {type(exc).__name__}: {exc}", severity="error"
            )
            return
        self.app.call_from_thread(self._loaded, sessions, titles)

    def _loaded(self, sessions: list[SessionSummary], titles: dict[str, str]) -> None:
        self._sessions, self._titles = sessions, titles
        practised = sorted({s.problem for s in sessions if s.problem in titles}, key=lambda p: titles[p])
        choice = self.query_one("#problem-filter", Select)
        current = choice.value
        choice.set_options([(titles[p], p) for p in practised])
        if current in practised:
            choice.value = current
        self._fill()

    def _title(self, problem: str) -> str:
        return self._titles.get(problem, problem.replace("_", " "))

    def _fill(self) -> None:
        choice = self.query_one("#problem-filter", Select).value
        shown = [s for s in self._sessions if not isinstance(choice, str) or s.problem == choice]
        rows = [
            (
                s.session_id,
                "" if s.in_trends else "dim",
                (f"{s.started:%Y-%m-%d %H:%M}", self._title(s.problem), status(s), s.verdict or "", s.engine),
            )
            for s in shown
        ]
        table = self.query_one("#sessions", DataTable)
        # Widths set here, from the cells, not by the table's auto-width pass at idle time: under load
        # that pass could leave the header at its old widths over rows drawn at the new ones (CI saw it).
        table.clear(columns=True)
        for index, label in enumerate(COLUMNS):
            width = max([len(label), *(len(cells[index]) for _, _, cells in rows)])
            table.add_column(label, width=width, key=label)
        for session_id, style, cells in rows:
            table.add_row(*(Text(cell, style=style) for cell in cells), key=session_id)
        trends = self.query_one("#trends", Static)
        if not self._sessions:
            trends.update("No sessions yet: practise one from the start screen (Esc).")
            return
        # Filtered to one problem, "the problem due next" has nothing to choose from.
        trends.update(trends_text(shown, {} if isinstance(choice, str) else self._titles, datetime.now()))

    @on(Select.Changed, "#problem-filter")
    def _filtered(self) -> None:
        self._fill()

    def _selected(self) -> str | None:
        table = self.query_one("#sessions", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    @on(DataTable.RowSelected, "#sessions")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        """Open the highlighted session, read-only."""
        session_id = self._selected()
        if session_id is not None:
            app = mlsd_app(self)
            app.show_session(session_id)

    def action_filter(self) -> None:
        """Choose a problem to show only its sessions and trends."""
        self.query_one("#problem-filter", Select).focus()

    def action_delete(self) -> None:
        """Delete the highlighted session, once confirmed."""
        session_id = self._selected()
        if session_id is None:
            return
        session = next(s for s in self._sessions if s.session_id == session_id)
        app = mlsd_app(self)
        app.confirm(
            f"Delete the session on {self._title(session.problem)} of {session.started:%Y-%m-%d %H:%M}? "
            "Its conversation and report are removed for good (exported reports stay).",
            yes="delete it",
            no="keep it",
            then=lambda: self._delete(session_id),
        )

    @work(thread=True, exclusive=True, group="history")
    def _delete(self, session_id: str) -> None:
        from agent.errors import MlsdError
        from agent.history import delete_session

        app = mlsd_app(self)
        try:
            delete_session(app.settings.home, session_id)
        except (MlsdError, OSError) as exc:
            self.app.call_from_thread(self.notify, f"Not deleted: {exc}", severity="error", timeout=10)
            return
        except Exception as exc:  # unexpected: said, and the list stays as it was
            message = f"Not deleted: {type(exc).__name__}: {exc}"
            self.app.call_from_thread(self.notify, message, severity="error", timeout=10)
            return
        self.app.call_from_thread(self.notify, "Session deleted.", timeout=4)
        self.app.call_from_thread(self._load)
