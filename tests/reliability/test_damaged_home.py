"""Damaged files under MLSD_HOME: the checkpoint database and the settings file are set aside with a
notice, never a traceback; transcripts stay listed; preferences survive restarts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.config import Settings
from agent.history import list_sessions
from agent.preferences import Preferences, load_preferences, save_preferences
from agent.session import CHECKPOINTS, Interview, build_context, set_aside_damaged_checkpoints

pytestmark = pytest.mark.real

REPO = Path(__file__).resolve().parents[2]
SCRIPT = {"clarify_requirements": ["Who uses the feed, how many daily users, and what latency do we have?"]}


def _interview(home: Path, answers: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "agent.cli.main",
            "--home",
            str(home),
            "interview",
            "--backend",
            "offline",
            "--problem",
            "video_recommendation",
            "--answers",
            str(answers),
            "--json",
            *extra,
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ},
        timeout=300,
    )


def test_a_damaged_checkpoint_file_is_set_aside_and_reported(
    tmp_path: Path, bundled_settings: Settings, index: Any
) -> None:
    home = tmp_path / "home"
    # A copy of the session's built index, so the run does not embed the notes again.
    shutil.copytree(bundled_settings.home / "index", home / "index")
    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump(SCRIPT))
    first = _interview(home, answers, "--session-id", "before-damage")
    assert first.returncode == 0, first.stderr[-1500:]
    (home / CHECKPOINTS).write_bytes(b"\x00garbage, not a database" * 512)
    for suffix in ("-wal", "-shm"):
        (home / (CHECKPOINTS + suffix)).unlink(missing_ok=True)

    second = _interview(home, answers)
    assert second.returncode == 0, second.stderr[-1500:]
    assert "was damaged" in second.stderr and "Traceback" not in second.stderr
    assert list(home.glob("checkpoints.damaged-*.sqlite"))
    # The earlier session's transcript is still listed; resuming it says why it cannot be.
    sessions = {s.session_id: s for s in list_sessions(home)}
    assert "before-damage" in sessions and json.loads(second.stdout)["session_id"] in sessions
    again = _interview(home, answers, "--session-id", "before-damage")
    assert again.returncode == 2
    assert "no checkpoints" in again.stderr and "Traceback" not in again.stderr


def test_a_healthy_checkpoint_file_is_left_alone(tmp_path: Path, toolkit: Any) -> None:
    interview = Interview.create(build_context(toolkit), tmp_path, problem="visual_search")
    assert interview.notice is None
    assert set_aside_damaged_checkpoints(tmp_path) is None
    assert (tmp_path / CHECKPOINTS).is_file()


def test_settings_round_trip_and_a_damaged_file_falls_back_to_defaults(tmp_path: Path) -> None:
    assert load_preferences(tmp_path) == (Preferences(), None)
    save_preferences(tmp_path, Preferences(theme="textual-light", level="staff", length=60))
    assert (tmp_path / "settings.json").stat().st_mode & 0o777 == 0o600
    loaded, notice = load_preferences(tmp_path)
    assert loaded == Preferences(theme="textual-light", level="staff", length=60) and notice is None
    for damage in ('{"theme": "textual-light", "length": 50}', '{"theme": ', b"\xff\xfe\x00binary"):
        path = tmp_path / "settings.json"
        path.write_bytes(damage if isinstance(damage, bytes) else damage.encode())
        loaded, notice = load_preferences(tmp_path)
        assert loaded == Preferences()
        assert notice is not None and "was damaged" in notice
        assert not path.exists()
    assert len(list(tmp_path.glob("settings.damaged-*.json"))) >= 1
