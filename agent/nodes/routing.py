"""The graph's routers: explicit decisions from the state to the next node, by agent.policy's rules."""

from __future__ import annotations

from typing import Literal

from langgraph.runtime import Runtime

from agent import policy
from agent.context import InterviewContext
from agent.followups import curveball_applies, interview_answers
from agent.ids import PHASES, WRAP_UP
from agent.nodes.common import phase_answers
from agent.nodes.grading import move_on_reason, pending_claims
from agent.state import InterviewState

AfterInput = Literal["grade_answer", "give_hint", "advance_phase", "finish"]
AfterGrade = Literal["ask_followup", "give_hint", "challenge_claim", "spring_curveball", "advance_phase"]


def route_input(state: InterviewState) -> AfterInput:
    """What to do with the candidate's input: grade an answer, hint, skip ahead or end."""
    received = state["last_input"]
    if received is None:
        raise ValueError("route_input needs the candidate's input in the state")
    action = received["action"]
    if action == "end" or (state["phase"] == WRAP_UP and action in ("answer", "skip")):
        return "finish"
    if action == "hint":
        return "give_hint"
    if action == "skip":
        return "advance_phase"
    if state["phase"] not in PHASES:
        raise ValueError(f"cannot grade an answer in phase {state['phase']!r}")
    return "grade_answer"


def route_after_grade(state: InterviewState, runtime: Runtime[InterviewContext]) -> AfterGrade:
    """Hint the stuck, challenge a wrong claim, spring the curveball, move on, or probe.

    A message made only of clarifying questions is never "stuck" (it is short by nature); a wrong
    claim is challenged before anything else is asked, unless the phase's time is up.
    """
    ctx = runtime.context
    phase = state["phase"]
    text = phase_answers(state)[-1]
    sentences, _ = ctx.sentences(text)
    hints = len(ctx.kb.phase_note(phase).hints)
    if (
        not policy.is_question_only(sentences)
        and policy.is_stuck(text)
        and state["hints_used"].get(phase, 0) < hints
    ):
        return "give_hint"
    reason = move_on_reason(ctx, state)
    if reason != "time" and pending_claims(state):
        return "challenge_claim"
    curveball = ctx.kb.problem_note(state["problem"]).curveball
    if (
        not state["curveball_done"]
        and curveball.phase == phase
        and curveball_applies(ctx.kb, state["problem"], interview_answers(state["turns"]))
    ):
        return "spring_curveball"
    if ctx.auto_advance and reason is not None:
        return "advance_phase"
    return "ask_followup"
