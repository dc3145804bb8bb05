"""`mlsd kb build|search|check` as docs/interfaces.md describes them: JSON on stdout only, exit codes,
filters."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent.cli.main import main
from agent.config import Settings
from agent.search.index import KnowledgeIndex


@pytest.fixture
def home(bundled_settings: Settings, index: KnowledgeIndex) -> str:
    """The session's home, whose index is already built."""
    return str(bundled_settings.home)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_search_json_has_spec_shape(home: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys, "kb", "search", "new user with no history", "-k", "4", "--json", "--home", home
    )
    assert code == 0
    results = json.loads(out)["results"]
    assert len(results) == 4
    for r in results:
        assert set(r) >= {"text", "topic", "phase", "problem", "source", "distance"}
        assert isinstance(r["text"], str) and r["text"]
        assert r["topic"] is None or isinstance(r["topic"], str)
        assert isinstance(r["distance"], float) and 0 <= r["distance"] <= 2
    assert [r["distance"] for r in results] == sorted(r["distance"] for r in results)
    assert "cold_start" in [r["topic"] for r in results]


def test_search_filters_by_phase_and_problem(home: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys,
        "kb",
        "search",
        "labels arrive weeks late",
        "--phase",
        "data_preparation",
        "--problem",
        "payment_fraud_detection",
        "--json",
        "--home",
        home,
        "-k",
        "8",
    )
    assert code == 0
    results = json.loads(out)["results"]
    assert len(results) == 8
    for r in results:
        assert r["phase"] in ("data_preparation", None)
        assert "data_preparation" in r["phases"] or not r["phases"]
        assert r["problem"] in ("payment_fraud_detection", None)
    assert any(r["topic"] == "delayed_labels" for r in results)


def test_search_human_output(home: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys, "kb", "search", "predicted probabilities do not match reality", "--home", home
    )
    assert code == 0
    assert out.startswith("1. [")
    assert "distance" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--phase", "modeling"], "unknown phase 'modeling'"),
        (["--problem", "music"], "unknown problem 'music'"),
        (["-k", "0"], "-k must be at least 1"),
        (["--kind", "rubric"], "invalid choice: 'rubric'"),
    ],
)
def test_bad_search_usage_exits_2_with_one_line(
    home: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = _run(capsys, "kb", "search", "anything", "--json", "--home", home, *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err


def test_empty_query_is_a_usage_error(home: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "kb", "search", "   ", "--home", home)
    assert code == 2 and out == "" and "query is empty" in err


def test_build_json_reports_a_skipped_rebuild(home: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "kb", "build", "--json", "--home", home)
    assert code == 0
    stats = json.loads(out)
    assert stats["skipped"] is True and stats["embedded"] == 0 and stats["total"] > 300


def test_check_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "kb", "check", "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["ok"] is True and summary["topics"] == 29 and summary["phases"] == 7
    assert summary["problems"] >= 10 and summary["followups"] >= 29 * 4


def test_real_process_prints_only_json_on_stdout(home: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "agent.cli.main", "kb", "search", "too many fraudsters", "--json", "-k", "2"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "MLSD_HOME": home, "ANONYMIZED_TELEMETRY": "False"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["results"]) == 2
