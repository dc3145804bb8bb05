"""The fit's vectorised phase scores are the grader's and the scale module's, phase by phase: a fit
that optimised something else than what a candidate is shown would be fitting the wrong thing."""

from __future__ import annotations

import numpy as np
import pytest

from agent.content.loader import KnowledgeBase
from agent.grading.offline import FEATURES, GradingReference, OfflineGrader
from agent.grading.scale import aggregate_phase, load_calibration, phase_score, weighted_score
from agent.ids import PHASES
from agent.search.embedding import Embedder
from evals.dataset import DATASET_DIR, load_dataset
from evals.fit import PhaseRows, calibrated_scores, cross_validated_qwk, phase_rows, phase_scores


def test_the_fit_scores_each_phase_as_the_grader_and_the_scale_do(
    kb: KnowledgeBase, embedder: Embedder
) -> None:
    grader = OfflineGrader(embedder, reference=GradingReference.from_kb(kb))
    dev = [c for c in load_dataset(DATASET_DIR) if c.labels.split == "dev" and c.labels.labelled]
    # Every profile once: capped, injected and off-topic phases are where a vectorised rule drifts.
    cases = list({c.labels.profile: c for c in dev}.values())
    rows = phase_rows(grader, cases, kb)
    weights = np.array([grader.params.weights[f] for f in FEATURES])
    cuts = np.array(grader.params.cuts)
    line = load_calibration().engines[grader.engine]
    means, shown = [], []
    for case in cases:
        for phase in PHASES:
            texts = case.answers.get(phase, [])
            if case.labels.phases.get(phase) is None or not texts:
                continue
            criteria = kb.rubric_for(case.problem, phase)
            grades = [grader.grade(phase, criteria, text, case.problem) for text in texts]
            whole = aggregate_phase(phase, [c.id for c in criteria], grades, grader.engine)
            by_id = {c.id: c.weight for c in criteria}
            means.append(weighted_score(whole.criteria, by_id))
            shown.append(phase_score(whole.criteria, by_id, grader.engine))
    assert len(means) >= 20
    assert phase_scores(rows, weights, cuts, 0.0) == pytest.approx(means, abs=1e-9)
    assert calibrated_scores(rows, weights, cuts, line) == pytest.approx(shown, abs=1e-9)
    assert not np.allclose(shown, means)  # the calibration is in force, not the identity


def _synthetic_rows(labels: np.ndarray, signal: np.ndarray) -> PhaseRows:
    """One criterion per phase, one answer, every feature equal to `signal`; three phases a case."""
    n = len(labels)
    shape = (n, 1, 1)
    return PhaseRows(
        labels=labels.astype(float),
        weights=np.ones((n, 1)),
        features=np.repeat(signal[:, None, None, None], len(FEATURES), axis=3),
        addressed=np.ones(shape, dtype=bool),
        covered=np.ones(shape, dtype=bool),
        capped=np.zeros(shape, dtype=bool),
        phase_capped=np.zeros(n, dtype=bool),
        cases=np.arange(n) // 3,
    )


def test_cross_validation_predicts_each_case_from_the_others() -> None:
    rng = np.random.default_rng(3)
    labels = rng.integers(1, 5, size=90)
    telling = _synthetic_rows(labels, labels / 4 + rng.normal(0, 0.03, size=90))
    assert cross_validated_qwk(telling) > 0.9
    # Features that are pure noise: in-sample, a fit can still find a little agreement; held out,
    # it finds about none.
    noise = _synthetic_rows(labels, rng.uniform(0, 1, size=90))
    assert cross_validated_qwk(noise) < 0.3
    assert telling.subset(telling.cases == 0).labels.tolist() == labels[:3].tolist()
