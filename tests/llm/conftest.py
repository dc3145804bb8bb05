"""A real OpenAI-compatible server on 127.0.0.1 for the LLM engine's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agent.config import LLMSettings
from agent.llm.stub_server import StubLLMServer


@pytest.fixture
def server() -> Iterator[StubLLMServer]:
    """A fresh stub server per test."""
    with StubLLMServer() as running:
        yield running


@pytest.fixture
def settings(server: StubLLMServer) -> LLMSettings:
    """LLM settings pointing at the stub, with quick back-off and a short time-out."""
    return LLMSettings(
        api_key="sk-test-SECRET-4242",
        base_url=server.base_url,
        model="stub-model",
        timeout_s=2.0,
        max_attempts=3,
        max_wait_s=20.0,
        backoff_s=0.01,
    )
