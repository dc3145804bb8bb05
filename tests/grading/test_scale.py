"""The scale's phase score: the weighted mean of criterion scores through the engine's fitted line,
kept within the criteria's own range (fast tier: no model)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from agent.grading.models import AnswerGrade, CriterionGrade
from agent.grading.scale import (
    CAP,
    Calibration,
    Line,
    load_calibration,
    phase_score,
    weighted_score,
)
from evals.fit import spread_line

WIDEN = Calibration(engines={"offline": Line(slope=1.5, intercept=-1.2)})
WEIGHTS = {"a": 2.0, "b": 1.0, "c": 1.0}


def _grades(*scores: float | None) -> list[CriterionGrade]:
    return [CriterionGrade(id=cid, score=s, rationale="") for cid, s in zip("abc", scores, strict=True)]


def test_an_engine_without_a_line_keeps_the_plain_weighted_mean() -> None:
    grades = _grades(3.0, 4.0, 2.0)
    assert phase_score(grades, WEIGHTS, "openai:gpt-x", WIDEN) == pytest.approx(3.0)
    assert phase_score(grades, WEIGHTS, "mixed", WIDEN) == weighted_score(grades, WEIGHTS)


def test_the_line_widens_the_spread_around_the_middle() -> None:
    # mean 3.25 -> 1.5 * 3.25 - 1.2 = 3.675; mean 1.75 -> 1.425
    assert phase_score(_grades(4.0, 3.0, 2.0), WEIGHTS, "offline", WIDEN) == pytest.approx(3.675)
    assert phase_score(_grades(2.0, 1.0, 2.0), WEIGHTS, "offline", WIDEN) == pytest.approx(1.425)
    assert phase_score(_grades(1.0, 2.0, 3.0), WEIGHTS, "offline", WIDEN) == pytest.approx(1.425)


def test_the_score_never_leaves_the_range_of_its_own_criteria() -> None:
    # Every criterion at 2: the line would give 1.5 * 2 - 1.2 = 1.8, but the lowest criterion is 2.
    assert phase_score(_grades(CAP, CAP, CAP), WEIGHTS, "offline", WIDEN) == CAP
    assert phase_score(_grades(4.0, 4.0, 4.0), WEIGHTS, "offline", WIDEN) == 4.0
    # A line that would lift a capped phase above the cap cannot: the highest criterion is the bound.
    lifting = Calibration(engines={"offline": Line(slope=1.0, intercept=0.8)})
    assert phase_score(_grades(CAP, CAP, 1.0), WEIGHTS, "offline", lifting) == CAP
    # Insufficient evidence counts as no signal, for the mean and the bounds alike.
    assert phase_score(_grades(None, 1.0, 1.0), WEIGHTS, "offline", WIDEN) == 1.0


def test_more_evidence_never_lowers_the_score() -> None:
    levels = [1.0, 2.0, 3.0, 4.0]
    for a in levels[:-1]:
        for b in levels:
            score = phase_score(_grades(a, b, b), WEIGHTS, "offline", WIDEN)
            assert phase_score(_grades(a + 1, b, b), WEIGHTS, "offline", WIDEN) >= score


def test_an_answer_grade_scores_by_the_same_rule_for_its_engine() -> None:
    grade = AnswerGrade(phase="evaluation", criteria=_grades(4.0, 3.0, 2.0), engine="offline")
    line = load_calibration().engines.get("offline")
    expected = weighted_score(grade.criteria, WEIGHTS)
    if line is not None:
        expected = min(max(line.slope * expected + line.intercept, 2.0), 4.0)
    assert grade.score(WEIGHTS) == pytest.approx(expected)


def test_the_committed_calibration_is_fitted_and_only_widens() -> None:
    calibration = load_calibration()
    assert calibration.fitted.get("command") == "python -m evals.fit"
    assert calibration.fitted.get("split") == "dev"
    line = calibration.engines["offline"]
    assert line.slope > 1.0
    # It widens around the middle of the scale: the fixed point lies between 2 and 3.
    assert 2.0 <= line.intercept / (1 - line.slope) <= 3.0


def test_a_calibration_file_with_an_unknown_field_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps({"engines": {"offline": {"slope": 1.2, "intercept": 0, "extra": 1}}}))
    with pytest.raises(ValidationError, match="extra"):
        load_calibration(path)
    path.write_text(json.dumps({"engines": {"offline": {"slope": -1.0, "intercept": 0}}}))
    with pytest.raises(ValidationError, match="slope"):
        load_calibration(path)


def test_no_calibration_file_means_the_plain_mean(tmp_path: Path) -> None:
    assert load_calibration(tmp_path / "absent.json").engines == {}


def test_the_fitted_line_gives_the_means_the_labels_spread() -> None:
    means = np.array([2.0, 2.4, 2.6, 3.0])
    labels = np.array([1.0, 2.0, 3.0, 4.0])
    line = spread_line(means, labels)
    fitted = line.slope * means + line.intercept
    assert fitted.mean() == pytest.approx(labels.mean(), abs=1e-3)
    assert fitted.std() == pytest.approx(labels.std(), abs=1e-3)
    # Means already wider than the labels are not narrowed.
    assert spread_line(labels * 2, labels).slope == 1.0
