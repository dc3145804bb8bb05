"""Nodes that talk: open the interview and each phase, wait for the candidate, probe, hint, curveball."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agent.content.hints import hints_for, hints_given, pending_question
from agent.context import InterviewContext
from agent.engines.base import opening_plan
from agent.followups import FollowUpChoice, interview_answers
from agent.ids import PHASES, WRAP_UP
from agent.nodes.common import interviewer_turn, next_phase, phase_answers, plan_for
from agent.nodes.grading import gap_topics, phase_result
from agent.state import CandidateInput, InterviewState, Turn

_STUCK_WORDS = (
    "don't know",
    "dont know",
    "not sure",
    "no idea",
    "i'm stuck",
    "im stuck",
    "can you give me a hint",
)


def start(state: InterviewState, runtime: Runtime[InterviewContext]) -> dict[str, Any]:
    """Greet the candidate, state the problem and ask the first phase's opening question."""
    ctx = runtime.context
    first = PHASES[0]
    initial: InterviewState = {
        **state,
        "phase": first,
        "clock_s": 0.0,
        "phase_started_s": 0.0,
        "turns": [],
        "grades": [],
        "phase_results": {},
        "asked": [],
        "topics_seen": [],
        "hints_used": {},
        "followups_in_phase": 0,
        "curveball_done": False,
        "last_input": None,
        "report": None,
    }
    turn = interviewer_turn(ctx, initial, opening_plan(ctx.kb, state["problem"]))
    return {**{k: v for k, v in initial.items() if k not in ("turns", "grades", "asked")}, "turns": [turn]}


def wait_for_candidate(state: InterviewState) -> dict[str, Any]:
    """Pause the graph until the candidate answers, asks for a hint, skips ahead or ends."""
    last = state["turns"][-1] if state["turns"] else None
    raw = interrupt({"phase": state["phase"], "question": last["text"] if last else ""})
    received = _parse_input(raw)
    clock = state["clock_s"] + received["seconds"]
    kind = {"answer": "answer", "hint": "hint_request", "skip": "skip", "end": "end"}[received["action"]]
    turn = Turn(role="candidate", phase=state["phase"], text=received["text"], kind=kind, at_s=clock)
    return {"last_input": received, "clock_s": clock, "turns": [turn]}


def _parse_input(raw: object) -> CandidateInput:
    if isinstance(raw, str):
        return CandidateInput(action="answer", text=raw, seconds=0.0)
    if not isinstance(raw, dict):
        raise ValueError(f"the candidate's input must be text or a mapping, not {type(raw).__name__}")
    action = raw.get("action", "answer")
    if action not in ("answer", "hint", "skip", "end"):
        raise ValueError(f"unknown candidate action {action!r}")
    return CandidateInput(
        action=action, text=str(raw.get("text", "")), seconds=max(float(raw.get("seconds", 0)), 0.0)
    )


#: Longer than this, an answer is an answer even if it says "not sure" about one point.
STUCK_MAX_WORDS = 40


def is_stuck(text: str) -> bool:
    """The candidate says they are stuck in a short answer, or says almost nothing."""
    words = len(text.split())
    lowered = text.lower()
    return words < 6 or (words <= STUCK_MAX_WORDS and any(w in lowered for w in _STUCK_WORDS))


def followup_choices(ctx: InterviewContext, state: InterviewState, k: int) -> list[FollowUpChoice]:
    """The k follow-ups worth asking after the phase's latest answer, best first (also scored by evals)."""
    answers = phase_answers(state)
    _, vectors = ctx.sentences(answers[-1] if answers else "")
    critical = ctx.kb.problem_note(state["problem"]).critical_topics
    probed = [t["topic"] for t in state["turns"] if t.get("kind") == "followup" and "topic" in t]
    return ctx.selector.choose(
        problem=state["problem"],
        phase=state["phase"],
        sentence_vectors=vectors,
        gap_topics=gap_topics(ctx, state),
        critical_unseen=[t for t in critical if t not in state["topics_seen"]],
        asked=state["asked"],
        probed_topics=probed,
        answers=interview_answers(state["turns"]),
        k=k,
    )


def ask_followup(state: InterviewState, runtime: Runtime[InterviewContext]) -> dict[str, Any]:
    """Probe with the best follow-up: dig into what was raised, or into a gap the rubric has not seen."""
    ctx = runtime.context
    choices = followup_choices(ctx, state, k=1)
    if not choices:
        return _advance(state, ctx)
    choice = choices[0]
    turn = interviewer_turn(
        ctx,
        state,
        plan_for(ctx, state, "followup", choice.question),
        topic=choice.topic,
        source=choice.source,
    )
    return {
        "turns": [turn],
        "asked": [choice.unit_id],
        "followups_in_phase": state["followups_in_phase"] + 1,
        "last_input": None,
    }


def give_hint(state: InterviewState, runtime: Runtime[InterviewContext]) -> dict[str, Any]:
    """Give the next hint for the pending question on this problem, mildest first."""
    ctx = runtime.context
    phase = state["phase"]
    used = hints_given(state["turns"])
    pending = pending_question(state["turns"], state["asked"])
    hints = hints_for(ctx.kb, state["problem"], phase, pending) if phase in PHASES else []
    if used >= len(hints):
        # An empty hint tells the engine the hints are used up.
        turn = interviewer_turn(ctx, state, plan_for(ctx, state, "hint", ""))
        return {"turns": [turn], "last_input": None}
    turn = interviewer_turn(ctx, state, plan_for(ctx, state, "hint", hints[used]))
    in_phase = state["hints_used"].get(phase, 0)
    return {"turns": [turn], "hints_used": {**state["hints_used"], phase: in_phase + 1}, "last_input": None}


def spring_curveball(state: InterviewState, runtime: Runtime[InterviewContext]) -> dict[str, Any]:
    """Change a requirement, once per interview, as the problem note says."""
    ctx = runtime.context
    curveball = ctx.kb.problem_note(state["problem"]).curveball
    turn = interviewer_turn(
        ctx,
        state,
        plan_for(ctx, state, "curveball", curveball.change),
        topic=curveball.topics[0],
        source=ctx.kb.problems[state["problem"]].source,
    )
    return {"turns": [turn], "curveball_done": True, "last_input": None}


def advance_phase(state: InterviewState, runtime: Runtime[InterviewContext]) -> dict[str, Any]:
    """Close the current phase (grade it, note its time) and open the next one, or the wrap-up."""
    return _advance(state, runtime.context)


def _advance(state: InterviewState, ctx: InterviewContext) -> dict[str, Any]:
    phase = state["phase"]
    results = dict(state["phase_results"])
    if phase in PHASES:
        results[phase] = phase_result(ctx, state, phase)
    upcoming = next_phase(phase)
    moved: InterviewState = {
        **state,
        "phase": upcoming,
        "phase_started_s": state["clock_s"],
        "followups_in_phase": 0,
    }
    if upcoming == WRAP_UP:
        turn = interviewer_turn(ctx, moved, plan_for(ctx, moved, "wrap_up", ""), phase=WRAP_UP)
    else:
        opening = ctx.kb.phase_note(upcoming).opening_questions[0]
        turn = interviewer_turn(
            ctx, moved, plan_for(ctx, moved, "opening", opening, previous_phase_title=phase), phase=upcoming
        )
    return {
        "phase": upcoming,
        "phase_started_s": state["clock_s"],
        "followups_in_phase": 0,
        "phase_results": results,
        "turns": [turn],
        "last_input": None,
    }
