"""The study guide, the exports that carry it and "discuss": from grade data, in the problem's terms."""

from __future__ import annotations

from typing import Any

import pytest

from agent.content.loader import KnowledgeBase
from agent.discuss import NoteHit, discuss
from agent.export import escape_markdown, report_html, report_markdown
from agent.grading.scale import SOLID, calibrated, load_calibration, next_verdict
from agent.ids import PHASE_MINUTES, PHASES
from agent.report_model import ShownReport
from agent.study import solid_for_problem, study_guide

FRAUD = "payment_fraud_detection"


def _criteria(kb: KnowledgeBase, phase: str, scores: dict[str, float | None]) -> list[dict[str, Any]]:
    """Criteria as a shown report has them (insufficient evidence: score 1, flagged)."""
    return [
        {
            "id": c.id,
            "score": scores.get(c.id) or 1.0,
            "evidence": ["I'd use accuracy <b>here</b>"] if scores.get(c.id) else [],
            "rationale": "Addressed with reasons." if scores.get(c.id) else "Not addressed.",
            "insufficient_evidence": scores.get(c.id) is None,
        }
        for c in kb.rubric_for(FRAUD, phase)
    ]


def _report(kb: KnowledgeBase, scores: dict[str, float | None], score: float) -> ShownReport:
    """A report of the shape report_with_titles shows: `scores` per phase (None: not assessed)."""
    phases = []
    for phase in PHASES:
        value = scores.get(phase)
        ids = {c.id: value for c in kb.rubric_for(FRAUD, phase)} if value is not None else {}
        phases.append(
            {
                "phase": phase,
                "title": phase,
                "score": value,
                "assessed": value is not None,
                "minutes": 1.0,
                "budget_minutes": float(PHASE_MINUTES[45][phase]),
                "answers": int(value is not None),
                "engine": "offline",
                "criteria": _criteria(kb, phase, ids) if value is not None else [],
            }
        )
    return ShownReport.model_validate(
        {
            "score": score,
            "verdict": "lean no hire",
            "assessed_phases": sum(value is not None for value in scores.values()),
            "level": "senior",
            "phases": phases,
            "strengths": [],
            "gaps": [],
            "missed_topics": ["calibration"],
            "study": [],
            "topics_covered": [],
            "backend": "offline",
            "engines": ["offline"],
            "usage": {},
        }
    )


def _grade(turn: int, phase: str, criteria: dict[str, float | None], score: float) -> dict[str, Any]:
    return {
        "phase": phase,
        "turn": turn,
        "criteria": [{"id": k, "score": v, "evidence": [], "rationale": ""} for k, v in criteria.items()],
        "engine": "offline",
        "flags": [],
        "score": score,
    }


def _turn(role: str, phase: str, text: str, kind: str) -> dict[str, Any]:
    return {"role": role, "phase": phase, "text": text, "kind": kind, "at_s": 0.0}


def test_each_answer_shows_what_it_earned_and_which_criteria_it_raised(kb: KnowledgeBase) -> None:
    phase = "clarify_requirements"
    turns = [
        _turn("interviewer", phase, "What matters to the business?", "opening"),
        _turn("candidate", phase, "Fraud losses under 0.1% of volume.", "answer"),
        _turn("interviewer", phase, "And the scale?", "followup"),
        _turn("candidate", phase, "About 40M a day; also losses matter.", "answer"),
        _turn("interviewer", phase, "Anything else?", "followup"),
        _turn("candidate", phase, "", "skip"),
    ]
    grades = [
        _grade(1, phase, {"business_goal": 3.0, "scale_and_constraints": None}, 2.2),
        _grade(3, phase, {"business_goal": 2.0, "scale_and_constraints": 3.0}, 2.4),
    ]
    report = _report(kb, {phase: 2.5}, 2.5)
    guide = study_guide(kb, FRAUD, report, turns, grades)
    first, second, skip = guide.phases[0].exchanges
    assert (first.question, first.score) == ("What matters to the business?", 2.2)
    assert [(m.criterion, m.before, m.after) for m in first.moved] == [("business_goal", None, 3.0)]
    # A lower grade on an already shown criterion moves nothing: the phase keeps the best.
    assert [(m.criterion, m.before, m.after) for m in second.moved] == [("scale_and_constraints", None, 3.0)]
    assert not skip.answered and skip.reply == "(moves on)" and skip.score is None
    # Every phase carries the problem's model answer; a phase never reached has no exchanges.
    assert guide.phases[0].model_answer == kb.problem_note(FRAUD).model_answers[phase]
    assert guide.phases[-1].exchanges == () and not guide.phases[-1].assessed


def test_next_band_names_the_levers_that_reach_it(kb: KnowledgeBase) -> None:
    scores: dict[str, float | None] = {p: 2.0 for p in PHASES}
    scores["monitoring"] = None
    report = _report(kb, scores, 2.0)
    step = study_guide(kb, FRAUD, report, [], []).next_band
    assert step is not None and step.verdict == "lean hire" and step.target == 2.7
    assert step.needed == pytest.approx(0.7)
    gains = [lever.gain for lever in step.levers]
    assert gains == sorted(gains, reverse=True) and len(gains) <= 4
    # The arithmetic of the one scale: budget share x how much the phase score rises with the
    # criterion at solid (weight x distance to solid, through the engine's calibration line, kept
    # within the criteria's range: here every other criterion is at 2).
    assessed = sum(PHASE_MINUTES[45][p] for p in PHASES if p != "monitoring")
    top = next(lever for lever in step.levers if lever.criterion is not None)
    weight = next(c.weight for c in kb.rubric_for(FRAUD, top.phase) if c.id == top.criterion)
    line = load_calibration().engines.get("offline")
    raised = calibrated(2.0 + weight * (SOLID - 2.0), line, 2.0, SOLID)
    assert top.gain == pytest.approx(PHASE_MINUTES[45][top.phase] / assessed * (raised - 2.0))
    # Answering the phase that was never reached, at solid, brings it into the mean.
    unanswered = next(lever for lever in step.levers if lever.criterion is None)
    budget = PHASE_MINUTES[45]["monitoring"]
    assert unanswered.phase == "monitoring"
    assert unanswered.gain == pytest.approx((2.0 * assessed + SOLID * budget) / (assessed + budget) - 2.0)
    assert not step.reached  # four criteria at solid do not add 0.7 overall
    assert next_verdict(3.4, "senior") is None and next_verdict(3.4, "staff") == (
        "strong hire",
        pytest.approx(3.6),
    )


def test_solid_is_phrased_for_the_problem(kb: KnowledgeBase) -> None:
    rubric = {c.id: c for c in kb.rubric_for(FRAUD, "evaluation")}
    generic = rubric["online_experimentation"]
    # The generic anchor asks for a user A/B test; for fraud the notes' own design is shadow mode.
    assert "randomisation" in generic.levels[3]
    assert "shadow mode" in solid_for_problem(kb, FRAUD, "evaluation", generic)
    added = rubric["matured_backtest_and_champion_challenger"]
    assert solid_for_problem(kb, FRAUD, "evaluation", added) == added.levels[3]


def test_exports_carry_the_conversation_the_model_answers_and_escape_candidate_text(
    kb: KnowledgeBase,
) -> None:
    phase = "clarify_requirements"
    turns = [
        _turn("interviewer", phase, "What matters?", "opening"),
        _turn("candidate", phase, "Losses **matter** [click](http://x) <script>", "answer"),
    ]
    report = _report(kb, {phase: 2.0, "frame_problem": 2.0, "evaluation": 2.0, "monitoring": 2.0}, 2.0)
    guide = study_guide(kb, FRAUD, report, turns, [_grade(1, phase, {"business_goal": 2.0}, 2.0)])
    markdown = report_markdown(report, problem_title="Fraud", session_id="s1", study=guide)
    assert "## What would have moved the verdict up: lean hire" in markdown
    assert "## The interview, answer by answer" in markdown
    assert escape_markdown("Losses **matter** [click](http://x) <script>") in markdown
    assert "<script>" not in markdown and "(none → 2)" in markdown
    first_line = kb.problem_note(FRAUD).model_answers[phase].strip().splitlines()[0]
    assert f"> {first_line}" in markdown
    assert markdown.count("_Not reached in this interview._") == len(PHASES) - 1
    page = report_html(report, problem_title="Fraud", session_id="s1", study=guide)
    assert "&lt;script&gt;" in page and "<script>" not in page and "A model answer" in page


def _search(question: str) -> list[NoteHit]:
    return [NoteHit("Calibrate with isotonic regression after downsampling.", "topics/calibration.md")]


def test_discuss_answers_about_a_criterion_from_the_grade(kb: KnowledgeBase) -> None:
    report = _report(kb, {"evaluation": 2.0}, 2.0)
    reply = discuss("why did I only get a 2 on the online A/B test?", report, kb, FRAUD, _search)
    assert "**Designs an online A/B test that decides the launch**" in reply
    assert "2 (weak)" in reply and "Why: Addressed with reasons." in reply
    assert escape_markdown("I'd use accuracy <b>here</b>") in reply and "<b>" not in reply
    assert "shadow mode" in reply  # solid, for this problem
    assert "(topics/calibration.md)" in reply


def test_discuss_explains_a_phase_and_says_when_it_was_not_assessed(kb: KnowledgeBase) -> None:
    report = _report(kb, {"evaluation": 2.0}, 2.0)
    phase_reply = discuss("what was wrong with my evaluation?", report, kb, FRAUD, _search)
    assert "**Offline and online evaluation**: 2.00 of 4" in phase_reply and "The weakest" in phase_reply
    unassessed = discuss("how was my monitoring?", report, kb, FRAUD, _search)
    assert "was not assessed" in unassessed
    other = discuss("how should I have handled calibration?", report, kb, FRAUD, _search)
    assert "From the notes:" in other and "of 4" not in other


def test_without_a_verdict_the_report_says_why_instead_of_a_next_band(kb: KnowledgeBase) -> None:
    report = _report(kb, {"clarify_requirements": 3.1}, 3.1).model_copy(update={"verdict": "incomplete"})
    guide = study_guide(kb, FRAUD, report, [], [])
    assert guide.next_band is None
    markdown = report_markdown(report, problem_title="Fraud", session_id="s1", study=guide)
    assert "No verdict: 1 of 7 phases were assessed" in markdown and "moved the verdict" not in markdown
