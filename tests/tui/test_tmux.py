"""The app in a real terminal: tmux runs `mlsd practice`, the test types into it and reads the screen."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from agent.config import Settings

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)"
)


def _screen(session: str) -> str:
    return subprocess.run(
        ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True
    ).stdout


def _wait_for(session: str, needle: str, timeout: float = 90.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        screen = _screen(session)
        if needle in screen:
            return screen
        time.sleep(0.25)
    raise AssertionError(f"{needle!r} never appeared; the screen was:\n{_screen(session)}")


def test_practice_in_a_real_terminal(bundled_settings: Settings, toolkit: object, tmp_path: Path) -> None:
    session = f"mlsd-test-{uuid.uuid4().hex[:6]}"
    home = bundled_settings.home  # its index is already built
    command = f"{sys.executable} -m agent.cli.main practice --problem video_recommendation --home {home}"
    env = {**os.environ, "TERM": "xterm-256color", "ANONYMIZED_TELEMETRY": "False"}
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40", command],
        check=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        _wait_for(session, "what would you want to know")
        _wait_for(session, "Enter sends")  # the placeholder once the interviewer is ready
        subprocess.run(
            [
                "tmux",
                "send-keys",
                "-t",
                session,
                "-l",
                "I would optimise watch time, because clicks reward clickbait.",
            ],
            check=True,
        )
        subprocess.run(["tmux", "send-keys", "-t", session, "Enter"], check=True)
        screen = _wait_for(session, "clicks reward clickbait")
        assert "Next phase" in screen and "Hint" in screen  # the footer shows the key bindings
        _wait_for(session, "Rubric so far")
        subprocess.run(["tmux", "send-keys", "-t", session, "C-q"], check=True)
        deadline = time.monotonic() + 20
        while (
            time.monotonic() < deadline
            and session in subprocess.run(["tmux", "ls"], capture_output=True, text=True).stdout
        ):
            time.sleep(0.25)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    transcripts = sorted((home / "sessions").glob("*.jsonl"), key=lambda p: p.stat().st_mtime)
    assert "clicks reward clickbait" in transcripts[-1].read_text(encoding="utf-8")
