"""LLM engine tests, and the interviewer turn they ask the engine to write."""

from __future__ import annotations

from agent.engines.base import TurnPlan


def evaluation_followup(last_answer: str) -> TurnPlan:
    """A follow-up on the fraud problem's evaluation phase, after the given answer."""
    return TurnPlan(
        kind="followup",
        phase="evaluation",
        phase_title="Offline and online evaluation",
        problem_title="Payment fraud detection",
        question="How would you pick the decision threshold?",
        last_answer=last_answer,
    )
