"""The agreement metrics and their bootstrap intervals, on data whose answer is known."""

from __future__ import annotations

from typing import Any

import numpy as np

from evals.gate import _compare_metrics
from evals.metrics import agreement, bootstrap_interval, quadratic_weighted_kappa, suite_metrics
from evals.results import ClarificationMetrics

#: Fewer than the report's 1,000: the properties checked hold at 300, in a third of the time.
RESAMPLES = 300


def test_kappa_is_one_for_perfect_agreement_and_falls_with_distance() -> None:
    human = [1, 2, 3, 4, 1, 2, 3, 4]
    assert quadratic_weighted_kappa(human, human) == 1.0
    off_by_one = [min(4, h + 1) for h in human]
    reversed_ = [5 - h for h in human]
    assert 0 < quadratic_weighted_kappa(human, off_by_one) < 1
    assert quadratic_weighted_kappa(human, reversed_) < 0


def _cases(n: int, noise: float, seed: int) -> list[list[tuple[int, float]]]:
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        labels = rng.integers(1, 5, 7)
        cases.append([(int(h), float(np.clip(h + rng.normal(0, noise), 1, 4))) for h in labels])
    return cases


def test_the_interval_holds_the_estimate_and_narrows_with_more_cases() -> None:
    few, many = _cases(8, 0.8, seed=1), _cases(80, 0.8, seed=1)
    for cases in (few, many):
        estimate = agreement([p for c in cases for p in c])["qwk"]
        low, high = bootstrap_interval(cases, "qwk", resamples=RESAMPLES)
        assert low <= estimate <= high
    wide = bootstrap_interval(few, "qwk", resamples=RESAMPLES)
    assert np.ptp(bootstrap_interval(many, "qwk", resamples=RESAMPLES)) < np.ptp(wide) / 2


def test_noisier_scores_give_a_lower_interval() -> None:
    sharp, blurred = _cases(60, 0.3, seed=2), _cases(60, 1.2, seed=2)
    low = bootstrap_interval(blurred, "spearman", resamples=RESAMPLES)
    assert low[1] < bootstrap_interval(sharp, "spearman", resamples=RESAMPLES)[0]


def test_one_case_has_no_interval() -> None:
    low, high = bootstrap_interval(_cases(1, 0.5, seed=3), "qwk")
    assert np.isnan(low) and np.isnan(high)


def test_the_gate_fails_when_clarifications_get_worse() -> None:
    """A note edit that costs right answers, or gives more wrong facts, is a regression."""
    before = {"clarifications": {"test": {"questions": 132, "accuracy": 0.87, "wrong_facts": 0.04}}}

    def compared(accuracy: float, wrong_facts: float) -> tuple[set[str], set[str]]:
        now = suite_metrics([], 3).model_copy(
            update={
                "clarifications": {
                    "test": ClarificationMetrics(questions=132, accuracy=accuracy, wrong_facts=wrong_facts)
                }
            }
        )
        regressions: list[dict[str, Any]] = []
        improvements: list[dict[str, Any]] = []
        _compare_metrics(now, before, regressions, improvements)
        return {r["metric"] for r in regressions}, {i["metric"] for i in improvements}

    assert compared(0.87, 0.04) == (set(), set())
    assert compared(0.86, 0.04)[0] == {"clarifications.test.accuracy"}
    assert compared(0.87, 0.05)[0] == {"clarifications.test.wrong_facts"}
    assert compared(0.90, 0.02) == (
        set(),
        {"clarifications.test.accuracy", "clarifications.test.wrong_facts"},
    )
