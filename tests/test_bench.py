"""`mlsd bench` runs its measurements for real and reports them with the budgets (not a timed test:
the figures are only checked for being measured and consistent, never against the clock)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent.bench import BUDGETS, percentile

pytestmark = pytest.mark.real

REPO = Path(__file__).resolve().parents[1]


def test_percentiles() -> None:
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 95) == 3.85


def test_bench_measures_index_startup_and_search_and_checks_budgets(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "agent.cli.main",
            "--home",
            str(tmp_path),
            "bench",
            "--only",
            "startup",
            "--only",
            "search",
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout)
    index = figures["index_build_s"]
    assert index["cold"] > 0 and index["nochange_skipped"] is True and index["nochange"] < index["cold"]
    startup = figures["startup_s"]
    assert startup["cold"] > 0 and startup["warm"] > 0
    search = figures["search_ms"]
    assert search["n"] > 10 and 0 < search["p50"] <= search["p95"] <= search["max"]
    budgets = figures["budgets"]
    assert set(budgets) <= set(BUDGETS) and {"startup_warm_s", "index_nochange_s"} <= set(budgets)
    assert all(isinstance(b["met"], bool) for b in budgets.values())
