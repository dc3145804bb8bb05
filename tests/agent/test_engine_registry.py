"""One engine registry: every `--backend`, the default choice, the app's label and the builds read it."""

from __future__ import annotations

from typing import Any

import pytest

from agent.config import LLMSettings
from agent.engines.llm import LLMEngine
from agent.engines.offline import OfflineEngine
from agent.engines.registry import BACKENDS, ENGINES, LLM, OFFLINE, engine_label, make_engine, resolve_backend
from agent.errors import UsageError
from tests.cli_commands import commands


def test_every_backend_option_offers_the_registry_and_nothing_else() -> None:
    offered = {
        name: action.choices
        for name, parser in commands().items()
        for action in parser._actions
        if "--backend" in action.option_strings
    }
    assert {"mlsd", "mlsd practice", "mlsd interview", "mlsd grade", "mlsd eval"} <= set(offered)
    assert all(tuple(choices or ()) == BACKENDS for choices in offered.values()), offered
    helps = {a.help for p in commands().values() for a in p._actions if "--backend" in a.option_strings}
    assert helps == {f"default: {LLM} if OPENAI_API_KEY is set, else {OFFLINE}"}


def test_the_default_is_the_flag_then_the_key_then_offline() -> None:
    assert resolve_backend("offline", {"OPENAI_API_KEY": "sk-x"}) == OFFLINE
    assert resolve_backend(None, {"OPENAI_API_KEY": "sk-x"}) == LLM
    assert resolve_backend(None, {"OPENAI_API_KEY": "  "}) == OFFLINE
    assert resolve_backend(None, {}) == OFFLINE
    with pytest.raises(UsageError, match="unknown backend 'gpt'"):
        resolve_backend("gpt", {})


def test_labels_and_builds_come_from_the_registry(fake_toolkit: Any) -> None:
    assert set(ENGINES) == set(BACKENDS) == {OFFLINE, LLM}
    assert engine_label(OFFLINE, "ignored") == "offline engine"
    assert engine_label(LLM, "qwen3") == "LLM engine: qwen3"
    assert engine_label(LLM, None) == "LLM engine: default model"
    offline = make_engine(OFFLINE, fake_toolkit)
    assert isinstance(offline, OfflineEngine) and offline.name == OFFLINE
    settings = LLMSettings(api_key="sk-test", base_url="http://127.0.0.1:9/v1", model="m1")
    llm = make_engine(LLM, fake_toolkit, settings=settings)
    assert isinstance(llm, LLMEngine) and llm.name == "openai:m1"
    with pytest.raises(UsageError, match="expected one of: offline, openai"):
        make_engine("nope", fake_toolkit)
