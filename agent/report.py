"""The final report: score and verdict, per-phase scores and time, strengths, gaps, topics to study."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from agent.content.loader import KnowledgeBase
from agent.grading.scale import HIGHEST, NO_SIGNAL, is_solid, overall_score, verdict_for
from agent.ids import PHASE_MINUTES, PHASE_TITLES, PHASES
from agent.state import PhaseResult
from agent.study import solid_for_problem


def not_assessed(phase: str, budget_minutes: float, minutes: float = 0.0) -> PhaseResult:
    """The result of a phase the candidate never answered: not assessed, no score."""
    return PhaseResult(
        phase=phase,
        score=None,
        assessed=False,
        minutes=minutes,
        budget_minutes=budget_minutes,
        answers=0,
        criteria=[],
        engine="none",
    )


def _assessed(result: PhaseResult) -> bool:
    # Checkpoints written before phases could be unassessed have no "assessed" key.
    return bool(result.get("assessed", result["score"] is not None))


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
    """Assemble the report in the shape docs/interfaces.md gives (score, verdict, phases, ...)."""
    budgets = {p: float(m) for p, m in PHASE_MINUTES[length].items()}
    results = {p: phase_results.get(p) or not_assessed(p, budgets[p]) for p in PHASES}
    overall = overall_score({p: r["score"] for p, r in results.items()}, budgets)
    score = None if overall is None else round(overall, 2)
    assessed = sum(_assessed(r) for r in results.values())
    engines = sorted({r["engine"] for r in results.values() if _assessed(r)})
    critical = kb.problem_note(problem).critical_topics
    missed = [t for t in critical if t not in topics_seen]
    strengths, gaps = _strengths_and_gaps(kb, problem, results)
    return {
        "score": score,
        "verdict": verdict_for(score, level, assessed),
        "assessed_phases": assessed,
        "level": level,
        "phases": [
            {
                "phase": p,
                "title": PHASE_TITLES[p],
                "score": None if r["score"] is None else round(r["score"], 2),
                "assessed": _assessed(r),
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
                # Knowledge-relative, so a saved report names no path of the machine it was made
                # on; report_with_titles resolves it against the knowledge folder in use.
                "source": kb.topics[t].source,
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
            if is_solid(grade["score"]):
                strengths.append(
                    (grade["score"] * criterion.weight, {**item, "evidence": grade["evidence"][:1]})
                )
            else:
                weight = criterion.weight * (HIGHEST - (grade["score"] or NO_SIGNAL))
                solid = solid_for_problem(kb, problem, phase, criterion)
                gaps.append((weight, {**item, "what_solid_looks_like": solid}))
    strengths.sort(key=lambda s: -s[0])
    gaps.sort(key=lambda g: -g[0])
    return [s for _, s in strengths[:5]], [g for _, g in gaps[:6]]


def report_with_titles(report: dict[str, Any], kb: KnowledgeBase, problem: str) -> dict[str, Any]:
    """The report as shown: criteria in docs/interfaces.md's shape (insufficient evidence as score 1) and
    titled, and each study note's file resolved in the knowledge folder in use."""
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
    study = [{**s, "note": str(_note_file(kb, s))} for s in report.get("study", [])]
    return {**report, "phases": phases, "study": study}


def _note_file(kb: KnowledgeBase, study: dict[str, Any]) -> Path:
    """A study note's file: by its knowledge-relative source (reports saved before sources were
    stored carry the absolute path instead)."""
    if study.get("source"):
        return (kb.knowledge_dir / str(study["source"])).resolve()
    return Path(study["note"]).resolve()
