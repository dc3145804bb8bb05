"""The graph's routers: explicit, pure decisions from the state to the next node."""

from __future__ import annotations

from typing import Literal

from langgraph.runtime import Runtime

from agent.context import InterviewContext
from agent.followups import curveball_applies, interview_answers
from agent.ids import PHASES, WRAP_UP
from agent.nodes.common import phase_answers, phase_budget_s, phase_elapsed_s
from agent.nodes.conversation import is_stuck
from agent.nodes.grading import exit_criteria_met
from agent.state import InterviewState

AfterInput = Literal["grade_answer", "give_hint", "advance_phase", "finish"]
AfterGrade = Literal["ask_followup", "give_hint", "spring_curveball", "advance_phase"]


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
    """Probe, hint, spring the curveball, or move on (time spent, exit criteria met, enough follow-ups)."""
    ctx = runtime.context
    phase = state["phase"]
    text = phase_answers(state)[-1]
    hints = len(ctx.kb.phase_note(phase).hints)
    if is_stuck(text) and state["hints_used"].get(phase, 0) < hints:
        return "give_hint"
    curveball = ctx.kb.problem_note(state["problem"]).curveball
    if (
        not state["curveball_done"]
        and curveball.phase == phase
        and curveball_applies(ctx.kb, state["problem"], interview_answers(state["turns"]))
    ):
        return "spring_curveball"
    if ctx.auto_advance and (
        phase_elapsed_s(state) >= phase_budget_s(state)
        or state["followups_in_phase"] >= ctx.max_followups
        or exit_criteria_met(ctx, state)
    ):
        return "advance_phase"
    return "ask_followup"
