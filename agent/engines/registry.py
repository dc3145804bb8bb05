"""The engines, in one place: their names, labels, the default choice and how each is built.

The CLI's `--backend` choices and help, the default when no flag is given, the app's engine label and
the eval runner all read this module; a new engine is added here and nowhere else.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal, TypeGuard

from agent.config import LLMSettings
from agent.engines.base import Engine
from agent.errors import UsageError

if TYPE_CHECKING:
    import httpx2

    from agent.session import Toolkit

Backend = Literal["offline", "openai"]
OFFLINE: Final[Backend] = "offline"
LLM: Final[Backend] = "openai"


@dataclass(frozen=True)
class EngineInfo:
    """What the user is told about one engine."""

    backend: Backend
    label: str  # what the app shows, before the model name for an LLM
    uses_llm: bool  # talks to an OpenAI-compatible server (needs its settings)
    summary: str


ENGINES: Final[dict[Backend, EngineInfo]] = {
    OFFLINE: EngineInfo(OFFLINE, "offline engine", False, "the built-in interviewer and grader: no network"),
    LLM: EngineInfo(LLM, "LLM engine", True, "an OpenAI-compatible server: OPENAI_API_KEY, OPENAI_BASE_URL"),
}
BACKENDS: Final[tuple[Backend, ...]] = tuple(ENGINES)
BACKEND_HELP: Final = f"default: {LLM} if OPENAI_API_KEY is set, else {OFFLINE}"


def is_backend(value: object) -> TypeGuard[Backend]:
    """True for one of BACKENDS."""
    return value in ENGINES


def add_backend_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """`--backend` with the registry's choices and default rule."""
    parser.add_argument("--backend", choices=BACKENDS, help=BACKEND_HELP)


def _known(backend: str) -> Backend:
    """The backend, or a one-line usage error naming the ones there are."""
    if not is_backend(backend):
        raise UsageError(f"unknown backend {backend!r} (expected one of: {', '.join(BACKENDS)})")
    return backend


def resolve_backend(flag: str | None, env: Mapping[str, str] | None = None) -> Backend:
    """`--backend` wins, else `openai` if OPENAI_API_KEY is set, else `offline` (docs/interfaces.md)."""
    env = os.environ if env is None else env
    if flag:
        return _known(flag)
    return LLM if env.get("OPENAI_API_KEY", "").strip() else OFFLINE


def uses_llm(backend: str) -> bool:
    """True for an engine that talks to a server (so it has settings to check, and can fail over)."""
    return is_backend(backend) and ENGINES[backend].uses_llm


def engine_label(backend: str, model: str | None) -> str:
    """What the app shows as the engine: "offline engine", or "LLM engine: <model>"."""
    info = ENGINES[backend] if is_backend(backend) else ENGINES[OFFLINE]
    return f"{info.label}: {model or 'default model'}" if info.uses_llm else info.label


def make_engine(
    backend: str,
    toolkit: Toolkit,
    *,
    model: str | None = None,
    env: Mapping[str, str] | None = None,
    settings: LLMSettings | None = None,
    http_client: httpx2.Client | None = None,
) -> Engine:
    """Build an engine: the offline one over the toolkit's grader, or the LLM engine from `settings`
    (default: flags and environment), its SDK client over `http_client` when given (the eval suite's
    cassettes)."""
    if not ENGINES[_known(backend)].uses_llm:
        from agent.engines.offline import OfflineEngine

        return OfflineEngine(toolkit.grader)
    from agent.engines.llm import LLMEngine
    from agent.llm.client import LLMClient

    settings = settings or LLMSettings.from_env(env, model=model)
    return LLMEngine(settings, client=LLMClient(settings, http_client=http_client))
