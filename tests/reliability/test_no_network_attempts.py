"""Offline means no attempt at a connection: every DNS lookup and connection is watched, not blocked.

An empty network namespace cannot tell "no attempt" from "an attempt that failed", so the commands run
in one whose resolver is a fake DNS server that logs every query and answers with a local address where
listeners log every connection (tests/reliability/netwatch.py). onnxruntime's telemetry, for one, is
native code that a Python socket hook would not see.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .mlsd import needs_namespaces

pytestmark = pytest.mark.real

REPO = Path(__file__).resolve().parents[2]
WATCH = Path(__file__).with_name("netwatch.py")
SCRIPT = REPO / "tests" / "fixtures" / "interviews" / "payment_fraud_detection_weak.yaml"
# A positive control: a lookup and a connection that the watcher must see.
PROBE = "import socket; socket.create_connection(('telemetry.example.com', 443), timeout=5).close()"


def _watched(tmp_path: Path, script: str, env: dict[str, str]) -> tuple[int, list[dict[str, object]]]:
    """Run a shell script under the watcher; its exit code and the attempts it made."""
    log = tmp_path / "attempts.jsonl"
    result = subprocess.run(
        ["unshare", "-n", "-m", sys.executable, str(WATCH), str(log), "--", "sh", "-c", script],
        env=env,
        cwd=REPO,
        timeout=900,
    )
    attempts = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return result.returncode, attempts


def _user_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a user who set none of the opt-outs and has LangSmith tracing on."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "ANONYMIZED", "ORT_", "LANGSMITH", "LANGCHAIN", "HF_HUB"))
    }
    env.update(LANGSMITH_TRACING="true", LANGSMITH_API_KEY="lsv2-test", MLSD_HOME=str(tmp_path / "home"))
    return env


@needs_namespaces
def test_the_watcher_sees_a_lookup_and_a_connection(tmp_path: Path) -> None:
    code, attempts = _watched(tmp_path, f'{sys.executable} -c "{PROBE}"', _user_env(tmp_path))
    assert code == 0
    assert {"kind": "dns", "name": "telemetry.example.com"} in attempts
    assert {"kind": "connect", "port": 443} in attempts


@needs_namespaces
def test_kb_build_and_an_offline_interview_attempt_no_network(tmp_path: Path) -> None:
    mlsd = f"{sys.executable} -m agent.cli.main"
    out = tmp_path / "interview.json"
    script = (
        f"{mlsd} kb build --json > /dev/null && "
        f"{mlsd} interview --problem payment_fraud_detection --answers {SCRIPT} --json > {out}"
    )
    code, attempts = _watched(tmp_path, script, _user_env(tmp_path))
    assert code == 0
    assert attempts == [], f"network attempts: {attempts}"
    report = json.loads(out.read_text())["report"]
    assert report["backend"] == "offline"
