"""Kill -9 at random moments: every answer already sent is on disk and the session resumes."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.config import Settings
from agent.ids import PHASES, WRAP_UP

from .mlsd import run

pytestmark = pytest.mark.real

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "tests" / "fixtures" / "interviews" / "ad_click_prediction_strong.yaml"

# Creates or resumes the session, works out from the saved state where the script stands, and
# goes on; prints SENDING before and SENT after each input, flushed.
DRIVER = """
import json, sys
from pathlib import Path
from agent.config import Settings
from agent.session import Interview, build_context, load_toolkit
home, knowledge, rubrics = (Path(a) for a in sys.argv[1:4])
actions = json.loads(sys.argv[4])
settings = Settings(home=home, knowledge_dir=knowledge, rubrics_dir=rubrics)
context = build_context(load_toolkit(settings), auto_advance=False)
try:
    interview = Interview.resume(context, home, "killed")
except Exception:
    interview = Interview.create(context, home, problem="ad_click_prediction", session_id="killed")
done = sum(1 for t in interview.values()["turns"] if t["role"] == "candidate")
for i in range(done, len(actions)):
    action, text = actions[i]
    print(f"SENDING {i}", flush=True)
    interview.send(text, action=action, seconds=30)
    print(f"SENT {i}", flush=True)
print("FINISHED", interview.finished, flush=True)
"""


def _actions() -> list[tuple[str, str]]:
    script: dict[str, list[str]] = yaml.safe_load(SCRIPT.read_text(encoding="utf-8"))
    actions: list[tuple[str, str]] = []
    for phase in PHASES:
        actions += [("answer", a) for a in script.get(phase, [])]
        actions.append(("skip", ""))
    actions.append(("end", ""))
    return actions


def _candidate_turns(home: Path) -> list[dict[str, Any]]:
    path = home / "sessions" / "killed.jsonl"
    if not path.is_file():
        return []
    turns = []
    for line in path.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event["event"] == "turn" and event["role"] == "candidate":
            turns.append(event)
    return turns


def test_kill_at_random_points_loses_nothing_and_resumes(
    bundled_settings: Settings, toolkit: object, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    shutil.copytree(bundled_settings.index_dir, home / "index")
    actions = _actions()
    argv = [
        sys.executable,
        "-c",
        DRIVER,
        str(home),
        str(bundled_settings.knowledge_dir),
        str(bundled_settings.rubrics_dir),
        json.dumps(actions),
    ]
    rng = random.Random(20261125)
    kills = 0
    for _ in range(25):
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, cwd=REPO, env={**os.environ})
        # Each process needs about a second to load before it answers; the windows are short enough
        # that a whole interview (a few seconds of work) is killed many times on the way.
        time.sleep(rng.uniform(1.0, 2.5))
        if process.poll() is not None:
            break
        os.kill(process.pid, signal.SIGKILL)
        out = process.communicate()[0]
        kills += 1
        sent = [int(line.split()[1]) for line in out.splitlines() if line.startswith("SENT ")]
        on_disk = _candidate_turns(home)
        # Every input whose send() returned is in the transcript, in order and exactly once.
        if sent:
            assert len(on_disk) >= max(sent) + 1
        expected = [text for _, text in actions[: len(on_disk)]]
        assert [t["text"] for t in on_disk] == expected
    final = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, timeout=600)
    assert final.returncode == 0, final.stderr
    assert "FINISHED True" in final.stdout
    on_disk = _candidate_turns(home)
    assert [t["text"] for t in on_disk] == [text for _, text in actions]
    events = [
        json.loads(line)
        for line in (home / "sessions" / "killed.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert events[-1]["event"] == "report"
    indexes = [e["index"] for e in events if e["event"] == "turn"]
    assert indexes == list(range(len(indexes)))  # no turn lost or written twice
    assert kills >= 5


def test_mlsd_interview_continues_a_killed_session(
    bundled_settings: Settings, toolkit: object, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    shutil.copytree(bundled_settings.index_dir, home / "index")
    command = [
        sys.executable,
        "-m",
        "agent.cli.main",
        "interview",
        "--problem",
        "ad_click_prediction",
        "--answers",
        str(SCRIPT),
        "--session-id",
        "again",
        "--home",
        str(home),
        "--json",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    transcript = home / "sessions" / "again.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(_turns(transcript) if transcript.is_file() else []) < 4:
        time.sleep(0.1)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate()
    finished = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=600)
    assert finished.returncode == 0, finished.stderr
    assert json.loads(finished.stdout)["session_id"] == "again"
    script: dict[str, list[str]] = yaml.safe_load(SCRIPT.read_text(encoding="utf-8"))
    # The wrap-up takes one question: the interviewer answers it and closes.
    expected = [a for phase in PHASES for a in script.get(phase, [])] + script.get(WRAP_UP, [])[:1]
    answers = [t["text"] for t in _turns(transcript) if t["kind"] == "answer"]
    assert answers == expected
    wrong = subprocess.run(
        [*command[:5], "visual_search", *command[6:]], capture_output=True, text=True, cwd=REPO
    )
    assert wrong.returncode == 2 and "not 'visual_search'" in wrong.stderr


def _turns(path: Path) -> list[dict[str, Any]]:
    events = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [e for e in events if e["event"] == "turn" and e["role"] == "candidate"]


def _interview_at(
    home: Path, session_id: str, kill_after: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`mlsd interview` on SCRIPT as session `session_id`, killed at a crash point if one is named."""
    return run(
        *("interview", "--backend", "offline", "--problem", "ad_click_prediction", "--answers", str(SCRIPT)),
        *("--session-id", session_id, "--json"),
        home=home,
        env={"MLSD_TEST_KILL_AFTER": kill_after} if kill_after else None,
    )


def _events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _scripted_answers() -> list[str]:
    script: dict[str, list[str]] = yaml.safe_load(SCRIPT.read_text(encoding="utf-8"))
    return [a for phase in PHASES for a in script.get(phase, [])] + script.get(WRAP_UP, [])[:1]


def test_a_kill_between_the_header_and_the_first_checkpoint_starts_the_session_again(
    warm_home: Path,
) -> None:
    """Issue 15, item 4: such a session was unresumable, blamed on a lost checkpoint file."""
    killed = _interview_at(warm_home, "early", kill_after="header")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    transcript = warm_home / "sessions" / "early.jsonl"
    assert [e["event"] for e in _events(transcript)] == ["session"]  # the window: a header, no turn

    again = _interview_at(warm_home, "early")
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout)["session_id"] == "early"
    events = _events(transcript)
    kinds = [e["event"] for e in events]
    assert kinds[:2] == ["session", "resumed"] and kinds.count("session") == 1 and kinds[-1] == "report"
    answers = [e["text"] for e in events if e["event"] == "turn" and e["kind"] == "answer"]
    assert answers == _scripted_answers()
    indexes = [e["index"] for e in events if e["event"] == "turn"]
    assert indexes == list(range(len(indexes)))


def test_a_kill_between_the_final_checkpoint_and_the_report_line_loses_no_report(warm_home: Path) -> None:
    """Issue 15, item 3, with a real process killed in that window."""
    killed = _interview_at(warm_home, "late", kill_after="final-checkpoint")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    transcript = warm_home / "sessions" / "late.jsonl"
    assert "report" not in [e["event"] for e in _events(transcript)]  # the window: no report line

    again = _interview_at(warm_home, "late")
    assert again.returncode == 0, again.stderr[-2000:]
    report = json.loads(again.stdout)["report"]
    events = _events(transcript)
    written = [e for e in events if e["event"] == "report"]
    assert len(written) == 1 and written[0]["score"] == report["score"]
    assert "resumed" not in [e["event"] for e in events]  # finished: read, not resumed
