"""History's suggestions: the weakest phase, and the problem due next by spaced repetition."""

from __future__ import annotations

from datetime import datetime, timedelta

from agent.history import SessionSummary
from agent.ids import PHASES
from tui.screens.history import next_problem, trend, weakest_phase

NOW = datetime(2026, 11, 25, 12, 0)


def session(problem: str, days_ago: float, score: float, weak_phase: str = PHASES[3]) -> SessionSummary:
    return SessionSummary(
        session_id=f"{problem}-{days_ago}",
        problem=problem,
        started=NOW - timedelta(days=days_ago),
        engine="offline",
        level="senior",
        length=45,
        finished=True,
        score=score,
        minutes=30.0,
        phase_scores={p: (1.5 if p == weak_phase else 3.0) for p in PHASES},
    )


def test_unpractised_problems_come_first() -> None:
    sessions = [session("video_recommendation", 1, 3.5)]
    assert (
        next_problem(sessions, ["ad_click_prediction", "video_recommendation"], NOW) == "ad_click_prediction"
    )


def test_a_poor_result_comes_back_sooner_than_a_strong_one() -> None:
    sessions = [session("visual_search", 3, 1.5), session("video_search", 3, 3.8)]
    assert next_problem(sessions, ["video_search", "visual_search"], NOW) == "visual_search"


def test_a_strong_result_comes_back_after_a_while() -> None:
    sessions = [session("visual_search", 1, 2.0), session("video_search", 20, 3.8)]
    assert next_problem(sessions, ["video_search", "visual_search"], NOW) == "video_search"


def test_weakest_phase_and_trend() -> None:
    sessions = [session("visual_search", d, 2.5, weak_phase=PHASES[4]) for d in (1, 2, 3)]
    assert weakest_phase(sessions) == PHASES[4]
    assert weakest_phase([]) is None
    assert trend([1.0, 2.5, 4.0]) == "▁▅█"
