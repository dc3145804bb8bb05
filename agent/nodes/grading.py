"""Nodes and helpers that grade: each answer as it arrives, each phase as it closes, and the report."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent import policy
from agent.context import InterviewContext
from agent.grading.models import AnswerGrade, CriterionGrade
from agent.grading.scale import aggregate_phase, phase_engine
from agent.ids import PHASE_MINUTES, PHASES, WRAP_UP
from agent.nodes.common import (
    interviewer_turn,
    phase_answers,
    phase_budget_s,
    phase_elapsed_s,
    plan_for,
)
from agent.report import build_report, not_assessed
from agent.report_model import to_json
from agent.state import GradeRecord, InterviewState, PhaseResult


def _weights(ctx: InterviewContext, state: InterviewState, phase: str) -> dict[str, float]:
    return {c.id: c.weight for c in ctx.kb.rubric_for(state["problem"], phase)}


def grade_answer(state: InterviewState, runtime: Runtime[InterviewContext]) -> dict[str, Any]:
    """Grade the latest answer, note the topics it raised and covered well, and any wrong claim."""
    ctx = runtime.context
    phase = state["phase"]
    text = state["turns"][-1]["text"]
    criteria = ctx.kb.rubric_for(state["problem"], phase)
    grade = ctx.engine.grade_answer(state["problem"], phase, criteria, text)
    sentences, vectors = ctx.sentences(text)
    raised = ctx.topics.seen(sentences, vectors)
    seen = list(state["topics_seen"])
    seen += [t for t in raised if t not in seen]
    well = policy.covered_well(criteria, grade.criteria, grade.flags, raised)
    covered = list(state.get("topics_covered", []))
    covered += [t for t in well if t not in covered]
    # Red flags come from the offline scorer whichever engine grades: negation-aware and deterministic.
    claims = policy.asserted_claims(criteria, ctx.grader.features(phase, criteria, text, state["problem"]))
    record = GradeRecord(
        phase=phase,
        turn=len(state["turns"]) - 1,
        criteria=[c.model_dump() for c in grade.criteria],
        engine=grade.engine,
        flags=grade.flags,
        score=round(grade.score(_weights(ctx, state, phase)), 3),
        topics=raised,
        covered=well,
        claims=[c.as_json() for c in claims],
    )
    return {"grades": [record], "topics_seen": seen, "topics_covered": covered}


def _answer_grades(state: InterviewState, phase: str) -> list[AnswerGrade]:
    return [
        AnswerGrade(
            phase=phase,
            criteria=[CriterionGrade.model_validate(c) for c in r["criteria"]],
            engine=r["engine"],
            flags=r["flags"],
        )
        for r in state["grades"]
        if r["phase"] == phase
    ]


def phase_grade(ctx: InterviewContext, state: InterviewState, phase: str) -> AnswerGrade:
    """The phase's grade so far, from all its answers by the scale's one aggregation rule."""
    criteria = ctx.kb.rubric_for(state["problem"], phase)
    grades = _answer_grades(state, phase)
    engine = phase_engine((g.engine for g in grades), ctx.engine.name)
    return aggregate_phase(phase, [c.id for c in criteria], grades, engine)


def coverage(
    ctx: InterviewContext, state: InterviewState, phase: str | None = None
) -> dict[str, float | None]:
    """Per criterion of a phase, its grade so far (None: no evidence yet). The side panel shows this."""
    phase = phase or state["phase"]
    return policy.coverage(ctx.kb.rubric_for(state["problem"], phase), _answer_grades(state, phase), phase)


def gaps(ctx: InterviewContext, state: InterviewState) -> dict[str, policy.Gap]:
    """Topics of the phase's criteria that have no solid evidence yet, heaviest criteria first."""
    return policy.gaps(ctx.kb.rubric_for(state["problem"], state["phase"]), coverage(ctx, state))


def uncovered_criteria(ctx: InterviewContext, state: InterviewState) -> list[tuple[str, str]]:
    """The phase's criteria with no solid evidence yet, heaviest first, as (id, title)."""
    criteria = policy.uncovered(ctx.kb.rubric_for(state["problem"], state["phase"]), coverage(ctx, state))
    return [(c.id, c.title) for c in criteria]


def phase_result(ctx: InterviewContext, state: InterviewState, phase: str) -> PhaseResult:
    """A closing phase's grade over all its answers, and the time it took; unanswered: not assessed."""
    answers = phase_answers(state, phase)
    budget = float(PHASE_MINUTES[state["length"]][phase])
    minutes = (state["clock_s"] - state["phase_started_s"]) / 60.0
    if not answers:
        return not_assessed(phase, budget, minutes)
    grade = phase_grade(ctx, state, phase)
    return PhaseResult(
        phase=phase,
        score=round(grade.score(_weights(ctx, state, phase)), 3),
        assessed=True,
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
    report = build_report(
        ctx.kb,
        problem=state["problem"],
        level=state["level"],
        length=state["length"],
        phase_results=results,
        topics_seen=state["topics_seen"],
        backend=phase_engine(
            (r["engine"] for r in results.values() if r.get("assessed", True)), ctx.engine.name
        ),
        usage=ctx.engine.usage.as_dict(),
    )
    closing_state: InterviewState = {**state, "phase": WRAP_UP}
    turn = interviewer_turn(ctx, closing_state, plan_for(ctx, closing_state, "closing", ""), phase=WRAP_UP)
    # The checkpoint holds JSON: the report is read back with Report.model_validate (Interview.report).
    return {
        "phase": "done",
        "phase_results": results,
        "report": to_json(report),
        "turns": [turn],
        "last_input": None,
    }


def move_on_reason(ctx: InterviewContext, state: InterviewState) -> policy.MoveOn | None:
    """Why the interviewer should leave the current phase now (policy.move_on_reason on the state)."""
    return policy.move_on_reason(
        elapsed_s=phase_elapsed_s(state),
        budget_s=phase_budget_s(state),
        followups=state["followups_in_phase"],
        max_followups=ctx.max_followups,
        criteria=ctx.kb.rubric_for(state["problem"], state["phase"]),
        best=coverage(ctx, state),
    )


def pending_claims(state: InterviewState) -> list[policy.Claim]:
    """The red flags the latest answer asserted and nobody has challenged yet, to challenge now."""
    if not state["grades"]:
        return []
    latest = state["grades"][-1]
    claims = [
        policy.Claim(str(c["criterion"]), str(c["statement"]), str(c["quote"]), c.get("topic"))
        for c in latest.get("claims", [])
    ]
    return policy.claims_to_challenge(claims, state.get("challenged", []))
