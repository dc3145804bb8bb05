"""Nodes and helpers that grade: each answer as it arrives, each phase as it closes, and the report."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent.context import InterviewContext
from agent.followups import uncovered_topics
from agent.grading.models import AnswerGrade
from agent.ids import PHASE_MINUTES, PHASES, WRAP_UP
from agent.nodes.common import interviewer_turn, phase_answers, plan_for
from agent.report import build_report
from agent.state import GradeRecord, InterviewState, PhaseResult


def _weights(ctx: InterviewContext, state: InterviewState, phase: str) -> dict[str, float]:
    return {c.id: c.weight for c in ctx.kb.rubric_for(state["problem"], phase)}


def grade_answer(state: InterviewState, runtime: Runtime[InterviewContext]) -> dict[str, Any]:
    """Grade the latest answer against the phase rubric and note the topics it covered."""
    ctx = runtime.context
    phase = state["phase"]
    text = state["turns"][-1]["text"]
    criteria = ctx.kb.rubric_for(state["problem"], phase)
    grade = ctx.engine.grade_answer(state["problem"], phase, criteria, text)
    sentences, vectors = ctx.sentences(text)
    seen = list(state["topics_seen"])
    seen += [t for t in ctx.topics.seen(sentences, vectors) if t not in seen]
    record = GradeRecord(
        phase=phase,
        turn=len(state["turns"]) - 1,
        criteria=[c.model_dump() for c in grade.criteria],
        engine=grade.engine,
        flags=grade.flags,
        score=round(grade.score(_weights(ctx, state, phase)), 3),
    )
    return {"grades": [record], "topics_seen": seen}


def coverage(state: InterviewState, phase: str | None = None) -> dict[str, float | None]:
    """Best score so far per criterion in a phase (None: no evidence yet). The TUI shows this."""
    phase = phase or state["phase"]
    best: dict[str, float | None] = {}
    for record in state["grades"]:
        if record["phase"] != phase:
            continue
        for criterion in record["criteria"]:
            score = criterion["score"]
            previous = best.get(criterion["id"])
            best[criterion["id"]] = score if previous is None else max(previous, score or 0)
    return best


def gap_topics(ctx: InterviewContext, state: InterviewState) -> list[str]:
    """Topics of the phase's criteria that have no solid evidence yet, heaviest criteria first."""
    return uncovered_topics(ctx.kb.rubric_for(state["problem"], state["phase"]), coverage(state))


#: Share of a phase's rubric weight that must have solid evidence before the interviewer moves on.
EXIT_COVERAGE = 0.75


def exit_criteria_met(ctx: InterviewContext, state: InterviewState) -> bool:
    """Criteria carrying at least 75% of the phase's weight have solid evidence (>= 3).

    A share of the weight rather than "every heavy criterion": with a problem overlay the weights
    spread thinner, and a fixed weight cut-off once left a single criterion, so one good answer
    ended the phase before the candidate could show the rest (found by the eval suite).
    """
    seen = coverage(state)
    criteria = ctx.kb.rubric_for(state["problem"], state["phase"])
    total = sum(c.weight for c in criteria)
    solid = sum(c.weight for c in criteria if (seen.get(c.id) or 0) >= 3)
    return total > 0 and solid >= EXIT_COVERAGE * total


def phase_result(ctx: InterviewContext, state: InterviewState, phase: str) -> PhaseResult:
    """Grade a closing phase from all its answers and record the time it took."""
    criteria = ctx.kb.rubric_for(state["problem"], phase)
    answers = phase_answers(state, phase)
    budget = float(PHASE_MINUTES[state["length"]][phase])
    minutes = (state["clock_s"] - state["phase_started_s"]) / 60.0
    if not answers:
        return PhaseResult(
            phase=phase,
            score=1.0,
            minutes=minutes,
            budget_minutes=budget,
            answers=0,
            criteria=[],
            engine="none",
        )
    answer_grades = [
        AnswerGrade(phase=phase, criteria=r["criteria"], engine=r["engine"], flags=r["flags"])  # type: ignore[arg-type]
        for r in state["grades"]
        if r["phase"] == phase
    ]
    grade = ctx.engine.grade_phase(state["problem"], phase, criteria, answers, answer_grades)
    return PhaseResult(
        phase=phase,
        score=round(grade.score({c.id: c.weight for c in criteria}), 3),
        minutes=minutes,
        budget_minutes=budget,
        answers=len(answers),
        criteria=[c.model_dump() for c in grade.criteria],
        engine=grade.engine,
    )


def finish(state: InterviewState, runtime: Runtime[InterviewContext]) -> dict[str, Any]:
    """Close the interview: grade the phase in progress, build the report and say goodbye."""
    ctx = runtime.context
    results = dict(state["phase_results"])
    if state["phase"] in PHASES and state["phase"] not in results:
        results[state["phase"]] = phase_result(ctx, state, state["phase"])
    engines = sorted({r["engine"] for r in results.values() if r["engine"] != "none"})
    report = build_report(
        ctx.kb,
        problem=state["problem"],
        level=state["level"],
        length=state["length"],
        phase_results=results,
        topics_seen=state["topics_seen"],
        backend=engines[0] if len(engines) == 1 else ("mixed" if engines else ctx.engine.name),
        usage=ctx.engine.usage.as_dict(),
    )
    closing_state: InterviewState = {**state, "phase": WRAP_UP}
    turn = interviewer_turn(ctx, closing_state, plan_for(ctx, closing_state, "closing", ""), phase=WRAP_UP)
    return {"phase": "done", "phase_results": results, "report": report, "turns": [turn], "last_input": None}
