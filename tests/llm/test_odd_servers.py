"""Servers that misbehave in ways no well-behaved one does: every fault ends in a grade, a retry
that succeeds, or one clear line (exit 1 from the CLI) that says what the server did and how many
attempts were made; never a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.cli.main import main
from agent.config import LLMSettings, Settings
from agent.engines.llm import LLMEngine
from agent.llm.client import LLMError
from agent.llm.stub_server import Fault, StubLLMServer
from tests.llm import evaluation_followup

ANSWER = "We split by time so the test week follows training, and report precision at a fixed recall."
PLAN = evaluation_followup(ANSWER)
BODY_FAULTS = {
    "empty-body": "answered HTTP 200 with an empty body",
    "half-json": "sent a body that is cut off or not JSON",
    "cut-body": "closed the connection in the middle of its reply",
    "not-a-completion": "answered with something that is not a chat completion",
}
STREAM_FAULTS = {
    "bad-event": "sent a stream event that is not JSON",
    "no-finish-reason": "ended the stream without a finish_reason",
}


def _grade(settings: LLMSettings, toolkit: Any) -> Any:
    criteria = toolkit.kb.rubric_for("payment_fraud_detection", "evaluation")
    return LLMEngine(settings).grade_answer("payment_fraud_detection", "evaluation", criteria, ANSWER)


@pytest.mark.parametrize("odd", sorted(BODY_FAULTS))
def test_an_odd_body_once_is_retried(
    settings: LLMSettings, server: StubLLMServer, toolkit: Any, odd: str
) -> None:
    server.enqueue(Fault(odd=odd))
    grade = _grade(settings, toolkit)
    assert all(c.score is not None for c in grade.criteria)
    assert len(server.state.requests) == 2


@pytest.mark.parametrize("odd", sorted(BODY_FAULTS))
def test_an_odd_body_every_time_is_one_line(
    settings: LLMSettings, server: StubLLMServer, toolkit: Any, odd: str
) -> None:
    server.enqueue(*[Fault(odd=odd)] * settings.max_attempts)
    with pytest.raises(LLMError) as caught:
        _grade(settings, toolkit)
    message = str(caught.value)
    assert BODY_FAULTS[odd] in message and f"({settings.max_attempts} attempts)" in message
    assert "\n" not in message
    assert len(server.state.requests) == settings.max_attempts


@pytest.mark.parametrize("odd", sorted(STREAM_FAULTS))
def test_an_odd_stream_once_continues_where_it_stopped(
    settings: LLMSettings, server: StubLLMServer, odd: str
) -> None:
    server.enqueue(Fault(odd=odd))
    tokens: list[str] = []
    text = LLMEngine(settings).say(PLAN, on_token=tokens.append)
    assert text == f"Thanks. {PLAN.question}"
    assert "".join(tokens).strip() == text  # nothing shown twice
    assert len(server.state.requests) == 2


@pytest.mark.parametrize("odd", sorted(STREAM_FAULTS))
def test_an_odd_stream_every_time_is_one_line(settings: LLMSettings, server: StubLLMServer, odd: str) -> None:
    server.enqueue(*[Fault(odd=odd)] * settings.max_attempts)
    with pytest.raises(LLMError) as caught:
        LLMEngine(settings).say(PLAN)
    message = str(caught.value)
    assert STREAM_FAULTS[odd] in message and f"({settings.max_attempts} attempts)" in message
    assert len(server.state.requests) == settings.max_attempts


@pytest.mark.parametrize("odd", ["empty-body", "half-json"])
def test_the_cli_prints_one_line_and_exits_1(
    server: StubLLMServer,
    bundled_settings: Settings,
    toolkit: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    odd: str,
) -> None:
    server.enqueue(*[Fault(odd=odd)] * 10)  # more than the CLI's attempts
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("MLSD_MODEL", "stub-model")
    answer = tmp_path / "answer.txt"
    answer.write_text(ANSWER)
    code = main(
        [
            "grade",
            "--backend",
            "openai",
            "--problem",
            "payment_fraud_detection",
            "--phase",
            "evaluation",
            "--answer-file",
            str(answer),
            "--json",
            "--home",
            str(bundled_settings.home),
        ]
    )
    out, err = capsys.readouterr()
    attempts = LLMSettings(api_key="k").max_attempts
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("mlsd: error: ")
    assert BODY_FAULTS[odd] in err and f"({attempts} attempts)" in err
    assert len(server.state.requests) == attempts
