"""A home that cannot be one, a file in the way, an unreadable checkpoint file, a full disk: one line
that says what to do and the right exit code (2 for what the user gave, 1 otherwise), no traceback,
from `mlsd interview`, `mlsd grade` and `mlsd kb build`, each in a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .mlsd import REPO, as_ordinary_user, needs_namespaces, one_line_error, run

pytestmark = pytest.mark.real

ANSWER = "Who uses the feed, how many daily users are there, and what latency budget do we have?"
SCRIPT = REPO / "tests" / "fixtures" / "interviews" / "ad_click_prediction_strong.yaml"


@pytest.fixture
def commands(tmp_path: Path) -> dict[str, list[str]]:
    """The three commands that use MLSD_HOME, with their inputs."""
    answer = tmp_path / "answer.txt"
    answer.write_text(ANSWER, encoding="utf-8")
    answers = tmp_path / "answers.yaml"
    answers.write_text(f"clarify_requirements:\n  - {ANSWER}\n", encoding="utf-8")
    problem = ["--backend", "offline", "--problem", "video_recommendation"]
    return {
        "interview": ["interview", *problem, "--answers", str(answers)],
        "grade": ["grade", *problem, "--phase", "clarify_requirements", "--answer-file", str(answer)],
        "kb build": ["kb", "build"],
    }


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "a-file"
    path.write_text("not a folder", encoding="utf-8")
    return path


def _broken_link(tmp_path: Path) -> Path:
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "gone")
    return link


BAD_HOMES = {
    "a file": (_file, "is a file, not a folder"),
    "under a file": (lambda tmp: _file(tmp) / "home", "which is a file"),
    "a broken link": (_broken_link, "is a broken symbolic link"),
}


@pytest.mark.parametrize("command", ["interview", "grade", "kb build"])
@pytest.mark.parametrize("case", list(BAD_HOMES))
def test_a_home_that_cannot_be_one_is_one_line_and_exit_2(
    tmp_path: Path, commands: dict[str, list[str]], case: str, command: str
) -> None:
    make, message = BAD_HOMES[case]
    home = make(tmp_path)
    result = run(*commands[command], env={"MLSD_HOME": str(home)})
    line = one_line_error(result)
    assert result.returncode == 2 and f"MLSD_HOME {home} " in line and message in line
    assert "point MLSD_HOME (or --home) at a folder" in line
    assert not (tmp_path / "gone").exists()  # a broken link is reported, not followed and created


@pytest.mark.parametrize("command", ["interview", "grade", "kb build"])
def test_a_read_only_home_is_one_line_and_exit_2(
    warm_home: Path, commands: dict[str, list[str]], command: str
) -> None:
    prefix = as_ordinary_user()
    before = sorted(p.name for p in warm_home.rglob("*"))
    warm_home.chmod(0o500)
    try:
        result = run(*commands[command], home=warm_home, prefix=prefix)
    finally:
        warm_home.chmod(0o700)
    line = one_line_error(result)
    assert result.returncode == 2 and f"MLSD_HOME {warm_home} is read-only for you" in line
    assert sorted(p.name for p in warm_home.rglob("*")) == before


def test_a_file_where_the_sessions_folder_goes_is_one_line_and_exit_1(
    warm_home: Path, commands: dict[str, list[str]]
) -> None:
    (warm_home / "sessions").write_text("in the way", encoding="utf-8")
    result = run(*commands["interview"], home=warm_home)
    line = one_line_error(result)
    assert result.returncode == 1 and f"{warm_home / 'sessions'} is in the way" in line
    assert "move it aside" in line


def test_an_unreadable_checkpoint_file_is_one_line_and_exit_1_and_is_not_set_aside(
    warm_home: Path, commands: dict[str, list[str]]
) -> None:
    prefix = as_ordinary_user()
    first = run(*commands["interview"], "--session-id", "earlier", home=warm_home)
    assert first.returncode == 0, first.stderr[-2000:]
    checkpoints = warm_home / "checkpoints.sqlite"
    checkpoints.chmod(0o000)
    try:
        result = run(*commands["interview"], home=warm_home, prefix=prefix)
    finally:
        checkpoints.chmod(0o600)
    line = one_line_error(result)
    assert result.returncode == 1 and f"permission denied on {checkpoints}" in line
    # Unreadable is not damaged: the file stays where it is, and its session still opens.
    assert not list(warm_home.glob("checkpoints.damaged-*"))
    again = run(*commands["interview"], "--session-id", "earlier", home=warm_home)
    assert again.returncode == 0, again.stderr[-2000:]


# Runs inside a private mount namespace: a small tmpfs as MLSD_HOME is a disk that really fills up.
BUILD_ON_A_SMALL_DISK = """
import json, os, shutil, subprocess, sys
home, template, size = sys.argv[1], sys.argv[2], sys.argv[3]
mlsd = [sys.executable, "-m", "agent.cli.main", "--home", home]
subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", home], check=True)
shutil.copytree(os.path.join(template, "cache"), os.path.join(home, "cache"))
full = subprocess.run([*mlsd, "kb", "build"], capture_output=True, text=True)
subprocess.run(["mount", "-o", "remount,size=64m", home], check=True)  # space freed
build = subprocess.run([*mlsd, "kb", "build", "--json"], capture_output=True, text=True)
query = "new user with no history"
search = subprocess.run([*mlsd, "kb", "search", query, "--json"], capture_output=True, text=True)
print(json.dumps({"full": [full.returncode, full.stderr], "build": [build.returncode, build.stdout],
                  "search": [search.returncode, search.stdout]}))
"""


@needs_namespaces
def test_a_full_disk_during_the_index_build_says_so_and_the_next_build_works(
    tmp_path: Path, warm_home: Path
) -> None:
    home = tmp_path / "small-disk"
    home.mkdir()
    # Room for the embedding cache and a part of the index (6-7 MB when whole), not for all of it.
    size = (warm_home / "cache" / "embeddings.sqlite").stat().st_size + 2 * 1024 * 1024
    outcome = _in_mount_namespace(BUILD_ON_A_SMALL_DISK, home, warm_home, str(size))
    code, stderr = outcome["full"]
    line = one_line_error(subprocess.CompletedProcess([], code, "", stderr))
    assert code == 1 and f"no space left on the disk holding {home / 'index'}" in line
    code, stdout = outcome["build"]
    assert code == 0 and json.loads(stdout)["total"] > 500
    code, stdout = outcome["search"]
    results = json.loads(stdout)["results"]
    assert code == 0 and len(results) == 5 and results[0]["topic"] == "cold_start"


INTERVIEW_ON_A_DISK_THAT_FILLS = """
import json, os, shutil, subprocess, sys, time
home, template, script = sys.argv[1], sys.argv[2], sys.argv[3]
command = [sys.executable, "-m", "agent.cli.main", "--home", home, "interview", "--backend", "offline",
           "--problem", "ad_click_prediction", "--answers", script, "--session-id", "full", "--json"]
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", home], check=True)
for part in ("index", "cache"):
    shutil.copytree(os.path.join(template, part), os.path.join(home, part))
transcript = os.path.join(home, "sessions", "full.jsonl")
def answers():
    if not os.path.exists(transcript):
        return []
    with open(transcript, encoding="utf-8") as f:
        events = [json.loads(line) for line in f if line.endswith("\\n")]
    return [e["text"] for e in events if e["event"] == "turn" and e["kind"] == "answer"]
process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
deadline = time.monotonic() + 300
while len(answers()) < 2 and time.monotonic() < deadline and process.poll() is None:
    time.sleep(0.02)
filler = os.path.join(home, "filler")
try:  # the disk fills up while the interview goes on
    with open(filler, "wb") as f:
        while True:
            f.write(b"\\0" * 65536)
except OSError:
    pass
out, err = process.communicate()
saved = answers()
os.remove(filler)
again = subprocess.run(command, capture_output=True, text=True)
print(json.dumps({"full": [process.returncode, err], "saved": saved,
                  "again": [again.returncode, again.stdout, again.stderr[-3000:]], "answers": answers()}))
"""


@needs_namespaces
def test_a_full_disk_mid_interview_says_so_keeps_the_answers_and_the_session_goes_on(
    tmp_path: Path, warm_home: Path
) -> None:
    import yaml

    from agent.ids import PHASES, WRAP_UP

    home = tmp_path / "filling-disk"
    home.mkdir()
    outcome = _in_mount_namespace(INTERVIEW_ON_A_DISK_THAT_FILLS, home, warm_home, str(SCRIPT))
    code, stderr = outcome["full"]
    line = one_line_error(subprocess.CompletedProcess([], code, "", stderr))
    assert code == 1 and "no space left on the disk" in line and "--session-id full to go on" in line
    script: dict[str, list[str]] = yaml.safe_load(SCRIPT.read_text(encoding="utf-8"))
    expected = [a for phase in PHASES for a in script.get(phase, [])] + script.get(WRAP_UP, [])[:1]
    saved = outcome["saved"]
    assert len(saved) >= 2 and saved == expected[: len(saved)] and len(saved) < len(expected)
    code, stdout, stderr = outcome["again"]
    assert code == 0, stderr
    assert json.loads(stdout)["session_id"] == "full"
    assert outcome["answers"] == expected  # every answer once, in order


def _in_mount_namespace(driver: str, *args: Path | str) -> dict[str, Any]:
    result = subprocess.run(
        ["unshare", "-m", sys.executable, "-c", driver, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ},
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outcome: dict[str, Any] = json.loads(result.stdout)
    return outcome
