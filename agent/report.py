"""The final report: score and verdict, per-phase scores and time, strengths, gaps, topics to study."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agent.content.loader import KnowledgeBase
from agent.ids import PHASE_MINUTES, PHASE_TITLES, PHASES, VERDICTS
from agent.state import PhaseResult

#: Lowest overall score for "lean no hire", "lean hire" and "strong hire" at senior level.
VERDICT_THRESHOLDS = (2.0, 2.7, 3.3)
#: The bar moves with the level the candidate targets.
LEVEL_SHIFT = {"junior": -0.3, "senior": 0.0, "staff": 0.3}


def verdict_for(score: float, level: str) -> str:
    """Map an overall score (1-4) to SPEC's verdict for the target level."""
    shift = LEVEL_SHIFT.get(level, 0.0)
    rank = sum(score >= t + shift for t in VERDICT_THRESHOLDS)
    return VERDICTS[rank]


def overall_score(phase_scores: Mapping[str, float], length: int = 45) -> float:
    """Phase scores averaged with the phases' time budgets as weights (a phase never reached scores 1)."""
    budgets = PHASE_MINUTES[45 if length not in PHASE_MINUTES else length]
    total = sum(budgets.values())
    return sum(budgets[p] * phase_scores.get(p, 1.0) for p in PHASES) / total


def unreached_phase(phase: str, length: int) -> PhaseResult:
    """The result of a phase the interview ended before: no signal."""
    return PhaseResult(
        phase=phase,
        score=1.0,
        minutes=0.0,
        budget_minutes=float(PHASE_MINUTES[length][phase]),
        answers=0,
        criteria=[],
        engine="none",
    )


def build_report(
    kb: KnowledgeBase,
    *,
    problem: str,
    level: str,
    length: int,
    phase_results: Mapping[str, PhaseResult],
    topics_seen: Sequence[str],
    backend: str,
    usage: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble the report in SPEC's shape (score, verdict, phases, missed_topics, backend) and more."""
    results = {p: phase_results.get(p) or unreached_phase(p, length) for p in PHASES}
    score = round(overall_score({p: r["score"] for p, r in results.items()}, length), 2)
    engines = sorted({r["engine"] for r in results.values() if r["engine"] != "none"})
    critical = kb.problem_note(problem).critical_topics
    missed = [t for t in critical if t not in topics_seen]
    strengths, gaps = _strengths_and_gaps(kb, problem, results)
    return {
        "score": score,
        "verdict": verdict_for(score, level),
        "level": level,
        "phases": [
            {
                "phase": p,
                "title": PHASE_TITLES[p],
                "score": round(r["score"], 2),
                "minutes": round(r["minutes"], 1),
                "budget_minutes": r["budget_minutes"],
                "answers": r["answers"],
                "engine": r["engine"],
                "criteria": r["criteria"],
            }
            for p, r in results.items()
        ],
        "strengths": strengths,
        "gaps": gaps,
        "missed_topics": missed,
        "study": [
            {
                "topic": t,
                "title": kb.topic_note(t).title,
                "summary": kb.topic_note(t).summary,
                "source": kb.topics[t].source,
                "note": str(kb.topics[t].path.resolve()),
            }
            for t in missed
        ],
        "topics_covered": [t for t in topics_seen],
        "backend": backend,
        "engines": engines,
        "usage": dict(usage or {}),
    }


def _strengths_and_gaps(
    kb: KnowledgeBase, problem: str, results: Mapping[str, PhaseResult]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    strengths: list[tuple[float, dict[str, Any]]] = []
    gaps: list[tuple[float, dict[str, Any]]] = []
    for phase, result in results.items():
        rubric = {c.id: c for c in kb.rubric_for(problem, phase)}
        for grade in result["criteria"]:
            criterion = rubric.get(grade["id"])
            if criterion is None:
                continue
            item = {
                "phase": phase,
                "criterion": criterion.id,
                "title": criterion.title,
                "score": grade["score"],
            }
            if grade["score"] is not None and grade["score"] >= 3:
                strengths.append(
                    (grade["score"] * criterion.weight, {**item, "evidence": grade["evidence"][:1]})
                )
            elif grade["score"] is None or grade["score"] <= 2:
                weight = criterion.weight * (4 - (grade["score"] or 1))
                gaps.append((weight, {**item, "what_solid_looks_like": criterion.levels[3]}))
    strengths.sort(key=lambda s: -s[0])
    gaps.sort(key=lambda g: -g[0])
    return [s for _, s in strengths[:5]], [g for _, g in gaps[:6]]


def report_with_titles(report: dict[str, Any], kb: KnowledgeBase, problem: str) -> dict[str, Any]:
    """The report with criteria in SPEC's shape (insufficient evidence shown as score 1) and titled."""
    from agent.grading.models import criterion_json

    phases = []
    for phase in report.get("phases", []):
        rubric = {c.id: c for c in kb.rubric_for(problem, phase["phase"])}
        criteria = [
            criterion_json(c, rubric[c["id"]].title, rubric[c["id"]].weight)
            if c["id"] in rubric
            else criterion_json(c)
            for c in phase["criteria"]
        ]
        phases.append({**phase, "criteria": criteria})
    return {**report, "phases": phases}
