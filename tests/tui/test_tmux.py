"""The app in a real terminal: tmux runs `mlsd practice`, the test types into it and reads the screen."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from agent.config import Settings

pytestmark = [
    pytest.mark.real,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)"),
]


def _terminal_env() -> dict[str, str]:
    """The app's environment in tmux: without COLUMNS and LINES, which Textual takes over the real
    terminal size (pytest-xdist workers have them set to 80 and 24)."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return {**env, "TERM": "xterm-256color", "ANONYMIZED_TELEMETRY": "False"}


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
    (home / "sessions").mkdir(parents=True, exist_ok=True)
    before = _transcripts(home)
    command = f"{sys.executable} -m agent.cli.main practice --problem video_recommendation --home {home}"
    env = _terminal_env()
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
        _quit(session)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    # Sent before the interviewer had loaded, and the app quit right after: the answer is saved.
    assert _answers(home, before) == ["I would optimise watch time, because clicks reward clickbait."]


def _quit(session: str) -> None:
    """Ctrl+Q mid-interview, confirmed, and wait for the app to end."""
    subprocess.run(["tmux", "send-keys", "-t", session, "C-q"], check=True)
    _wait_for(session, "Quit mid-interview?")
    subprocess.run(["tmux", "send-keys", "-t", session, "y"], check=True)
    deadline = time.monotonic() + 20
    while (
        time.monotonic() < deadline
        and session in subprocess.run(["tmux", "ls"], capture_output=True, text=True).stdout
    ):
        time.sleep(0.25)


def _start(home: Path, problem: str) -> str:
    session = f"mlsd-test-{uuid.uuid4().hex[:6]}"
    command = f"{sys.executable} -m agent.cli.main practice --problem {problem} --home {home}"
    env = _terminal_env()
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40", command],
        check=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    return session


def _transcripts(home: Path) -> set[str]:
    """The names of the session transcripts in the home (other tests' sessions share it)."""
    return {p.name for p in (home / "sessions").glob("*.jsonl")}


def _events(home: Path, before: set[str]) -> list[dict[str, Any]]:
    """The events of the one session started since `before`, or none yet: an answer sent while the
    interviewer loads comes before the session's file."""
    new = sorted(_transcripts(home) - before)
    assert len(new) <= 1, f"more than one new session: {new}"
    if not new:
        return []
    text = (home / "sessions" / new[0]).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line]


def _last_reply_word(home: Path, before: set[str]) -> str:
    """The last word of the interviewer's latest message, as the transcript has it."""
    turns = [e for e in _events(home, before) if e["event"] == "turn" and e["role"] == "interviewer"]
    return re.findall(r"[A-Za-z]{4,}", turns[-1]["text"])[-1]


def _above_the_box(screen: str) -> str:
    """The few chat lines just above the answer box (its top border is the last line with "╭"); empty
    while the box is not on screen (a capture taken mid-redraw, just after a resize)."""
    lines = screen.splitlines()
    borders = [i for i, line in enumerate(lines) if "╭" in line]
    if not borders:
        return ""
    top = borders[-1]
    return "\n".join(lines[max(0, top - 4) : top])


def _answers(home: Path, before: set[str]) -> list[str]:
    return [e["text"] for e in _events(home, before) if e["event"] == "turn" and e.get("kind") == "answer"]


def test_resize_keeps_the_chat_at_its_end_and_pastes_and_fast_keys_arrive_whole(
    bundled_settings: Settings, toolkit: object
) -> None:
    home = bundled_settings.home
    (home / "sessions").mkdir(parents=True, exist_ok=True)
    before = _transcripts(home)
    session = _start(home, "payment_fraud_detection")
    try:
        _wait_for(session, "Enter sends")
        for n in range(3):
            answer = f"Answer number {n}: fraud labels arrive weeks later through chargebacks, so we wait."
            subprocess.run(["tmux", "send-keys", "-t", session, "-l", answer], check=True)
            subprocess.run(["tmux", "send-keys", "-t", session, "Enter"], check=True)
            _wait_for(session, f"Answer number {n}")
            deadline = time.monotonic() + 30
            while len([e for e in _events(home, before) if e["event"] == "turn"]) < 2 * n + 3:
                assert time.monotonic() < deadline, f"the interviewer never replied:\n{_screen(session)}"
                time.sleep(0.25)
            _wait_for(session, _last_reply_word(home, before))  # on screen too: the candidate reads it first
        last = _last_reply_word(home, before)
        _wait_for(session, last)
        for width, height in ((80, 24), (120, 40), (90, 30)):
            subprocess.run(
                ["tmux", "resize-window", "-t", session, "-x", str(width), "-y", str(height)], check=True
            )
            deadline = time.monotonic() + 10
            while last not in _above_the_box(_screen(session)):
                assert time.monotonic() < deadline, (
                    f"at {width}x{height} the chat left its end; the screen was:\n{_screen(session)}"
                )
                time.sleep(0.25)
        # Keys typed fast stay in order: Ctrl+J lands where the cursor is, not at the end.
        fast = ["send-keys", "-t", session, "-l", "first line", ";", "send-keys", "-t", session, "C-j"]
        subprocess.run(["tmux", *fast, ";", "send-keys", "-t", session, "-l", "second line "], check=True)
        # A bracketed paste holding ESC bytes arrives whole, its control bytes shown as text.
        pasted = "colour \x1b[31mred\x1b[0m and the whole rest of the paste"
        subprocess.run(["tmux", "set-buffer", "-b", "mlsd-test", "--", pasted], check=True)
        subprocess.run(["tmux", "paste-buffer", "-p", "-d", "-b", "mlsd-test", "-t", session], check=True)
        _wait_for(session, "rest of the paste")
        assert "\\x1b[31mred" in _screen(session)
        subprocess.run(["tmux", "send-keys", "-t", session, "Enter"], check=True)
        deadline = time.monotonic() + 30
        while len(_answers(home, before)) < 4:
            assert time.monotonic() < deadline, "the answer never reached the transcript"
            time.sleep(0.25)
        expected = "first line\nsecond line colour \\x1b[31mred\\x1b[0m and the whole rest of the paste"
        assert _answers(home, before)[-1] == expected
        _quit(session)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
