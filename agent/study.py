"""What a finished interview teaches: every answer with what it earned, the model answer of each phase,
gaps in the problem's own terms, and what would have moved the verdict up one band.

Built from the report, the conversation and the per-answer grades alone (all in the transcript), so a
past session opened from history teaches the same as the one just finished. The numbers follow the one
scale of agent.grading.scale: a phase's grade is the best grade per criterion over its answers, a
phase's score the weighted mean of its criteria, the overall score the time-weighted mean of the
assessed phases.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agent.content.loader import KnowledgeBase
from agent.content.schemas import Criterion
from agent.grading.models import CriterionGrade
from agent.grading.negation import content_stems
from agent.grading.scale import INCOMPLETE, NO_SIGNAL, SOLID, Verdict, next_verdict, phase_score
from agent.ids import PHASE_TITLES, PHASES, WRAP_UP
from agent.report_model import ShownReport

#: A strong-design bullet stands in for a criterion's generic anchor when they share this many stems,
#: and this many more than the phase's next best bullet (set by reading the matches of all problems).
_MIN_SHARED_STEMS = 4
_MIN_MARGIN = 2
#: Levers listed at most, and the smallest gain worth listing.
_MAX_LEVERS = 4
_MIN_GAIN = 0.005
_NOT_ANSWERS = {"skip": "(moves on)", "end": "(ends the interview)", "hint_request": "(asks for a hint)"}


@dataclass(frozen=True)
class Movement:
    """A criterion an answer raised: from the phase's best grade before it, to this answer's."""

    criterion: str
    title: str
    before: float | None
    after: float


@dataclass(frozen=True)
class Exchange:
    """One question and what the candidate did with it."""

    phase: str
    question: str
    reply: str
    answered: bool  # False for moving on, ending or asking for a hint
    score: float | None  # the answer's own grade (None when it was not graded)
    moved: tuple[Movement, ...]


@dataclass(frozen=True)
class PhaseStudy:
    """A phase as a study unit: the candidate's exchanges beside the problem's model answer."""

    phase: str
    title: str
    score: float | None
    assessed: bool
    exchanges: tuple[Exchange, ...]
    model_answer: str


@dataclass(frozen=True)
class Lever:
    """One change that would have raised the overall score."""

    phase: str
    phase_title: str
    criterion: str | None  # None: answer a phase that was not assessed
    title: str
    now: float | None
    gain: float
    solid: str  # what a solid answer does, in the problem's terms where the notes have them


@dataclass(frozen=True)
class NextBand:
    """The verdict one band up, how far away it was, and the levers that reach it."""

    verdict: Verdict
    target: float
    needed: float
    levers: tuple[Lever, ...]
    reached: bool  # the levers listed are enough


@dataclass(frozen=True)
class StudyGuide:
    """Everything the feedback teaches beyond the grades."""

    phases: tuple[PhaseStudy, ...]
    wrap_up: tuple[Exchange, ...]
    next_band: NextBand | None  # None at the top band or without a verdict


def solid_for_problem(kb: KnowledgeBase, problem: str, phase: str, criterion: Criterion) -> str:
    """What a solid answer on this criterion does, in the problem's own terms when the notes have them.

    A criterion the problem's overlay adds is already written for the problem. A generic criterion's
    anchor can contradict a problem (a user A/B test for fraud scoring), so the bullet of the problem's
    strong design that shares most with the criterion is used instead, when it shares enough.
    """
    overlay = kb.overlays.get(problem)
    phase_overlay = overlay.phases.get(phase) if overlay else None
    if phase_overlay is not None and any(c.id == criterion.id for c in phase_overlay.add):
        return criterion.levels[3]
    wanted = set(content_stems(" ".join([criterion.title, criterion.levels[3], *criterion.evidence])))
    bullets = kb.problem_note(problem).strong_design.get(phase, [])
    ranked = sorted(((len(wanted & set(content_stems(b))), b) for b in bullets), reverse=True)
    if not ranked:
        return criterion.levels[3]
    (best, bullet), runner_up = ranked[0], (ranked[1][0] if len(ranked) > 1 else 0)
    # A clear match only: a long bullet shares a few words with every criterion of its phase.
    if best >= _MIN_SHARED_STEMS and best - runner_up >= _MIN_MARGIN:
        return bullet
    return criterion.levels[3]


def study_guide(
    kb: KnowledgeBase,
    problem: str,
    report: ShownReport,
    turns: Sequence[Mapping[str, Any]],
    grades: Sequence[Mapping[str, Any]],
) -> StudyGuide:
    """The study guide of a finished (or ended) interview."""
    exchanges = _exchanges(kb, problem, turns, grades)
    note = kb.problem_note(problem)
    phases = tuple(
        PhaseStudy(
            phase=p.phase,
            title=PHASE_TITLES[p.phase],
            score=p.score,
            assessed=p.assessed,
            exchanges=tuple(e for e in exchanges if e.phase == p.phase),
            model_answer=note.model_answers.get(p.phase, ""),
        )
        for p in report.phases
        if p.phase in PHASES
    )
    return StudyGuide(
        phases=phases,
        wrap_up=tuple(e for e in exchanges if e.phase == WRAP_UP),
        next_band=_next_band(kb, problem, report),
    )


def _exchanges(
    kb: KnowledgeBase,
    problem: str,
    turns: Sequence[Mapping[str, Any]],
    grades: Sequence[Mapping[str, Any]],
) -> list[Exchange]:
    by_turn = {int(g["turn"]): g for g in grades if int(g.get("turn", -1)) >= 0}
    titles = {c.id: c.title for p in PHASES for c in kb.rubric_for(problem, p)}
    best: dict[tuple[str, str], float] = {}  # (phase, criterion) -> best score so far
    question = ""
    found: list[Exchange] = []
    for index, turn in enumerate(turns):
        if turn["role"] == "interviewer":
            question = str(turn["text"])
            continue
        kind = str(turn.get("kind", "answer"))
        grade = by_turn.get(index)
        moved: list[Movement] = []
        for criterion in grade["criteria"] if grade else []:
            score = criterion.get("score")
            key = (str(turn["phase"]), str(criterion["id"]))
            if score is None or score <= best.get(key, 0.0):
                continue
            moved.append(
                Movement(str(criterion["id"]), titles.get(key[1], key[1]), best.get(key), float(score))
            )
            best[key] = float(score)
        found.append(
            Exchange(
                phase=str(turn["phase"]),
                question=question,
                reply=str(turn["text"]) if kind == "answer" else _NOT_ANSWERS.get(kind, f"({kind})"),
                answered=kind == "answer",
                score=None if grade is None else float(grade["score"]),
                moved=tuple(moved),
            )
        )
    return found


def _next_band(kb: KnowledgeBase, problem: str, report: ShownReport) -> NextBand | None:
    phases = [p for p in report.phases if p.phase in PHASES]
    assessed = [p for p in phases if p.score is not None]
    score = report.score
    if score is None or not assessed or report.verdict == INCOMPLETE:
        return None  # no verdict to move: the report says how many phases a verdict needs
    step = next_verdict(score, report.level)
    if step is None:
        return None
    verdict, target = step
    total = sum(p.budget_minutes for p in assessed)
    levers: list[Lever] = []
    for p in phases:
        phase, budget = p.phase, p.budget_minutes
        rubric = kb.rubric_for(problem, phase)
        if p.score is None:  # answering it at a solid level would have counted it in
            gain = (score * total + SOLID * budget) / (total + budget) - score
            opening = "Answer the phase (it was not assessed)"
            levers.append(
                Lever(phase, PHASE_TITLES[phase], None, opening, None, gain, _phase_gist(kb, problem, phase))
            )
            continue
        # The shown score: insufficient evidence counts (and reads) as 1, no signal.
        graded: dict[str, float | None] = {c.id: c.score for c in p.criteria}
        weights = {c.id: c.weight for c in rubric}
        shown = _as_grades(rubric, graded)
        for criterion in rubric:
            now = graded.get(criterion.id)
            if SOLID - (NO_SIGNAL if now is None else now) <= 0:
                continue
            # What the phase would score with this criterion solid, by the scale's rule (calibration
            # included), against what it scores now with the same criteria.
            raised = _as_grades(rubric, {**graded, criterion.id: SOLID})
            lift = phase_score(raised, weights, p.engine) - phase_score(shown, weights, p.engine)
            gain = budget / total * lift
            solid = solid_for_problem(kb, problem, phase, criterion)
            levers.append(Lever(phase, PHASE_TITLES[phase], criterion.id, criterion.title, now, gain, solid))
    levers = sorted((lever for lever in levers if lever.gain >= _MIN_GAIN), key=lambda lever: -lever.gain)
    needed = target - score
    chosen: list[Lever] = []
    for lever in levers[:_MAX_LEVERS]:
        chosen.append(lever)
        if sum(c.gain for c in chosen) >= needed:
            break
    return NextBand(verdict, round(target, 2), needed, tuple(chosen), sum(c.gain for c in chosen) >= needed)


def _as_grades(rubric: Sequence[Criterion], scores: Mapping[str, float | None]) -> list[CriterionGrade]:
    """The rubric's criteria with the given scores (a criterion not graded counts as no signal)."""
    return [CriterionGrade(id=c.id, score=scores.get(c.id), rationale="") for c in rubric]


def _phase_gist(kb: KnowledgeBase, problem: str, phase: str) -> str:
    bullets = kb.problem_note(problem).strong_design.get(phase, [])
    return bullets[0] if bullets else ""
