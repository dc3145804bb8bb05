"""The final report: score and verdict, per-phase scores and time, strengths, gaps, topics to study."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel

from agent.content.loader import KnowledgeBase
from agent.grading.models import CriterionGrade
from agent.grading.scale import HIGHEST, NO_SIGNAL, is_solid, overall_score, verdict_for
from agent.ids import PHASE_MINUTES, PHASE_TITLES, PHASES, Length, Level
from agent.report_model import CriterionView, Gap, PhaseEntry, Report, ShownReport, Strength, StudyNote
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
    level: Level,
    length: Length,
    phase_results: Mapping[str, PhaseResult],
    topics_seen: Sequence[str],
    backend: str,
    usage: Mapping[str, int | float] | None = None,
) -> Report:
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
    return Report(
        score=score,
        verdict=verdict_for(score, level, assessed),
        assessed_phases=assessed,
        level=level,
        phases=[
            PhaseEntry[CriterionGrade](
                phase=p,
                title=PHASE_TITLES[p],
                score=None if r["score"] is None else round(r["score"], 2),
                assessed=_assessed(r),
                minutes=round(r["minutes"], 1),
                budget_minutes=r["budget_minutes"],
                answers=r["answers"],
                engine=r["engine"],
                criteria=[CriterionGrade.model_validate(c) for c in r["criteria"]],
            )
            for p, r in results.items()
        ],
        strengths=strengths,
        gaps=gaps,
        missed_topics=missed,
        study=[
            StudyNote(
                topic=t,
                title=kb.topic_note(t).title,
                summary=kb.topic_note(t).summary,
                # Knowledge-relative, so a saved report names no path of the machine it was made
                # on; report_with_titles resolves it against the knowledge folder in use.
                source=kb.topics[t].source,
            )
            for t in missed
        ],
        topics_covered=list(topics_seen),
        backend=backend,
        engines=engines,
        usage=dict(usage or {}),
    )


def _strengths_and_gaps(
    kb: KnowledgeBase, problem: str, results: Mapping[str, PhaseResult]
) -> tuple[list[Strength], list[Gap]]:
    strengths: list[tuple[float, Strength]] = []
    gaps: list[tuple[float, Gap]] = []
    for phase, result in results.items():
        rubric = {c.id: c for c in kb.rubric_for(problem, phase)}
        for grade in (CriterionGrade.model_validate(c) for c in result["criteria"]):
            criterion = rubric.get(grade.id)
            if criterion is None:
                continue
            if grade.score is not None and is_solid(grade.score):
                strength = Strength(
                    phase=phase,
                    criterion=criterion.id,
                    title=criterion.title,
                    score=grade.score,
                    evidence=grade.evidence[:1],
                )
                strengths.append((grade.score * criterion.weight, strength))
            else:
                weight = criterion.weight * (HIGHEST - (grade.score or NO_SIGNAL))
                gap = Gap(
                    phase=phase,
                    criterion=criterion.id,
                    title=criterion.title,
                    score=grade.score,
                    what_solid_looks_like=solid_for_problem(kb, problem, phase, criterion),
                )
                gaps.append((weight, gap))
    strengths.sort(key=lambda s: -s[0])
    gaps.sort(key=lambda g: -g[0])
    return [s for _, s in strengths[:5]], [g for _, g in gaps[:6]]


def report_with_titles(report: Report, kb: KnowledgeBase, problem: str) -> ShownReport:
    """The report as shown: criteria in docs/interfaces.md's shape (insufficient evidence as score 1)
    and titled, and each study note's file resolved in the knowledge folder in use.

    A session practised with another knowledge folder (its problem is not in `kb`) keeps its
    criteria untitled and its notes as saved: there is nothing here to title or resolve them by.
    """
    known = problem in kb.problems
    phases = []
    for phase in report.phases:
        rubric = {c.id: c for c in kb.rubric_for(problem, phase.phase)} if known else {}
        criteria = [
            CriterionView.of(c, rubric[c.id].title, rubric[c.id].weight)
            if c.id in rubric
            else CriterionView.of(c)
            for c in phase.criteria
        ]
        phases.append(PhaseEntry[CriterionView].model_validate({**_fields(phase), "criteria": criteria}))
    study = [s.model_copy(update={"note": str(_note_file(kb, s))}) if known else s for s in report.study]
    return ShownReport.model_validate({**_fields(report), "phases": phases, "study": study})


def _fields(model: BaseModel) -> dict[str, object]:
    """A model's set fields as they are (nested models stay models), to build the other shape from."""
    return {name: getattr(model, name) for name in model.model_fields_set}


def _note_file(kb: KnowledgeBase, study: StudyNote) -> Path:
    """A study note's file: by its knowledge-relative source (reports saved before sources were
    stored carry the absolute path instead)."""
    if study.source:
        return (kb.knowledge_dir / study.source).resolve()
    return Path(study.note or "").resolve()
