"""The offline grader's fitted files are what `python -m evals.fit` writes from today's content and
dataset: a rubric, red-flag or feature change committed without a refit fails here (one did: new red
flags shipped with weights fitted before them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent.config import Settings
from agent.grading.offline import PARAMS_PATH
from agent.grading.scale import CALIBRATION_PATH
from evals.fit import fit

#: Weights, cuts and the calibration line are written with 4 decimals; another CPU's arithmetic may
#: move the last one.
TOLERANCE = 2e-3


@pytest.mark.real
def test_refitting_on_the_dev_split_reproduces_the_committed_parameters(
    bundled_settings: Settings, tmp_path: Path
) -> None:
    out, calibration_out = tmp_path / "offline_params.json", tmp_path / "calibration.json"
    fit(bundled_settings, out=out, calibration_out=calibration_out)
    refit, committed = _read(out), _read(PARAMS_PATH)
    for numbers in ("weights", "cuts"):
        assert _flat(refit.pop(numbers)) == pytest.approx(_flat(committed.pop(numbers)), abs=TOLERANCE)
    for noisy in ("dev_qwk", "dev_qwk_calibrated", "dev_rmse"):
        assert refit["fitted"].pop(noisy) == pytest.approx(committed["fitted"].pop(noisy), abs=TOLERANCE)
    assert refit == committed, "refit with `python -m evals.fit` and commit the result"
    line, kept = _read(calibration_out), _read(CALIBRATION_PATH)
    for key in ("slope", "intercept"):
        assert line["engines"]["offline"].pop(key) == pytest.approx(
            kept["engines"]["offline"].pop(key), abs=TOLERANCE
        )
    assert line == kept


def _read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _flat(value: object) -> list[float]:
    """A weights mapping or a cuts list as a list of numbers (mapping keys in order)."""
    if isinstance(value, dict):
        return [float(v) for v in value.values()]
    assert isinstance(value, list)
    return [float(v) for v in value]
