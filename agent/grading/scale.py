"""The one score scale: levels, caps, insufficient evidence, phase aggregation and the verdict.

Every part that shows or uses a score reads its rules here: both engines, the live side panel, the
interviewer's moving-on rule, the report, the history trends and the app's colours.

- A criterion scores 1 (no signal / poor), 2 (weak), 3 (solid) or 4 (strong), or has insufficient
  evidence (`None`) when the answers never addressed it; in a weighted mean that counts as 1.
- A cap holds a criterion at 2 at most: a red flag the candidate asserted, text addressed to the
  grader, keyword stuffing or long unspecific filler.
- A phase's grade comes from all of its answers by one rule: per criterion, the best grade any
  answer earned (evidence accumulates as the candidate adds to it); a phase in which any answer
  addressed the grader is capped as a whole.
- A phase's score (and an answer's) is the weighted mean of its criterion scores, calibrated for
  the engine that graded it: a straight line fitted on the eval dataset's dev split so that the
  scores spread as the labels do (`calibration.json`, written by `python -m evals.fit`; the mean of
  levels bunches in the middle, where a senior interviewer calls a phase strong when most of it is
  solid and its core strong). The calibrated score never leaves the range of its own criterion
  scores, so caps hold and a phase strong in every criterion scores 4. An engine without a fitted
  line (an LLM's, or a mixed phase) keeps the plain mean.
- A phase never answered is not assessed (score `None`): it takes no part in the overall score,
  the time-budget-weighted mean of the assessed phases; with fewer than four assessed phases the
  verdict is "incomplete".
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.grading.models import AnswerGrade, CriterionGrade

#: What each score means (not to be confused with agent.ids.LEVELS, the candidate's target level).
SCORE_NAMES: Final[dict[int, str]] = {1: "no signal / poor", 2: "weak", 3: "solid", 4: "strong"}
LOWEST: Final = 1.0
HIGHEST: Final = 4.0
#: The score a criterion needs to count as shown (the moving-on rule, coverage, strengths).
SOLID: Final = 3.0
#: The highest score a capped criterion can keep.
CAP: Final = 2.0
#: What insufficient evidence counts as in a weighted mean: no signal.
NO_SIGNAL: Final = LOWEST
#: Answer flags that cap every criterion of the answer.
CAPPING_FLAGS: Final[dict[str, str]] = {
    "injection": "text addressed to the grader",
    "stuffing": "terms listed without reasoning",
    "vague": "long but unspecific",
}
#: Flags that, in any answer of a phase, cap the whole phase.
PHASE_CAPPING_FLAGS: Final = frozenset({"injection"})

Verdict = Literal["strong no hire", "lean no hire", "lean hire", "strong hire", "incomplete"]
VERDICTS: Final[tuple[Verdict, ...]] = ("strong no hire", "lean no hire", "lean hire", "strong hire")
INCOMPLETE: Final[Verdict] = "incomplete"
#: Lowest overall score for "lean no hire", "lean hire" and "strong hire" at senior level.
VERDICT_THRESHOLDS: Final = (2.0, 2.7, 3.3)
#: The bar moves with the level the candidate targets.
LEVEL_SHIFT: Final[dict[str, float]] = {"junior": -0.3, "senior": 0.0, "staff": 0.3}
#: Fewer assessed phases than this make the verdict "incomplete".
MIN_ASSESSED_PHASES: Final = 4


def capped(score: float, caps: Iterable[str]) -> float:
    """The score held at CAP when any cap applies."""
    return min(score, CAP) if any(True for _ in caps) else score


def is_solid(score: float | None) -> bool:
    """True when a criterion's evidence is at least solid."""
    return score is not None and score >= SOLID


def weighted_score(grades: Sequence[CriterionGrade], weights: Mapping[str, float]) -> float:
    """Weighted mean of criterion scores; insufficient evidence counts as no signal."""
    total = sum(weights.get(g.id, 0.0) for g in grades) or 1.0
    value = sum(weights.get(g.id, 0.0) * (NO_SIGNAL if g.score is None else g.score) for g in grades)
    return value / total


CALIBRATION_PATH: Final = Path(__file__).with_name("calibration.json")


class Line(BaseModel):
    """score = slope * weighted mean + intercept."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slope: float = Field(gt=0, description="more evidence must never lower a score")
    intercept: float


class Calibration(BaseModel):
    """Per engine, the fitted line from the weighted mean of criterion scores to the phase score."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    engines: dict[str, Line] = Field(description="engine name -> its line; others keep the plain mean")
    fitted: dict[str, object] = Field(default_factory=dict, description="how and on what it was fitted")


@lru_cache(maxsize=4)
def load_calibration(path: Path = CALIBRATION_PATH) -> Calibration:
    """The committed calibration (no file: every engine keeps the plain mean)."""
    if not path.exists():
        return Calibration(engines={})
    return Calibration.model_validate(json.loads(path.read_text(encoding="utf-8")))


def calibrated(mean: float, line: Line | None, lowest: float, highest: float) -> float:
    """A weighted mean through the engine's line, kept within [lowest, highest] of its criteria."""
    if line is None:
        return mean
    return min(max(line.slope * mean + line.intercept, lowest), highest)


def phase_score(
    grades: Sequence[CriterionGrade],
    weights: Mapping[str, float],
    engine: str,
    calibration: Calibration | None = None,
) -> float:
    """The score of a phase (or an answer): the weighted mean, calibrated for the grading engine."""
    mean = weighted_score(grades, weights)
    scores = [NO_SIGNAL if g.score is None else g.score for g in grades if weights.get(g.id, 0.0) > 0]
    if not scores:
        return mean
    line = (calibration or load_calibration()).engines.get(engine)
    return calibrated(mean, line, min(scores), max(scores))


def _better(new: CriterionGrade, old: CriterionGrade | None) -> bool:
    if old is None:
        return True
    return (new.score or 0.0) > (old.score or 0.0)


def aggregate_phase(
    phase: str, criterion_ids: Sequence[str], answer_grades: Sequence[AnswerGrade], engine: str
) -> AnswerGrade:
    """A phase's grade from all its answers: per criterion the best answer's grade, then phase caps."""
    best: dict[str, CriterionGrade] = {}
    for grade in answer_grades:
        for criterion in grade.criteria:
            if _better(criterion, best.get(criterion.id)):
                best[criterion.id] = criterion
    flags = sorted({f for g in answer_grades for f in g.flags})
    phase_caps = [CAPPING_FLAGS[f] for f in flags if f in PHASE_CAPPING_FLAGS]
    merged: list[CriterionGrade] = []
    for cid in criterion_ids:
        chosen = best.get(cid) or CriterionGrade(id=cid, score=None, rationale="Insufficient evidence.")
        if chosen.score is not None and phase_caps and chosen.score > CAP:
            chosen = chosen.model_copy(
                update={"score": CAP, "rationale": f"{chosen.rationale} Capped: {phase_caps[0]}."}
            )
        merged.append(chosen)
    return AnswerGrade(phase=phase, criteria=merged, engine=engine, flags=flags)


def phase_engine(engines: Iterable[str], default: str) -> str:
    """The engine of a phase grade: the one engine that graded its answers, or "mixed"."""
    distinct = set(engines)
    if not distinct:
        return default
    return distinct.pop() if len(distinct) == 1 else "mixed"


def overall_score(phase_scores: Mapping[str, float | None], budgets: Mapping[str, float]) -> float | None:
    """Time-budget-weighted mean of the assessed phases (None when no phase was assessed)."""
    assessed = {p: s for p, s in phase_scores.items() if s is not None}
    total = sum(budgets[p] for p in assessed)
    if not total:
        return None
    return sum(budgets[p] * s for p, s in assessed.items()) / total


def verdict_for(score: float | None, level: str, assessed_phases: int) -> Verdict:
    """The overall verdict for the target level, or "incomplete" with too few assessed phases."""
    if score is None or assessed_phases < MIN_ASSESSED_PHASES:
        return INCOMPLETE
    return VERDICTS[_rank(score, level)]


def _bar(threshold: float, level: str) -> float:
    """A verdict threshold moved for the level, to the two decimals scores are shown with (2.7 - 0.3
    is 2.4000000000000004 in floating point, which a junior's 2.40 would miss)."""
    return round(threshold + LEVEL_SHIFT.get(level, 0.0), 2)


def _rank(score: float, level: str) -> int:
    """How many of the level's verdict thresholds the score reaches (0-3)."""
    return sum(score >= _bar(t, level) for t in VERDICT_THRESHOLDS)


def next_verdict(score: float, level: str) -> tuple[Verdict, float] | None:
    """The verdict one band up from `score` at this level and the overall score it starts at
    (None at the top band)."""
    rank = _rank(score, level)
    if rank >= len(VERDICT_THRESHOLDS):
        return None
    return VERDICTS[rank + 1], _bar(VERDICT_THRESHOLDS[rank], level)


Band = Literal["strong", "solid", "weak", "poor", "none"]


def band(score: float | None) -> Band:
    """Which band a score falls in, for colours and labels (an unassessed score has none)."""
    if score is None:
        return "none"
    if score >= 3.5:
        return "strong"
    if score >= SOLID:
        return "solid"
    if score >= CAP:
        return "weak"
    return "poor"


def score_text(score: float | None, digits: int = 2) -> str:
    """A score as shown to people: "3.25", or "not assessed" for a phase never answered."""
    return "not assessed" if score is None else f"{score:.{digits}f}"


def colour(score: float | None) -> str:
    """The app's colour for a score."""
    return BAND_COLOURS[band(score)]


#: The app's colour for each band.
BAND_COLOURS: Final[dict[Band, str]] = {
    "strong": "green",
    "solid": "green",
    "weak": "yellow",
    "poor": "red",
    "none": "grey50",
}
