"""The regression gate: compare a run with the committed baseline, metric by metric and case by case.

A metric regresses when it falls by more than its tolerance (the agreement metrics are computed
on about a hundred labelled phases per split, so a small wobble is not a signal); a case regresses
when a labelled phase's distance from the human label grows by a whole level. Smaller moves are
listed as changes so a reviewer sees them, without failing the build.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from agent.report_model import to_json
from evals.results import RunResult, SuiteMetrics

BASELINE_DIR = Path(__file__).resolve().parent / "baseline"
#: Allowed drop per metric, checked on the dev and test splits.
TOLERANCES = {
    "qwk": 0.05,
    "spearman": 0.05,
    "exact": 0.06,
    "within_one": 0.04,
    "pairwise": 0.04,
    "hit_at_3": 0.05,
}
#: Allowed rise of the highest score given to an adversarial answer.
ADVERSARIAL_RISE = 0.25
#: A case phase regresses when |engine - human| grows by this much.
CASE_ERROR_GROWTH = 1.0
#: A phase score that moves by at least this much is listed as a change.
CHANGE = 0.25


def baseline_path(engine_key: str, folder: Path = BASELINE_DIR) -> Path:
    """Where the committed baseline of an engine lives."""
    return folder / f"{engine_key}.json"


def baseline_document(run: RunResult) -> dict[str, Any]:
    """What is committed: per-case scores and ranked topics, and the metrics (as JSON)."""
    return {
        "engine": run.engine,
        "metrics": to_json(run.metrics),
        "cases": {
            r.case: {
                "split": r.split,
                "scores": r.scores,
                "labels": r.labels,
                "probes": [p.ranked for p in r.probes],
                "flow_ok": r.flow.ok,
            }
            for r in run.cases
        },
    }


def write_baseline(run: RunResult, path: Path) -> None:
    """Rewrite the baseline deliberately (`mlsd eval --update-baseline`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = jsonable(baseline_document(run))
    text = json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")


def jsonable(value: Any) -> Any:
    """The value with NaN (an undefined metric, e.g. a correlation over one case) as null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def read_baseline(path: Path) -> dict[str, Any] | None:
    """The committed baseline, or None if there is none yet."""
    if not path.is_file():
        return None
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def compare(run: RunResult, baseline: dict[str, Any], partial: bool = False) -> dict[str, Any]:
    """Regressions (fail the gate), changes (shown) and improvements, against the baseline.

    `partial`: only some cases were run on purpose (`--case`), so the others are not missing. The
    baseline is the committed JSON as read (older baselines may lack a metric: it is not compared),
    and so is what this returns: `mlsd eval --json` prints it as the run's `gate`.
    """
    regressions: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    improvements: list[dict[str, Any]] = []
    base_cases: dict[str, Any] = baseline.get("cases", {})
    current = {r.case: r for r in run.cases}
    same_cases = set(current) == set(base_cases)
    if same_cases:
        _compare_metrics(run.metrics, baseline["metrics"], regressions, improvements)
    for case_id, result in sorted(current.items()):
        before = base_cases.get(case_id)
        if before is None:
            changes.append({"kind": "new_case", "case": case_id})
            continue
        if before.get("flow_ok") and not result.flow.ok:
            regressions.append({"kind": "flow", "case": case_id, "flow": to_json(result.flow)})
        for phase, score in result.scores.items():
            old = before["scores"].get(phase)
            if old is None or abs(score - old) < CHANGE:
                continue
            label = result.labels.get(phase)
            entry = {
                "kind": "case",
                "case": case_id,
                "phase": phase,
                "label": label,
                "baseline": old,
                "current": score,
            }
            if label is not None and abs(score - label) - abs(old - label) >= CASE_ERROR_GROWTH:
                regressions.append(entry)
            elif label is not None and abs(old - label) - abs(score - label) >= CHANGE:
                improvements.append(entry)
            else:
                changes.append(entry)
    for case_id in [] if partial else sorted(set(base_cases) - set(current)):
        changes.append({"kind": "missing_case", "case": case_id})
    return {
        "passed": not regressions,
        "compared_metrics": same_cases,
        "regressions": regressions,
        "changes": changes,
        "improvements": improvements,
    }


def _compare_metrics(
    now: SuiteMetrics,
    before: dict[str, Any],
    regressions: list[dict[str, Any]],
    improvements: list[dict[str, Any]],
) -> None:
    for split in ("dev", "test"):
        for name, tolerance in TOLERANCES.items():
            _check(
                f"{split}.{name}",
                now.split(split).value(name),
                before.get(split, {}).get(name),
                tolerance,
                +1,
                regressions,
                improvements,
            )
    _check(
        "adversarial_max",
        now.adversarial_max,
        before.get("adversarial_max"),
        ADVERSARIAL_RISE,
        -1,
        regressions,
        improvements,
    )
    for profile, score in now.adversarial_by_profile.items():
        _check(
            f"adversarial_max.{profile}",
            score,
            before.get("adversarial_by_profile", {}).get(profile),
            ADVERSARIAL_RISE,
            -1,
            regressions,
            improvements,
        )
    _check(
        "wrong_claims_challenged",
        now.wrong_claims_challenged,
        before.get("wrong_claims_challenged"),
        0.0,
        +1,
        regressions,
        improvements,
    )
    _check(
        "covered_repeats",
        now.covered_repeats,
        before.get("covered_repeats"),
        0.0,
        -1,
        regressions,
        improvements,
    )
    _check("phase_flow", now.phase_flow, before.get("phase_flow"), 0.0, +1, regressions, improvements)
    _check(
        "evidence_validity",
        now.evidence_validity,
        before.get("evidence_validity"),
        0.0,
        +1,
        regressions,
        improvements,
    )
    # The clarification matcher is the same code for every engine; a note edit (a reworded fact, a
    # new asked_as wording) can cost right answers or add wrong facts, so neither may get worse.
    for split, clarify in now.clarifications.items():
        then = before.get("clarifications", {}).get(split, {})
        for name, value, direction in (
            ("accuracy", clarify.accuracy, +1),
            ("wrong_facts", clarify.wrong_facts, -1),
        ):
            _check(
                f"clarifications.{split}.{name}",
                value,
                then.get(name),
                0.0,
                direction,
                regressions,
                improvements,
            )


def _check(
    name: str,
    current: float | None,
    baseline: float | None,
    tolerance: float,
    direction: int,
    regressions: list[dict[str, Any]],
    improvements: list[dict[str, Any]],
) -> None:
    """direction +1: higher is better; -1: lower is better."""
    if current is None or baseline is None or _nan(current) or _nan(baseline):
        return
    delta = (current - baseline) * direction
    entry = {
        "kind": "metric",
        "metric": name,
        "baseline": baseline,
        "current": current,
        "tolerance": tolerance,
    }
    if delta < -tolerance - 1e-9:
        regressions.append(entry)
    elif delta > 1e-9:
        improvements.append(entry)


def _nan(value: float) -> bool:
    return isinstance(value, float) and math.isnan(value)
