"""Helpers shared by the nodes: the clock, phase order, turns and clarifying questions."""

from __future__ import annotations

import numpy as np

from agent.clarifications import MAX_QUESTIONS, match
from agent.context import InterviewContext
from agent.engines.base import TurnPlan
from agent.ids import PHASE_MINUTES, PHASE_TITLES, PHASES, WRAP_UP
from agent.policy import turn_salt
from agent.state import InterviewerKind, InterviewState, Turn


def next_phase(phase: str) -> str:
    """The phase after `phase`: the next of the seven, then wrap_up."""
    if phase == WRAP_UP:
        return "done"
    i = PHASES.index(phase)
    return PHASES[i + 1] if i + 1 < len(PHASES) else WRAP_UP


def phase_budget_s(state: InterviewState) -> float:
    """The current phase's time budget in seconds."""
    return PHASE_MINUTES[state["length"]].get(state["phase"], 0) * 60.0


def phase_elapsed_s(state: InterviewState) -> float:
    """Seconds spent in the current phase so far."""
    return state["clock_s"] - state["phase_started_s"]


def phase_answers(state: InterviewState, phase: str | None = None) -> list[str]:
    """The candidate's answers in a phase (default: the current one)."""
    phase = phase or state["phase"]
    return [
        t["text"]
        for t in state["turns"]
        if t["role"] == "candidate" and t["phase"] == phase and t["kind"] == "answer"
    ]


def last_candidate_text(state: InterviewState) -> str | None:
    """The candidate's latest message, if any."""
    for turn in reversed(state["turns"]):
        if turn["role"] == "candidate":
            return turn["text"]
    return None


def interviewer_turn(
    ctx: InterviewContext,
    state: InterviewState,
    plan: TurnPlan,
    *,
    topic: str | None = None,
    source: str | None = None,
    phase: str | None = None,
) -> Turn:
    """Have the engine write a message and wrap it as a turn."""
    from langgraph.config import get_stream_writer

    writer = get_stream_writer()
    text = ctx.engine.say(plan, on_token=lambda token: writer({"token": token, "kind": plan.kind}))
    turn = Turn(
        role="interviewer",
        phase=phase or plan.phase,
        text=text,
        kind=plan.kind,
        at_s=state["clock_s"],
        engine=ctx.engine.name,
    )
    if topic:
        turn["topic"] = topic
    # The facts this message gave, so the app can list what the candidate has learned (F4).
    facts = list(dict.fromkeys(answer for _, answer in plan.answers_to_questions if answer))
    if facts:
        turn["facts"] = facts
    if source:
        turn["source"] = source
    return turn


def plan_for(
    ctx: InterviewContext, state: InterviewState, kind: InterviewerKind, question: str, **extra: object
) -> TurnPlan:
    """A turn plan with the fields every turn shares filled in."""
    phase = state["phase"]
    return TurnPlan(
        kind=kind,
        phase=phase,
        phase_title=PHASE_TITLES.get(phase, "Wrap-up"),
        problem_title=ctx.kb.problem_note(state["problem"]).title,
        question=question,
        last_answer=last_candidate_text(state),
        answers_to_questions=answer_clarifying_questions(ctx, state),
        # Seeded by the session: another practice of the problem is worded differently, a replay of
        # this session (same id) is worded the same.
        salt=turn_salt(state["session_id"], len(state["turns"])),
        **extra,  # type: ignore[arg-type]
    )


def answer_clarifying_questions(ctx: InterviewContext, state: InterviewState) -> list[tuple[str, str]]:
    """Answer the questions in the candidate's last message from the problem note's clarifications.

    In every phase: a candidate who asks about the label delay while designing the data pipeline
    deserves the fact as much as one who asked it first. Unknown facts get an empty answer (the
    engine then asks for an assumption).
    """
    text = last_candidate_text(state)
    if not text or "?" not in text:
        return []
    sentences, vectors = ctx.sentences(text)
    asked = [(s.text, v) for s, v in zip(sentences, vectors, strict=True) if s.question][:MAX_QUESTIONS]
    if not asked:
        return []
    note = ctx.kb.problem_note(state["problem"])
    chosen = match(
        [q for q, _ in asked],
        np.stack([v for _, v in asked]),
        note.clarifications,
        ctx.grader.statement_vectors,
        ctx.clarify,
    )
    return [
        (question, "" if index is None else note.clarifications[index].answer)
        for (question, _), index in zip(asked, chosen, strict=True)
    ]
