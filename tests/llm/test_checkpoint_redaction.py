"""A node that fails on the LLM engine leaves its error in the SQLite checkpoint (LangGraph stores
node errors) and the session's files: the API key and key-shaped tokens a server echoed must not."""

from __future__ import annotations

import dataclasses
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from agent.config import LLMSettings
from agent.engines.registry import make_engine
from agent.llm.client import LLMError
from agent.llm.server_text import REDACTED
from agent.llm.stub_server import Fault, StubLLMServer
from agent.session import CHECKPOINTS, Interview, build_context

#: A local server's key: not shaped like an OpenAI key, so only the key itself can redact it.
API_KEY = "local-key-7f3a9c2e51"
#: Another credential the server put in its error message.
OTHER_TOKEN = "sk-proj-Zq8vR2mT4xW6yB0n"
ANSWER = (
    "I would ask what a fraud loss costs against a false decline, how many reviews a day the team "
    "can handle, and how long chargebacks take to arrive."
)


def _database_text(home: Path) -> bytes:
    """Every byte of the checkpoint files (WAL and shared memory too), and every row of every table."""
    files = sorted(home.glob(f"{CHECKPOINTS}*"))
    assert home / CHECKPOINTS in files
    raw = b"".join(path.read_bytes() for path in files)
    with closing(sqlite3.connect(home / CHECKPOINTS)) as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        rows = [repr(row) for table in tables for row in db.execute(f'SELECT * FROM "{table}"')]
    return raw + "\n".join(rows).encode()


def _stored_errors(home: Path) -> list[bytes]:
    """The node errors LangGraph put in the checkpoint's pending writes."""
    with closing(sqlite3.connect(home / CHECKPOINTS)) as db:
        rows = db.execute("SELECT value FROM writes WHERE channel = '__error__'").fetchall()
    return [bytes(value) for (value,) in rows]


def test_a_node_error_in_the_checkpoint_and_transcript_is_redacted(
    fake_toolkit: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    with StubLLMServer() as server:
        monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        settings = dataclasses.replace(LLMSettings.from_env(model="stub-model"), backoff_s=0.01)
        engine = make_engine("openai", fake_toolkit, settings=settings)
        interview = Interview.create(
            build_context(fake_toolkit, engine), home, problem="payment_fraud_detection", model="stub-model"
        )
        echo = f"upstream refused the call; its credentials were {OTHER_TOKEN}"
        server.enqueue(*[Fault(status=500, message=echo, echo_key=True)] * settings.max_attempts)
        with pytest.raises(LLMError) as caught:
            interview.send(ANSWER, seconds=60)
        interview.close()
        sent = [r["body"] for r in server.state.requests]
    assert len(sent) == 1 + settings.max_attempts  # the opening turn, then the failing grade
    message = str(caught.value)
    assert "HTTP 500" in message and REDACTED in message
    assert API_KEY not in message and OTHER_TOKEN not in message

    errors = _stored_errors(home)
    assert len(errors) == 1  # the failed node's error was persisted, redacted
    assert b"HTTP 500" in errors[0] and b"upstream refused the call" in errors[0]
    assert REDACTED.encode() in errors[0]
    stored = _database_text(home)
    transcript = interview.transcript_path.read_bytes()
    assert b'"event": "turn"' in transcript
    for secret in (API_KEY, OTHER_TOKEN, OTHER_TOKEN.removeprefix("sk-")):
        assert secret.encode() not in stored, f"{secret} is in the checkpoint database"
        assert secret.encode() not in transcript, f"{secret} is in the transcript"
