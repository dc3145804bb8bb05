"""Building the engine the user asked for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from agent.config import LLMSettings
from agent.engines.base import Engine
from agent.engines.offline import OfflineEngine
from agent.errors import UsageError

if TYPE_CHECKING:
    from agent.session import Toolkit

BACKENDS = ("offline", "openai")


def make_engine(
    backend: str, toolkit: Toolkit, *, model: str | None = None, env: Mapping[str, str] | None = None
) -> Engine:
    """The offline engine, or the LLM engine configured from flags and environment."""
    if backend == "offline":
        return OfflineEngine(toolkit.grader)
    if backend == "openai":
        from agent.engines.llm import LLMEngine

        return LLMEngine(LLMSettings.from_env(env, model=model))
    raise UsageError(f"unknown backend {backend!r} (expected one of: {', '.join(BACKENDS)})")
