"""Fit how follow-ups are ranked, on the dev split's labelled probe points, and write the weights.

    python -m evals.fit_followups

Replays every dev case that has probe labels (the offline engine, the default weights of
agent.policy.FollowupWeights, so a refit does not depend on the last one), records at each labelled
probe point the open follow-ups and what their rank depends on, then grid-searches the weights for
the best dev hit@3 (hit@1, then the smaller bonuses, break ties) and writes
`agent/followup_params.json`. Test cases are never read.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from agent.config import Settings
from agent.engines.offline import OfflineEngine
from agent.policy import FOLLOWUP_PARAMS_PATH, FollowupWeights, rank_followups
from agent.session import Toolkit, build_context
from evals.dataset import DATASET_DIR, Case, load_dataset
from evals.metrics import hit_at_k
from evals.replay import ProbePoint, replay_case

GAP = (0.0, 0.1, 0.2, 0.3, 0.4)
GAP_PRIMARY = (0.0, 0.1, 0.2, 0.3)
CRITICAL = (0.0, 0.1, 0.2, 0.3)
PROBLEM_SPECIFIC = (0.0, 0.08, 0.15)
PHASE_NOTE = (0.0, 0.05, 0.1)


@dataclass(frozen=True)
class Labelled:
    """A labelled probe point: the topics a senior interviewer would probe, and what was open then
    (None when the replay never reached it: the interviewer had moved on, a miss for every weight)."""

    expected: list[str]
    point: ProbePoint | None


def collect(toolkit: Toolkit, cases: list[Case]) -> list[Labelled]:
    """Replay the cases under the default weights and keep each labelled probe point."""
    engine = OfflineEngine(toolkit.grader)
    shared = build_context(toolkit, engine)
    found: list[Labelled] = []
    for case in cases:
        observed: list[ProbePoint] = []
        replay_case(case, toolkit, engine, shared=shared, probing=FollowupWeights(), observe=observed.append)
        at = {(p.phase, p.answer): p for p in observed}
        found += [Labelled(list(p.topics), at.get((p.phase, p.answer))) for p in case.labels.probes]
    return found


def hits(points: list[Labelled], weights: FollowupWeights, k: int) -> float:
    """hit@k of the weights over the labelled points."""
    pairs = [
        (
            p.expected,
            []
            if p.point is None
            else [c.topic for c in rank_followups(p.point.candidates, p.point.probe, k, weights)],
        )
        for p in points
    ]
    return hit_at_k(pairs, k)


def fit(points: list[Labelled]) -> tuple[FollowupWeights, float, float]:
    """The grid's weights with the best hit@3 (then hit@1, then the smaller bonuses)."""
    best: tuple[tuple[float, float, float], FollowupWeights] | None = None
    for gap, primary, critical, specific, phase_note in itertools.product(
        GAP, GAP_PRIMARY, CRITICAL, PROBLEM_SPECIFIC, PHASE_NOTE
    ):
        weights = FollowupWeights(
            gap=gap, gap_primary=primary, critical=critical, problem_specific=specific, phase_note=phase_note
        )
        key = (
            round(hits(points, weights, 3), 6),
            round(hits(points, weights, 1), 6),
            -(gap + primary + critical + specific + phase_note),
        )
        if best is None or key > best[0]:
            best = (key, weights)
    assert best is not None
    return best[1], best[0][0], best[0][1]


def main(argv: list[str] | None = None) -> int:
    """`python -m evals.fit_followups [--home H]`: refit on dev and write the weights."""
    parser = argparse.ArgumentParser(
        prog="python -m evals.fit_followups", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--home", type=Path, help="MLSD_HOME to use (for the embedding cache)")
    parser.add_argument("--dataset", type=Path, default=DATASET_DIR)
    args = parser.parse_args(argv)
    from agent.session import load_toolkit

    toolkit = load_toolkit(Settings.from_env(home=args.home))
    dev = [c for c in load_dataset(args.dataset) if c.labels.split == "dev" and c.labels.probes]
    points = collect(toolkit, dev)
    prior = hits(points, FollowupWeights(), 3)
    weights, hit3, hit1 = fit(points)
    fitted = weights.model_copy(
        update={
            "fitted": {
                "command": "python -m evals.fit_followups",
                "split": "dev",
                "probe_points": len(points),
                "unreached": sum(p.point is None for p in points),
                "dev_hit_at_3": round(hit3, 4),
                "dev_hit_at_1": round(hit1, 4),
                "dev_hit_at_3_default_weights": round(prior, 4),
            }
        }
    )
    FOLLOWUP_PARAMS_PATH.write_text(
        json.dumps(fitted.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8"
    )
    print(
        f"dev: {len(points)} probe points, hit@3 {prior:.3f} with the default weights -> {hit3:.3f}"
        f" (hit@1 {hit1:.3f})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
