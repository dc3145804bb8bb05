"""Past sessions: date, problem, score; a score trend per phase; the weakest phase to practise next."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from agent.grading.scale import score_text
from agent.history import SessionSummary
from agent.ids import PHASE_TITLES, PHASES

_SPARKS = "▁▂▃▄▅▆▇█"


def trend(scores: list[float]) -> str:
    """A sparkline of scores on the 1-4 scale, oldest first."""
    return "".join(_SPARKS[min(7, max(0, round((s - 1) / 3 * 7)))] for s in scores)


def weakest_phase(sessions: list[Any]) -> str | None:
    """The phase with the lowest average over the last five assessed sessions (assessed phases only)."""
    recent = [s for s in sessions if s.finished and s.score is not None and s.phase_scores][:5]
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
    """
    if not problems:
        return None
    last: dict[str, SessionSummary] = {}
    for s in sessions:  # newest first
        if s.finished and s.score is not None and s.problem not in last:
            last[s.problem] = s
    fresh = [p for p in problems if p not in last]
    if fresh:
        return fresh[0]

    def priority(problem: str) -> float:
        session: SessionSummary = last[problem]
        days = max((now - session.started).total_seconds() / 86400, 0.0) + 1.0
        return days * (5.0 - (session.score or 1.0))

    return max(problems, key=priority)


class HistoryScreen(Screen[None]):
    """What you have practised and how it went."""

    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back")]

    def compose(self) -> ComposeResult:
        from agent.history import list_sessions

        app: Any = self.app
        sessions = list_sessions(app.settings.home)
        yield Header()
        with VerticalScroll(id="history"):
            table: DataTable[str] = DataTable(id="sessions", cursor_type="row")
            table.add_columns("date", "problem", "engine", "score", "verdict")
            for s in sessions:
                score = "damaged" if s.damaged else "unfinished" if not s.finished else score_text(s.score)
                table.add_row(f"{s.started:%Y-%m-%d %H:%M}", s.problem, s.engine, score, s.verdict or "")
            yield table
            # Only assessed sessions and phases enter the trends: an abandoned or unreached phase is
            # missing evidence, not a score of 1.
            finished = [s for s in reversed(sessions) if s.finished and s.score is not None]
            text = Text()
            text.append("Score trend per phase (oldest to newest)\n", style="bold")
            for phase in PHASES:
                scores = [s.phase_scores[phase] for s in finished if phase in s.phase_scores]
                text.append(f"{PHASE_TITLES[phase]:<40} {trend(scores)}\n")
            weakest = weakest_phase(sessions)
            if weakest:
                text.append(f"\nWeakest phase: {PHASE_TITLES[weakest]} (lowest recent average)", style="bold")
            problem = next_problem(sessions, sorted(app.toolkit_problems()), datetime.now())
            if problem:
                text.append(f"\nProblem due next: {problem.replace('_', ' ')}", style="bold")
            yield Static(text, id="trends")
        yield Footer()
