"""The offline engine needs no network at all, and what it writes is readable by the user only."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from agent.config import Settings

pytestmark = pytest.mark.real

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "tests" / "fixtures" / "interviews" / "payment_fraud_detection_weak.yaml"

# Blocks every non-local socket connection and records the attempt: used where no network
# namespace can be made.
BLOCKER = """
import socket, sys
_connect = socket.socket.connect
def _refuse(self, address):
    if self.family != socket.AF_UNIX:
        sys.stderr.write(f"NETWORK ATTEMPT {address!r}\\n")
        raise OSError("network disabled by the test")
    return _connect(self, address)
socket.socket.connect = _refuse
socket.socket.connect_ex = lambda self, address: _refuse(self, address)
"""


def _isolated_command(tmp_path: Path) -> tuple[list[str], dict[str, str], str]:
    """A command prefix with no network: a fresh network namespace if possible, else blocked sockets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANONYMIZED"))}
    if (
        shutil.which("unshare")
        and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0
    ):
        return ["unshare", "-n"], env, "network namespace"
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")])
    return [], env, "blocked sockets"


def test_a_whole_interview_runs_with_networking_disabled(
    bundled_settings: Settings, toolkit: object, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    shutil.copytree(bundled_settings.index_dir, home / "index")  # a built index, so the run is quick
    prefix, env, how = _isolated_command(tmp_path)
    result = subprocess.run(
        [
            *prefix,
            sys.executable,
            "-m",
            "agent.cli.main",
            "interview",
            "--problem",
            "payment_fraud_detection",
            "--answers",
            str(SCRIPT),
            "--home",
            str(home),
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "NETWORK ATTEMPT" not in result.stderr
    report = json.loads(result.stdout)["report"]
    assert report["backend"] == "offline" and len(report["phases"]) == 7
    print(f"whole interview offline with {how}: score {report['score']}")


def test_files_under_mlsd_home_are_private(
    bundled_settings: Settings, toolkit: object, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "agent.cli.main",
            "interview",
            "--problem",
            "payment_fraud_detection",
            "--answers",
            str(SCRIPT),
            "--home",
            str(home),
            "--json",
            "--knowledge",
            str(REPO / "knowledge"),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    assert result.returncode == 0, result.stderr
    paths = [p for p in home.rglob("*")]
    assert any(p.suffix == ".jsonl" for p in paths) and any(p.name == "chroma.sqlite3" for p in paths)
    for path in [home, *paths]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path} is readable by others ({oct(mode)})"


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_session_is_listed_not_dropped(tmp_path: Path, damage: str) -> None:
    from agent.history import list_sessions

    sessions = tmp_path / "sessions"
    sessions.mkdir()
    good = '{"event": "session", "session_id": "ok", "problem": "visual_search", "time": 1}\n'
    (sessions / "ok.jsonl").write_text(good, encoding="utf-8")
    bad = "\x00\xff not json\n" if damage == "garbage" else good + '{"event": "turn", "text": "cut off'
    (sessions / "bad.jsonl").write_text(bad, encoding="utf-8")
    listed = {s.session_id: s for s in list_sessions(tmp_path)}
    assert set(listed) == {"ok", "bad"}
    assert listed["bad"].damaged and "line" in listed["bad"].damaged and not listed["ok"].damaged
