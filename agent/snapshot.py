"""What the terminal app reads of an interview: typed snapshots, so its screens never touch the graph's
state dict or the run-time context (see `agent.session.Interview`'s reading methods)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from agent.ids import PHASES, Length, Level

if TYPE_CHECKING:  # types only: the app imports this module before the heavy parts load
    from agent.content.loader import KnowledgeBase
    from agent.report_model import ShownReport
    from agent.state import Turn
    from agent.study import StudyGuide


@dataclass(frozen=True)
class SessionState:
    """An interview at one moment, as the app shows it."""

    session_id: str
    problem: str
    level: Level
    length: Length
    phase: str  # a phase id, "wrap_up" or "done"
    clock_s: float  # the interview clock
    phase_started_s: float  # the clock when the current phase opened
    turns: tuple[Turn, ...]  # the conversation so far
    finished: bool  # the report exists


class CriterionCoverage(NamedTuple):
    """One rubric criterion of the current phase in the side panel: its title and grade so far."""

    title: str
    score: float | None  # None: no evidence yet


@dataclass(frozen=True)
class Feedback:
    """A finished interview's feedback as the app shows and exports it."""

    report: ShownReport
    problem_title: str
    study: StudyGuide
    markdown: str  # the report as Markdown, its first line the title


def rubric_coverage(
    kb: KnowledgeBase, problem: str, phase: str, seen: Mapping[str, float | None] | None = None
) -> dict[str, CriterionCoverage]:
    """Criterion id -> title and grade so far for a phase ({} outside the seven phases); `seen` holds the
    grades (none yet when it is left out, as before the first answer)."""
    if phase not in PHASES:
        return {}
    grades = seen or {}
    return {c.id: CriterionCoverage(c.title, grades.get(c.id)) for c in kb.rubric_for(problem, phase)}
