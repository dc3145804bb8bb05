"""Scorers: agreement with human labels, follow-up hit@k, phase flow, robustness, evidence, cost.

Written with numpy alone (no scipy at run time). Engine scores are fractions; metrics that compare
levels (kappa, exact, within-one, confusion) round them to the nearest level first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from evals.results import CaseResult, SplitMetrics, SuiteMetrics

LEVELS = (1, 2, 3, 4)


def to_level(score: float) -> int:
    """The nearest level on the 1-4 scale (halves round up, as a person reading 2.5 would)."""
    return int(min(4, max(1, np.floor(score + 0.5))))


def quadratic_weighted_kappa(human: Sequence[int], engine: Sequence[int]) -> float:
    """Cohen's kappa with quadratic weights on the 1-4 scale; 1 is perfect, 0 is chance."""
    if not human:
        return float("nan")
    n = len(LEVELS)
    observed = np.zeros((n, n))
    for h, e in zip(human, engine, strict=True):
        observed[h - 1, e - 1] += 1
    weights = np.array([[(i - j) ** 2 for j in range(n)] for i in range(n)]) / (n - 1) ** 2
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    denominator = float((weights * expected).sum())
    if denominator == 0:
        return 1.0 if float((weights * observed).sum()) == 0 else 0.0
    return 1.0 - float((weights * observed).sum()) / denominator


def _ranks(values: Sequence[float]) -> np.ndarray:
    """Ranks with ties averaged."""
    array = np.asarray(values, dtype=float)
    order = np.argsort(array, kind="mergesort")
    ranks = np.empty(len(array))
    ranks[order] = np.arange(1, len(array) + 1)
    for value in np.unique(array):
        tied = array == value
        ranks[tied] = ranks[tied].mean()
    return ranks


def spearman(human: Sequence[float], engine: Sequence[float]) -> float:
    """Spearman's rank correlation (Pearson's r of the tie-averaged ranks)."""
    if len(human) < 2:
        return float("nan")
    a, b = _ranks(human), _ranks(engine)
    if a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def pairwise_order(human: Sequence[float], engine: Sequence[float]) -> float:
    """Of all pairs the human ranks differently, the share the engine orders the same way (ties: half)."""
    h, e = np.asarray(human, dtype=float), np.asarray(engine, dtype=float)
    upper = np.triu(np.ones((len(h), len(h)), dtype=bool), k=1)
    ranked = upper & (h[:, None] != h[None, :])
    d = (e[:, None] - e[None, :]) * (h[:, None] - h[None, :])
    total = int(ranked.sum())
    if not total:
        return float("nan")
    return float(((d > 0) & ranked).sum() + 0.5 * ((d == 0) & ranked).sum()) / total


def confusion(human: Sequence[int], engine: Sequence[int]) -> list[list[int]]:
    """Counts of (human level, engine level), rows human 1-4, columns engine 1-4."""
    matrix = [[0] * len(LEVELS) for _ in LEVELS]
    for h, e in zip(human, engine, strict=True):
        matrix[h - 1][e - 1] += 1
    return matrix


def agreement(pairs: Sequence[tuple[int, float]]) -> dict[str, float]:
    """All agreement metrics over (human label, engine score) pairs."""
    human = [h for h, _ in pairs]
    scores = [e for _, e in pairs]
    levels = [to_level(e) for e in scores]
    n = len(pairs)
    return {
        "n": n,
        "qwk": quadratic_weighted_kappa(human, levels),
        "spearman": spearman(human, scores),
        "exact": sum(h == e for h, e in zip(human, levels, strict=True)) / n if n else float("nan"),
        "within_one": sum(abs(h - e) <= 1 for h, e in zip(human, levels, strict=True)) / n
        if n
        else float("nan"),
        "pairwise": pairwise_order(human, scores),
        "mean_abs_error": float(np.mean([abs(h - e) for h, e in pairs])) if n else float("nan"),
    }


#: The metrics that get an interval, each from (human labels, engine scores).
_SINGLE: dict[str, Callable[[list[int], list[float]], float]] = {
    "qwk": lambda human, scores: quadratic_weighted_kappa(human, [to_level(s) for s in scores]),
    "spearman": lambda human, scores: spearman(human, scores),
    "pairwise": lambda human, scores: pairwise_order(human, scores),
}
#: Resamples for the bootstrap intervals; a fixed seed keeps a run's report reproducible.
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 11


def bootstrap_interval(
    cases: Sequence[Sequence[tuple[int, float]]],
    metric: str,
    level: float = 0.95,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> tuple[float, float]:
    """A percentile bootstrap interval for an agreement metric, resampling whole cases.

    Cases, not phases, are resampled: the phases of one transcript share a candidate and a writer,
    so treating them as independent would make the interval too narrow.
    """
    cases = [c for c in cases if c]
    if len(cases) < 2:
        return (float("nan"), float("nan"))
    score = _SINGLE[metric]
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    values = []
    for _ in range(resamples):
        drawn = [pair for i in rng.integers(0, len(cases), len(cases)) for pair in cases[i]]
        value = score([h for h, _ in drawn], [e for _, e in drawn])
        if not np.isnan(value):
            values.append(value)
    if not values:
        return (float("nan"), float("nan"))
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return (float(low), float(high))


def hit_at_k(probes: Iterable[tuple[Sequence[str], Sequence[str]]], k: int) -> float:
    """Share of marked answers where one of the expected topics is among the top k ranked."""
    rows = list(probes)
    if not rows:
        return float("nan")
    return sum(bool(set(expected) & set(ranked[:k])) for expected, ranked in rows) / len(rows)


def suite_metrics(results: Sequence[CaseResult], k: int = 3) -> SuiteMetrics:
    """Every metric of a run, per split (dev, test) and over all labelled cases."""
    splits: dict[str, SplitMetrics] = {}
    for split in ("dev", "test", "all"):
        rows = [r for r in results if split == "all" or r.split == split]
        pairs = [
            (label, r.scores[p])
            for r in rows
            for p, label in r.labels.items()
            if label is not None and p in r.scores
        ]
        probes = [(p.expected, p.ranked) for r in rows for p in r.probes]
        by_case = [
            [(label, r.scores[p]) for p, label in r.labels.items() if label is not None and p in r.scores]
            for r in rows
        ]
        splits[split] = SplitMetrics.model_validate(
            {
                "cases": len(rows),
                **agreement(pairs),
                **{
                    f"{m}_ci95": list(bootstrap_interval(by_case, m)) for m in ("qwk", "spearman", "pairwise")
                },
                "hit_at_1": hit_at_k(probes, 1),
                "k": k,
                "hit_at_k": hit_at_k(probes, k),
            }
        )
    # (kind of candidate, score) for every phase labelled adversarial
    adversarial_phases = [
        (r.profile, r.scores[p]) for r in results for p in r.adversarial_phases if p in r.scores
    ]
    adversarial = [score for _, score in adversarial_phases]
    quotes = sum(r.evidence.quotes for r in results)
    verbatim = sum(r.evidence.verbatim for r in results)
    by_kind: dict[str, float] = {}
    for profile, score in adversarial_phases:
        by_kind[profile] = max(by_kind.get(profile, 1.0), score)
    claims = [c for r in results for c in r.wrong_claims]
    # Only a claim the interviewer heard can be challenged: an answer the replay never sent (its
    # phase had already ended) is counted apart rather than as a miss.
    heard = [c for c in claims if c.heard]
    usage: dict[str, int | float] = {}
    for r in results:
        for key, value in r.usage.items():
            usage[key] = usage.get(key, 0) + value
    return SuiteMetrics(
        dev=splits["dev"],
        test=splits["test"],
        all=splits["all"],
        adversarial_max=max(adversarial, default=float("nan")),
        adversarial_by_profile=dict(sorted(by_kind.items())),
        adversarial_mean=float(np.mean(adversarial)) if adversarial else float("nan"),
        wrong_claims=len(claims),
        wrong_claims_heard=len(heard),
        wrong_claims_challenged=sum(c.challenged for c in heard) / len(heard) if heard else float("nan"),
        covered_repeats=sum(len(r.covered_repeats) for r in results),
        phase_flow=sum(r.flow.ok for r in results) / len(results) if results else float("nan"),
        evidence_validity=verbatim / quotes if quotes else 1.0,
        evidence_quotes=quotes,
        usage=usage,
    )


def confusion_by_phase(results: Sequence[CaseResult]) -> dict[str, list[list[int]]]:
    """Per phase, the human-vs-engine level counts over labelled cases."""
    out: dict[str, list[list[int]]] = {}
    for r in results:
        for phase, label in r.labels.items():
            if label is None or phase not in r.scores:
                continue
            matrix = out.setdefault(phase, [[0] * 4 for _ in LEVELS])
            matrix[label - 1][to_level(r.scores[phase]) - 1] += 1
    return out
