"""The LLM engine against a real llama.cpp server (llama-cpp-python's, Gemma 3 270M), through the real
`openai` SDK: json_schema is answered with HTTP 500, so the client must fall back to json_object
with the schema (grammar-constrained there) at once; the result is schema-valid and labelled as
the model's; an interviewer turn streams. Quality of the grades is not judged: the model is tiny."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest

from agent.config import LLMSettings, Settings
from agent.engines.base import TurnPlan
from agent.engines.llm import LLMEngine
from agent.llm.client import LLMClient
from tests.llama.conftest import LlamaServer

pytestmark = [pytest.mark.llama, pytest.mark.real]

PROBLEM, PHASE = "payment_fraud_detection", "evaluation"
ANSWER = (
    "I would split the data by time so the model is evaluated on days after its training window. "
    "With 0.1% fraud, accuracy is meaningless, so I would report precision at a fixed recall."
)
#: One grade takes about 25 s on two cores (mostly reading the 4,000-token prompt).
GRADE_WITHIN_S = 150.0
SCORES = {1.0, 2.0, 3.0, 4.0, None}


def _settings(server: LlamaServer) -> LLMSettings:
    return LLMSettings(
        api_key="not-needed", base_url=server.base_url, model=server.model, timeout_s=GRADE_WITHIN_S
    )


def _watched_client(settings: LLMSettings, statuses: list[int]) -> LLMClient:
    """The real SDK over a transport that records the HTTP status of every response."""

    def record(response: httpx2.Response) -> None:
        statuses.append(response.status_code)

    sdk = openai.OpenAI(
        api_key=settings.api_key,
        base_url=settings.base_url,
        timeout=settings.timeout_s,
        max_retries=0,
        http_client=httpx2.Client(event_hooks={"response": [record]}),
    )
    return LLMClient(settings, client=sdk)


def test_json_schema_rejected_with_500_falls_back_at_once_and_is_remembered(
    llama_server: LlamaServer, toolkit: Any
) -> None:
    criteria = toolkit.kb.rubric_for(PROBLEM, PHASE)
    settings = _settings(llama_server)
    statuses: list[int] = []
    engine = LLMEngine(settings, client=_watched_client(settings, statuses))
    started = time.monotonic()
    grade = engine.grade_answer(PROBLEM, PHASE, criteria, ANSWER)
    assert time.monotonic() - started < GRADE_WITHIN_S
    # One 500 for json_schema, then json_object succeeds: no retry was spent on the 500.
    assert statuses == [500, 200], statuses
    assert engine.client.fallbacks == ["json_schema -> json_object (HTTP 500)"]
    assert engine.client.retries == 0
    assert [c.id for c in grade.criteria] == [c.id for c in criteria]
    assert all(c.score in SCORES for c in grade.criteria)
    assert all(q in ANSWER for c in grade.criteria for q in c.evidence)
    assert grade.engine == f"openai:{llama_server.model}"

    # A second client for the same server starts from the format that works.
    again: list[int] = []
    second = LLMEngine(settings, client=_watched_client(settings, again))
    second.grade_answer(PROBLEM, PHASE, criteria, ANSWER)
    assert again == [200] and second.client.mode == "json_object"


def test_mlsd_grade_against_the_real_server(
    llama_server: LlamaServer, bundled_settings: Settings, toolkit: Any, tmp_path: Path
) -> None:
    answer = tmp_path / "answer.txt"
    answer.write_text(ANSWER, encoding="utf-8")
    env = {
        **os.environ,
        "OPENAI_BASE_URL": llama_server.base_url,
        "MLSD_MODEL": llama_server.model,
        "MLSD_LLM_TIMEOUT": str(GRADE_WITHIN_S),
    }
    env.pop("OPENAI_API_KEY", None)  # a local server needs none
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "agent.cli.main",
            "grade",
            "--backend",
            "openai",
            "--problem",
            PROBLEM,
            "--phase",
            PHASE,
            "--answer-file",
            str(answer),
            "--json",
            "--home",
            str(bundled_settings.home),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=GRADE_WITHIN_S * 2,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    document = json.loads(result.stdout)
    assert document["backend"] == f"openai:{llama_server.model}"
    assert [c["id"] for c in document["criteria"]] == [c.id for c in toolkit.kb.rubric_for(PROBLEM, PHASE)]
    assert all(c["score"] in SCORES for c in document["criteria"])
    assert 1.0 <= document["score"] <= 4.0
    assert elapsed < GRADE_WITHIN_S * 1.5, elapsed


def test_an_interviewer_turn_streams(llama_server: LlamaServer) -> None:
    plan = TurnPlan(
        kind="followup",
        phase=PHASE,
        phase_title="Offline and online evaluation",
        problem_title="Payment fraud detection",
        question="How would you pick the decision threshold?",
        last_answer=ANSWER,
    )
    engine = LLMEngine(_settings(llama_server))
    tokens: list[str] = []
    text = engine.say(plan, on_token=tokens.append)
    assert len(tokens) > 3, tokens
    assert "".join(tokens).strip() == text and text
    # llama-cpp-python's server sends no usage in streams, so only the call is counted.
    assert engine.usage.calls == 1


def test_a_followup_choice_is_grammar_constrained_to_the_offered_ids(llama_server: LlamaServer) -> None:
    from agent.engines.base import FollowupOption, FollowupRequest

    options = [
        FollowupOption(
            "topics/calibration.md#followup-0",
            "How would you pick the decision threshold?",
            "topics/calibration.md",
            "calibration",
        ),
        FollowupOption(
            "topics/ab_testing.md#followup-0",
            "How would you run the online test?",
            "topics/ab_testing.md",
            "ab_testing",
        ),
    ]
    request = FollowupRequest(
        phase=PHASE,
        phase_title="Offline and online evaluation",
        problem_title="Payment fraud detection",
        last_answer=ANSWER,
        uncovered=[("online_evaluation", "Online evaluation")],
        options=options,
    )
    engine = LLMEngine(_settings(llama_server))
    pick = engine.choose_followup(request)
    # The server took the schema (through json_object): the call was made and answered. A tiny model
    # may still fill the blank choice ("" is in both enums) or misquote; code sets that aside.
    assert "call_failed" not in engine.fallbacks
    if pick is None:
        assert sum(engine.fallbacks.values()) == 1, engine.fallbacks
    elif pick.action == "pick":
        assert pick.id in request.ids
    else:
        assert pick.note in request.notes and pick.quote in ANSWER and pick.question
    assert engine.usage.calls == 1
