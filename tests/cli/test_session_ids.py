"""Session ids are names, never paths: a bad one is refused with one line and exit 2, writing nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.errors import UsageError
from agent.transcript import check_session_id, transcript_path

pytestmark = pytest.mark.real

BAD = ["../../x", "/tmp/abs", "a/b", "..", "", "x" * 65, "with space", "semi;colon", "dot.json", "tab\tx"]


@pytest.mark.parametrize("session_id", BAD)
def test_bad_ids_are_refused_before_they_become_paths(session_id: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="bad session id"):
        transcript_path(tmp_path, session_id)


@pytest.mark.parametrize("session_id", ["20261201-223000-video-a1b2c3", "my_case", "A-1", "x" * 64])
def test_good_ids_pass(session_id: str, tmp_path: Path) -> None:
    assert check_session_id(session_id) == session_id
    assert transcript_path(tmp_path, session_id).parent == tmp_path / "sessions"


@pytest.mark.parametrize(
    "argv",
    [
        ["interview", "--problem", "video_recommendation", "--answers", "ANSWERS", "--session-id", "../../x"],
        ["interview", "--problem", "video_recommendation", "--answers", "ANSWERS", "--session-id", "/tmp/y"],
        ["practice", "--resume", "../escape"],
        ["eval", "add", "../../etc/passwd"],
    ],
)
def test_the_cli_says_so_in_one_line_with_exit_2(argv: list[str], tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text("clarify_requirements:\n  - What is the latency budget?\n", encoding="utf-8")
    home = tmp_path / "home"
    argv = [str(answers) if a == "ANSWERS" else a for a in argv]
    env = {**os.environ, "MLSD_HOME": str(home)}
    run = subprocess.run(
        [sys.executable, "-m", "agent.cli.main", *argv], capture_output=True, text=True, env=env, timeout=120
    )
    assert run.returncode == 2, run.stderr
    lines = [line for line in run.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "bad session id" in lines[0], run.stderr
    assert "Traceback" not in run.stderr
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != answers]
    escaped = [p for p in written if home not in p.parents]
    assert not escaped
    assert not (tmp_path.parent / "x.jsonl").exists() and not Path("/tmp/y.jsonl").exists()
