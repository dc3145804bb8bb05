"""Fit the offline grader's scorer on the eval dataset's dev split, and write offline_params.json.

    python -m evals.fit            (or: mlsd eval --fit)

The grader's features per criterion and answer (agent.grading.offline) are computed once per pair of
similarity thresholds; the scorer's weights (>= 0) and cut points are then chosen to bring the phase
scores, aggregated as agent.grading.scale says, closest to the human phase labels of the dev cases:
least squares on a smoothed level, several restarts, the best kept by dev QWK. The similarity thresholds
are chosen by the dev QWK of the calibrated scores (what a candidate sees). Test cases are never read.
The result records what it was fitted on, so a reviewer can tell a refit from a hand edit.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agent.config import Settings
from agent.grading.offline import FEATURES, PARAMS_PATH, GradingReference, OfflineGrader, ScorerParams
from agent.grading.scale import (
    CALIBRATION_PATH,
    CAP,
    CAPPING_FLAGS,
    NO_SIGNAL,
    PHASE_CAPPING_FLAGS,
    Calibration,
    Line,
)
from agent.ids import PHASES
from evals.dataset import DATASET_DIR, Case, load_dataset
from evals.metrics import quadratic_weighted_kappa

#: Similarity thresholds tried (covering an evidence statement; stating a red flag). Not below 0.46:
#: the covering sentences and clauses are the quotes shown as evidence, and since each clause counts
#: on its own, a lower bar lets a clause that only brushes a criterion count for it (at 0.43, "I'd
#: optimise long-term watch time per daily user" was evidence of scope and users, and one
#: two-sentence answer ended the clarify phase: tests/agent/test_graph.py).
MATCH_GRID = (0.46, 0.48, 0.50)
RED_FLAG_GRID = (0.66,)
#: Precise things per 100 words tried as the vague rule's bar (the highest that spares every dev
#: answer of a phase labelled solid or strong is kept).
VAGUE_SPECIFICS_GRID = (1.0, 1.5, 2.0, 2.5, 3.0)
#: Similarities tried as the bar for challenging a stated red flag (never above the cap's), and the
#: share of dev answers in phases labelled solid or strong that may draw a challenge at it: asking a
#: good candidate to defend a sound claim costs a question, not a grade.
CHALLENGE_GRID = (0.54, 0.56, 0.58, 0.60, 0.62, 0.64, 0.66)
CHALLENGED_SOLID_SHARE = 0.08
RESTARTS = 12
SEED = 7
#: The similarity thresholds are chosen by cross-validation over the dev cases (each fold's scorer
#: fitted on the other folds): the in-sample QWK of three thresholds differs by less than its noise,
#: and it favoured the threshold whose fit leaned most on the phase calibration.
FOLDS = 5
FOLD_RESTARTS = 4


@dataclass
class PhaseRows:
    """The labelled dev phases as padded arrays (phases x answers x criteria), so one evaluation of
    the objective is a few array operations."""

    labels: np.ndarray  # phases
    weights: np.ndarray  # phases x criteria: criterion weight (sums to 1; 0 for padding)
    features: np.ndarray  # phases x answers x criteria x features
    addressed: np.ndarray  # the criterion was addressed at all (False for padding)
    covered: np.ndarray  # at least one evidence statement covered
    capped: np.ndarray  # a cap applies (a red flag asserted, or an answer flag)
    phase_capped: np.ndarray  # phases: an answer carries a phase-wide cap
    cases: np.ndarray  # phases: the index of the case each phase comes from

    def subset(self, keep: np.ndarray) -> PhaseRows:
        """The rows of the phases where `keep` is True."""
        return PhaseRows(
            labels=self.labels[keep],
            weights=self.weights[keep],
            features=self.features[keep],
            addressed=self.addressed[keep],
            covered=self.covered[keep],
            capped=self.capped[keep],
            phase_capped=self.phase_capped[keep],
            cases=self.cases[keep],
        )


def phase_rows(grader: OfflineGrader, cases: list[Case], kb: object) -> PhaseRows:
    """The dev phases' features under the grader's current thresholds."""
    phases = []
    case_of: list[int] = []
    for index, case in enumerate(cases):
        answers = case.answers
        for phase in PHASES:
            label = case.labels.phases.get(phase)
            texts = answers.get(phase, [])
            if label is None or not texts:
                continue
            criteria = kb.rubric_for(case.problem, phase)  # type: ignore[attr-defined]
            weights = np.array([c.weight for c in criteria]) / sum(c.weight for c in criteria)
            features = [grader.features(phase, criteria, t, case.problem) for t in texts]
            phases.append((label, weights, features))
            case_of.append(index)
    n_answers = max(len(a) for _, _, a in phases)
    n_criteria = max(len(w) for _, w, _ in phases)
    shape = (len(phases), n_answers, n_criteria)
    rows = PhaseRows(
        labels=np.array([label for label, _, _ in phases], dtype=float),
        weights=np.zeros((len(phases), n_criteria)),
        features=np.zeros((*shape, len(FEATURES))),
        addressed=np.zeros(shape, dtype=bool),
        covered=np.zeros(shape, dtype=bool),
        capped=np.zeros(shape, dtype=bool),
        phase_capped=np.zeros(len(phases), dtype=bool),
        cases=np.array(case_of, dtype=int),
    )
    for i, (_, weights, per_answer) in enumerate(phases):
        rows.weights[i, : len(weights)] = weights
        rows.phase_capped[i] = any(a.flags & PHASE_CAPPING_FLAGS for a in per_answer)
        for j, answer in enumerate(per_answer):
            answer_capped = bool(answer.flags & set(CAPPING_FLAGS))
            for k, f in enumerate(answer.criteria):
                rows.features[i, j, k] = f.vector
                rows.addressed[i, j, k] = f.addressed
                rows.covered[i, j, k] = f.covered > 0
                rows.capped[i, j, k] = f.red_flag is not None or answer_capped
    return rows


def criterion_levels(rows: PhaseRows, weights: np.ndarray, cuts: np.ndarray, softness: float) -> np.ndarray:
    """Each phase's criterion levels (phases x criteria; padding 1) under the given scorer: per
    criterion the best answer's level, capped as agent.grading.scale says, vectorised.

    softness 0 gives the exact integer levels the grader assigns; above 0, a smooth stand-in for
    the optimiser. tests/evals/test_fit.py checks this against the grader and the scale module.
    """
    z = rows.features @ weights  # phases x answers x criteria
    if softness > 0:
        levels = 1 + (1 / (1 + np.exp(-(z[..., None] - cuts) / softness))).sum(axis=-1)
    else:
        levels = 1 + (z[..., None] >= cuts).sum(axis=-1).astype(float)
    levels = np.where(rows.covered, levels, NO_SIGNAL)
    levels = np.where(rows.capped, np.minimum(levels, CAP), levels)
    levels = np.where(rows.addressed, levels, 0.0)  # unaddressed never wins the max
    best = levels.max(axis=1)  # per criterion, the best answer
    best = np.where(best == 0.0, NO_SIGNAL, best)
    levels_out: np.ndarray = np.where(rows.phase_capped[:, None], np.minimum(best, CAP), best)
    return levels_out


def phase_scores(rows: PhaseRows, weights: np.ndarray, cuts: np.ndarray, softness: float) -> np.ndarray:
    """Each phase's weighted mean of criterion levels under the given scorer (before calibration).

    softness 0 gives the exact integer levels the grader assigns; above 0, a smooth stand-in for
    the optimiser. tests/evals/test_fit.py checks this against the grader and the scale module.
    """
    scores: np.ndarray = (criterion_levels(rows, weights, cuts, softness) * rows.weights).sum(axis=1)
    return scores


def calibrated_scores(rows: PhaseRows, weights: np.ndarray, cuts: np.ndarray, line: Line) -> np.ndarray:
    """The phase scores a candidate sees: the means through the line, within each phase's own
    criterion levels (agent.grading.scale.calibrated, vectorised)."""
    levels = criterion_levels(rows, weights, cuts, 0.0)
    real = rows.weights > 0
    lowest = np.where(real, levels, np.inf).min(axis=1)
    highest = np.where(real, levels, -np.inf).max(axis=1)
    means = (levels * rows.weights).sum(axis=1)
    scores: np.ndarray = np.minimum(np.maximum(line.slope * means + line.intercept, lowest), highest)
    return scores


def _unpack(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    weights = np.log1p(np.exp(theta[: len(FEATURES)]))
    first = theta[len(FEATURES)]
    gaps = np.log1p(np.exp(theta[len(FEATURES) + 1 :]))
    return weights, np.array([first, first + gaps[0], first + gaps[0] + gaps[1]])


def _qwk(rows: PhaseRows, weights: np.ndarray, cuts: np.ndarray) -> float:
    labels = rows.labels.astype(int)
    predicted = np.clip(np.rint(phase_scores(rows, weights, cuts, 0.0)), 1, 4).astype(int)
    return quadratic_weighted_kappa(labels.tolist(), predicted.tolist())


def fit_scorer(
    rows: PhaseRows, seed: int = SEED, restarts: int = RESTARTS
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Weights and cuts that bring dev phase scores closest to the labels; with dev QWK and RMSE."""
    from scipy.optimize import minimize  # type: ignore[import-untyped]

    labels = rows.labels
    rng = np.random.default_rng(seed)

    def loss(theta: np.ndarray) -> float:
        weights, cuts = _unpack(theta)
        predicted = phase_scores(rows, weights, cuts, softness=0.04)
        return float(np.mean((predicted - labels) ** 2) + 1e-3 * np.sum(theta**2))

    best: tuple[float, float, np.ndarray] | None = None
    for _ in range(restarts):
        start = np.concatenate([rng.normal(0.0, 1.0, len(FEATURES)), [rng.uniform(0.2, 1.0)], [-1.0, -1.0]])
        result = minimize(loss, start, method="Powell", options={"maxiter": 4000, "xtol": 1e-3})
        weights, cuts = _unpack(result.x)
        qwk = _qwk(rows, weights, cuts)
        key = (qwk, -float(result.fun))
        if best is None or key > best[:2]:
            best = (key[0], key[1], result.x)
    assert best is not None
    weights, cuts = _unpack(best[2])
    rmse = float(np.sqrt(np.mean((phase_scores(rows, weights, cuts, 0.0) - labels) ** 2)))
    return weights, cuts, best[0], rmse


def seen_levels(rows: PhaseRows, weights: np.ndarray, cuts: np.ndarray, line: Line) -> list[int]:
    """The phase levels a candidate sees (calibrated, rounded) under a scorer and its line."""
    seen = np.clip(np.rint(calibrated_scores(rows, weights, cuts, line)), 1, 4).astype(int)
    return [int(s) for s in seen]


def cross_validated_qwk(rows: PhaseRows, folds: int = FOLDS, seed: int = SEED) -> float:
    """QWK of the calibrated levels of each dev phase under a scorer (and line) fitted without its
    case: cases are dealt into `folds` groups, and each group is predicted from the others."""
    cases = np.unique(rows.cases)
    fold_of = dict(
        zip(np.random.default_rng(seed).permutation(cases).tolist(), range(len(cases)), strict=True)
    )
    groups = np.array([fold_of[int(c)] % folds for c in rows.cases])
    labels: list[int] = []
    seen: list[int] = []
    for fold in range(folds):
        train, held = rows.subset(groups != fold), rows.subset(groups == fold)
        weights, cuts, _, _ = fit_scorer(train, seed=seed + fold, restarts=FOLD_RESTARTS)
        weights, cuts = np.round(weights, 4), np.round(cuts, 4)
        line = spread_line(phase_scores(train, weights, cuts, 0.0), train.labels)
        labels += held.labels.astype(int).tolist()
        seen += seen_levels(held, weights, cuts, line)
    return quadratic_weighted_kappa(labels, seen)


def spread_line(means: np.ndarray, labels: np.ndarray) -> Line:
    """The line that gives the phase means the labels' mean and spread (standard deviation).

    Least squares would keep the means bunched in the middle (a noisy score regresses to the mean),
    which is what a candidate sees as "every phase is a 2.6"; matching the spread keeps the order of
    the scores and lets the levels be used as often as a senior interviewer uses them.
    """
    spread = float(means.std())
    slope = float(labels.std()) / spread if spread > 0 else 1.0
    slope = max(slope, 1.0)  # it only ever widens: a narrower spread than the mean's is not earned
    return Line(slope=round(slope, 4), intercept=round(float(labels.mean() - slope * means.mean()), 4))


def vague_bar(grader: OfflineGrader, cases: list[Case]) -> float:
    """The highest bar of VAGUE_SPECIFICS_GRID under which no answer of a phase labelled 3 or 4 falls:
    the vague rule may only cap answers a senior interviewer would not call solid."""
    rates = [
        rate
        for case in cases
        for phase, label in case.labels.phases.items()
        if label is not None and label >= 3
        for text in case.answers.get(phase, [])
        if (rate := grader.specifics_rate(text)) is not None
    ]
    floor = min(rates, default=float("inf"))
    return max((bar for bar in VAGUE_SPECIFICS_GRID if bar <= floor), default=VAGUE_SPECIFICS_GRID[0])


def challenge_bar(grader: OfflineGrader, cases: list[Case], kb: object) -> float:
    """The lowest bar of CHALLENGE_GRID at which at most CHALLENGED_SOLID_SHARE of the answers of
    phases labelled 3 or 4 would be challenged (`grader` must look from the grid's lowest bar)."""
    closest = []
    for case in cases:
        for phase, label in case.labels.phases.items():
            if label is None or label < 3:
                continue
            criteria = kb.rubric_for(case.problem, phase)  # type: ignore[attr-defined]
            for text in case.answers.get(phase, []):
                features = grader.features(phase, criteria, text, case.problem)
                sims = [f.suspect[0] for f in features.criteria if f.suspect is not None]
                closest.append(max(sims, default=0.0))
    for bar in CHALLENGE_GRID:
        if sum(s >= bar for s in closest) <= CHALLENGED_SOLID_SHARE * len(closest):
            return bar
    return CHALLENGE_GRID[-1]


def dataset_fingerprint(cases: list[Case]) -> str:
    """sha256 over the dev cases' labels and answers: which data the parameters were fitted on."""
    digest = hashlib.sha256()
    for case in cases:
        digest.update(case.id.encode())
        digest.update(json.dumps(case.labels.phases, sort_keys=True).encode())
        digest.update(json.dumps(case.answers, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def fit(
    settings: Settings,
    dataset: Path = DATASET_DIR,
    out: Path = PARAMS_PATH,
    calibration_out: Path = CALIBRATION_PATH,
) -> ScorerParams:
    """Fit on the dev split and write the parameters file and the offline engine's phase
    calibration; returns the parameters written."""
    from agent.session import load_toolkit

    toolkit = load_toolkit(settings)
    dev = [c for c in load_dataset(dataset) if c.labels.split == "dev" and c.labels.labelled]
    base = ScorerParams(match=MATCH_GRID[0], red_flag=RED_FLAG_GRID[0], weights={}, cuts=(1.0, 2.0, 3.0))
    reference = GradingReference.from_kb(toolkit.kb)
    bar = vague_bar(OfflineGrader(toolkit.embedder, base, reference), dev)
    print(f"vague bar: {bar} precise things per 100 words", file=sys.stderr)
    base = base.model_copy(update={"vague_max_specifics": bar})
    looking = base.model_copy(update={"challenge": CHALLENGE_GRID[0]})
    challenge = challenge_bar(OfflineGrader(toolkit.embedder, looking, reference), dev, toolkit.kb)
    print(f"challenge bar: similarity {challenge}", file=sys.stderr)
    base = base.model_copy(update={"challenge": min(challenge, base.red_flag)})
    chosen: tuple[float, float, ScorerParams, Line] | None = None
    for match in MATCH_GRID:
        for red_flag in RED_FLAG_GRID:
            params = base.model_copy(update={"match": match, "red_flag": red_flag})
            grader = OfflineGrader(toolkit.embedder, params, reference)
            rows = phase_rows(grader, dev, toolkit.kb)
            weights, cuts, qwk, rmse = fit_scorer(rows)
            # As written to the file (4 decimals), so the line below is the one the grader needs.
            weights, cuts = np.round(weights, 4), np.round(cuts, 4)
            # Thresholds are chosen by the scores a candidate sees, i.e. after the phase calibration
            # (the raw means' QWK once picked a threshold that was worse once calibrated).
            line = spread_line(phase_scores(rows, weights, cuts, 0.0), rows.labels)
            seen = seen_levels(rows, weights, cuts, line)
            qwk_seen = quadratic_weighted_kappa(rows.labels.astype(int).tolist(), seen)
            qwk_cv = cross_validated_qwk(rows)
            print(
                f"match {match:.2f} red flag {red_flag:.2f}: dev QWK {qwk:.3f} "
                f"({qwk_seen:.3f} calibrated, {qwk_cv:.3f} cross-validated), RMSE {rmse:.3f}",
                file=sys.stderr,
            )
            candidate = params.model_copy(
                update={
                    "weights": {f: float(w) for f, w in zip(FEATURES, weights, strict=True)},
                    "cuts": tuple(float(c) for c in cuts),
                    "fitted": {
                        "command": "python -m evals.fit",
                        "split": "dev",
                        "cases": len(dev),
                        "phases": len(rows.labels),
                        "dataset_sha256": dataset_fingerprint(dev),
                        "dev_qwk": round(qwk, 4),
                        "dev_qwk_calibrated": round(qwk_seen, 4),
                        "dev_qwk_cross_validated": round(qwk_cv, 4),
                        "dev_rmse": round(rmse, 4),
                    },
                }
            )
            if chosen is None or (qwk_cv, -rmse) > chosen[:2]:
                chosen = (qwk_cv, -rmse, candidate, line)
    assert chosen is not None
    _, _, params, line = chosen
    out.write_text(json.dumps(params.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8")
    print(f"phase calibration: slope {line.slope}, intercept {line.intercept}", file=sys.stderr)
    calibration = Calibration(
        engines={OfflineGrader.engine: line},
        fitted={
            "command": "python -m evals.fit",
            "split": "dev",
            "phases": params.fitted["phases"],
            "dataset_sha256": dataset_fingerprint(dev),
            "rule": "the labels' mean and standard deviation (slope at least 1)",
        },
    )
    calibration_out.write_text(
        json.dumps(calibration.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8"
    )
    return params


def main(argv: list[str] | None = None) -> int:
    """`python -m evals.fit [--home H]`: refit and write agent/grading/offline_params.json."""
    parser = argparse.ArgumentParser(prog="python -m evals.fit", description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="MLSD_HOME to use (for the embedding cache)")
    args = parser.parse_args(argv)
    settings = Settings.from_env(home=args.home)
    params = fit(settings)
    print(json.dumps(params.fitted), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
