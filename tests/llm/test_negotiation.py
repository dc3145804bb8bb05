"""Format negotiation as real servers need it, and retry messages that count honestly."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from agent.config import LLMSettings
from agent.engines.llm import LLMEngine
from agent.llm.client import LLMError
from agent.llm.stub_server import Fault, StubLLMServer

ANSWER = "We split by time so the test week follows training, and report precision at a fixed recall."


def _grade(engine: LLMEngine, toolkit: Any) -> Any:
    criteria = toolkit.kb.rubric_for("payment_fraud_detection", "evaluation")
    return engine.grade_answer("payment_fraud_detection", "evaluation", criteria, ANSWER)


def _kinds(server: StubLLMServer) -> list[str]:
    kinds = []
    for request in server.state.requests:
        body = request["body"]
        kinds.append("tools" if body.get("tools") else body["response_format"]["type"])
    return kinds


def test_llama_cpp_500_moves_to_json_object_without_spending_retries(
    settings: LLMSettings, server: StubLLMServer, toolkit: Any
) -> None:
    server.state.rejects, server.state.reject_status = {"json_schema"}, 500
    engine = LLMEngine(settings)
    grade = _grade(engine, toolkit)
    assert all(c.score is not None for c in grade.criteria)
    assert _kinds(server) == ["json_schema", "json_object"]
    assert engine.client.retries == 0
    assert engine.client.fallbacks == ["json_schema -> json_object (HTTP 500)"]
    # Remembered for the server (base URL and model), across engines in this process.
    second = LLMEngine(settings)
    _grade(second, toolkit)
    assert _kinds(server) == ["json_schema", "json_object", "json_object"]
    assert second.client.fallbacks == []


def test_the_same_server_with_another_model_negotiates_again(
    settings: LLMSettings, server: StubLLMServer, toolkit: Any
) -> None:
    server.state.rejects, server.state.reject_status = {"json_schema"}, 500
    _grade(LLMEngine(settings), toolkit)
    _grade(LLMEngine(dataclasses.replace(settings, model="other-model")), toolkit)
    assert _kinds(server) == ["json_schema", "json_object", "json_schema", "json_object"]


def test_a_strict_subset_without_length_keywords_keeps_json_schema(
    settings: LLMSettings, server: StubLLMServer, toolkit: Any
) -> None:
    server.state.rejects_limits = True  # OpenAI's strict mode refuses maxLength
    engine = LLMEngine(settings)
    _grade(engine, toolkit)
    _grade(engine, toolkit)
    assert _kinds(server) == ["json_schema"] * 3
    schemas = [r["body"]["response_format"]["json_schema"]["schema"] for r in server.state.requests]
    assert "maxLength" in str(schemas[0]) and "maxLength" not in str(schemas[1:])
    assert engine.client.retries == 0


def test_a_server_that_takes_no_format_is_one_line(
    settings: LLMSettings, server: StubLLMServer, toolkit: Any
) -> None:
    server.state.rejects = {"json_schema", "json_object", "tools"}
    with pytest.raises(LLMError, match="accepts none of the structured-output formats"):
        _grade(LLMEngine(settings), toolkit)
    assert _kinds(server) == ["json_schema", "json_object", "tools"]


def test_the_grading_schema_is_built_from_the_rubric(
    settings: LLMSettings, server: StubLLMServer, toolkit: Any
) -> None:
    _grade(LLMEngine(settings), toolkit)
    body = server.state.requests[0]["body"]
    schema = body["response_format"]["json_schema"]["schema"]
    ids = [c.id for c in toolkit.kb.rubric_for("payment_fraud_detection", "evaluation")]
    criteria = schema["properties"]["criteria"]
    assert criteria["required"] == ids and list(criteria["properties"]) == ids
    assert criteria["additionalProperties"] is False and schema["additionalProperties"] is False
    one = criteria["properties"][ids[0]]
    assert one["properties"]["score"]["enum"] == [1, 2, 3, 4, None]
    assert one["properties"]["rationale"]["maxLength"] > 0
    assert one["properties"]["evidence"]["items"]["maxLength"] > 0 and one["additionalProperties"] is False
    assert "addressed_to_grader" in schema["required"]
    assert 0 < body["max_tokens"] < 4000


def test_timeouts_report_the_attempts_actually_made(
    settings: LLMSettings, server: StubLLMServer, toolkit: Any
) -> None:
    # A back-off budget far smaller than the waits: the waits shrink, the promised attempts stay.
    quick = dataclasses.replace(settings, timeout_s=0.5, max_wait_s=0.01, backoff_s=5.0)
    server.enqueue(*[Fault(delay_s=1.0)] * quick.max_attempts)
    with pytest.raises(LLMError) as caught:
        _grade(LLMEngine(quick), toolkit)
    assert f"{quick.max_attempts} attempts made" in str(caught.value)
    assert len(server.state.requests) == quick.max_attempts


def test_one_attempt_says_one_attempt(settings: LLMSettings, server: StubLLMServer, toolkit: Any) -> None:
    single = dataclasses.replace(settings, max_attempts=1)
    server.enqueue(Fault(status=503))
    with pytest.raises(LLMError, match=r"HTTP 503 after 1 attempt:"):
        _grade(LLMEngine(single), toolkit)


# After a refused format the attempts of every format count: the number in the message is the
# number of requests the server received. (The stub takes one scripted fault per request, before
# its format check: `Fault()` lets a request through to be refused.)
REFUSED_THEN_FAILING = {
    "llama.cpp refuses json_schema, json_object answers 503": (
        {"json_schema"},
        [Fault(), *[Fault(status=503)] * 3],
        "HTTP 503 after 4 attempts (1 with json_schema, refused with HTTP 500; 3 with json_object):",
    ),
    "a 503 before the refusal": (
        {"json_schema"},
        [Fault(status=503), Fault(), *[Fault(status=503)] * 3],
        "HTTP 503 after 5 attempts (2 with json_schema, refused with HTTP 500; 3 with json_object):",
    ),
    "two formats refused, the tool call times out": (
        {"json_schema", "json_object"},
        [Fault(), Fault(), *[Fault(delay_s=1.0)] * 3],
        "5 attempts made (1 with json_schema, refused with HTTP 500; 1 with json_object, refused with "
        "HTTP 500; 3 with tool call):",
    ),
    "refused, then an empty body every time": (
        {"json_schema"},
        [Fault(), *[Fault(odd="empty-body")] * 3],
        "(4 attempts: 1 with json_schema, refused with HTTP 500; 3 with json_object)",
    ),
    "refused, then invalid output every time": (
        {"json_schema"},
        [Fault(), *[Fault(content="{}")] * 3],
        "after 4 attempts (1 with json_schema, refused with HTTP 500; 3 with json_object); try a stronger",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED_THEN_FAILING))
def test_attempts_after_a_refused_format_count_every_request(
    settings: LLMSettings, server: StubLLMServer, kb: Any, case: str
) -> None:
    rejects, faults, expected = REFUSED_THEN_FAILING[case]
    server.state.rejects, server.state.reject_status = set(rejects), 500
    server.enqueue(*faults)
    quick = dataclasses.replace(settings, timeout_s=0.5)
    criteria = kb.rubric_for("payment_fraud_detection", "evaluation")
    with pytest.raises(LLMError) as caught:
        LLMEngine(quick).grade_answer("payment_fraud_detection", "evaluation", criteria, ANSWER)
    message = str(caught.value)
    assert expected in message and "\n" not in message
    total = re.search(r"(\d+) attempts", message)
    assert total is not None and int(total.group(1)) == len(server.state.requests) == len(faults)
    parts = [int(n) for n in re.findall(r"(\d+) with (?:json_schema|json_object|tool call)", message)]
    assert sum(parts) == len(server.state.requests)
