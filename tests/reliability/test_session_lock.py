"""One process owns a session: a second one is refused in one line (exit 2), and a crash frees it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from agent.errors import UsageError
from agent.session_lock import SessionLock, is_locked

pytestmark = pytest.mark.real

HOLD = """
import sys, time
from pathlib import Path
from agent.session_lock import SessionLock
lock = SessionLock(Path(sys.argv[1]), "held")
print("ready", flush=True)
time.sleep(600)
"""


def _holder(path: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def test_a_second_owner_is_refused_until_the_first_dies(tmp_path: Path) -> None:
    path = tmp_path / "sessions" / "held.lock"
    holder = _holder(path)
    try:
        assert is_locked(path)
        with pytest.raises(UsageError, match=rf"open in another mlsd window \(pid {holder.pid}\)"):
            SessionLock(path, "held")
    finally:
        os.kill(holder.pid, signal.SIGKILL)  # a crash, not a clean exit
        holder.wait()
    assert not is_locked(path)
    SessionLock(path, "held").release()


def test_the_cli_refuses_a_session_open_elsewhere(tmp_path: Path) -> None:
    home = tmp_path / "home"
    holder = _holder(home / "sessions" / "held.lock")
    answers = tmp_path / "answers.yaml"
    answers.write_text("clarify_requirements:\n  - What is the latency budget?\n", encoding="utf-8")
    env = {**os.environ, "MLSD_HOME": str(home)}
    try:
        for argv in (
            [
                "interview",
                "--problem",
                "video_recommendation",
                "--answers",
                str(answers),
                "--session-id",
                "held",
            ],
            ["practice", "--resume", "held"],
        ):
            if argv[0] == "practice":  # the app needs an existing session to resume
                (home / "sessions" / "held.jsonl").write_text('{"event": "session"}\n', encoding="utf-8")
            run = subprocess.run(
                [sys.executable, "-m", "agent.cli.main", *argv],
                capture_output=True,
                text=True,
                env=env,
                timeout=600,
            )
            assert run.returncode == 2, run.stderr
            lines = [line for line in run.stderr.splitlines() if line.strip()]
            assert "open in another mlsd window" in lines[-1] and "Traceback" not in run.stderr
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()


PROBE = (
    "import sys; from pathlib import Path; from agent.session_lock import is_locked as f; "
    "sys.exit(3 * f(Path(sys.argv[1])))"
)


def _locked_for_others(path: Path) -> bool:
    return subprocess.run([sys.executable, "-c", PROBE, str(path)], timeout=60).returncode == 3


def test_one_process_may_reopen_its_own_session(tmp_path: Path) -> None:
    path = tmp_path / "sessions" / "mine.lock"
    first = SessionLock(path, "mine")
    second = SessionLock(path, "mine")  # e.g. the app going back to a session it has open
    first.release()
    assert not is_locked(path)  # not locked for this process, which owns it ...
    assert _locked_for_others(path)  # ... but still for every other one
    second.release()
    assert not _locked_for_others(path)
