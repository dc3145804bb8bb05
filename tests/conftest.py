"""Shared fixtures: the real bundled content, the real embedding model and a real Chroma index, and
their fast stand-ins (tests/fakes.py).

Two tiers. A test is `real` when it needs the real embedding model (the `embedder`, `index` and
`toolkit` fixtures, marked here automatically), or marks itself so (subprocesses, tmux, llama.cpp).
Every other test is in the fast tier, `pytest -m "not real"`, under a minute: there, loading the
real model fails the test, so the tier cannot slowly fill with model-bound tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.config import Settings
from agent.content.loader import KnowledgeBase
from agent.llm.client import forget_learnt_formats
from agent.privacy import opt_out
from agent.search.embedding import Embedder
from agent.search.index import KnowledgeIndex
from agent.search.service import load_kb, ready_index
from tests.fakes import HashingEmbedder

REPO = Path(__file__).resolve().parents[1]

#: Fixtures that load the real embedding model: a test using one (directly or not) is `real`.
REAL_FIXTURES = frozenset({"embedder", "index", "toolkit"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that use the real model through a fixture."""
    for item in items:
        if REAL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.real)


@pytest.fixture(autouse=True)
def _fast_tier_loads_no_model(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside `real` tests the ONNX model must not load: say how to fix the test instead."""
    if request.node.get_closest_marker("real") is not None:
        return

    def refuse(self: Embedder) -> None:
        raise AssertionError(
            "this test loads the real embedding model: use tests.fakes.HashingEmbedder (the `fake_toolkit` "
            "fixture) or mark it `@pytest.mark.real`"
        )

    monkeypatch.setattr(Embedder, "_load", refuse)


# No test may send telemetry (onnxruntime and Chroma load lazily, after this) or touch the user's
# real data folder (below).
opt_out()


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every test gets its own MLSD_HOME and no LLM key or content overrides from the caller."""
    monkeypatch.setenv("MLSD_HOME", str(tmp_path / "home"))
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "MLSD_MODEL", "MLSD_KNOWLEDGE_DIR", "MLSD_RUBRICS_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name in ("MLSD_EMBEDDING_MODEL", "MLSD_EMBEDDING_TOKENIZER", "MLSD_EMBEDDING_SHA256"):
        monkeypatch.delenv(name, raising=False)
    # The client remembers per base URL and model what a server accepts; a test's stub server may get
    # the port of an earlier one that refused a format (a CI run failed on exactly that).
    forget_learnt_formats()


@pytest.fixture(scope="session")
def bundled_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings over the repository's own knowledge and rubrics, with a session-wide home."""
    return Settings(
        home=tmp_path_factory.mktemp("shared-home"),
        knowledge_dir=REPO / "knowledge",
        rubrics_dir=REPO / "rubrics",
    )


@pytest.fixture(scope="session")
def kb(bundled_settings: Settings) -> KnowledgeBase:
    """The bundled knowledge base, loaded and cross-checked."""
    return load_kb(bundled_settings)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real int8 MiniLM model, loaded once per test session."""
    return Embedder()


@pytest.fixture(scope="session")
def index(bundled_settings: Settings, kb: KnowledgeBase, embedder: Embedder) -> Iterator[KnowledgeIndex]:
    """A real Chroma index of the bundled knowledge base, built once per test session."""
    built, _ = ready_index(bundled_settings, kb, embedder=embedder)
    yield built


@pytest.fixture(scope="session")
def toolkit(bundled_settings: Settings, index: KnowledgeIndex, embedder: Embedder) -> Any:
    """Content, index, model and offline grader, shared by the session's tests."""
    from agent.session import load_toolkit

    return load_toolkit(bundled_settings, embedder=embedder)


@pytest.fixture(scope="session")
def fake_toolkit(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The bundled content over a real Chroma index of hashed bag-of-words vectors: no model loads."""
    from agent.session import load_toolkit

    settings = Settings(
        home=tmp_path_factory.mktemp("fake-home"),
        knowledge_dir=REPO / "knowledge",
        rubrics_dir=REPO / "rubrics",
    )
    return load_toolkit(settings, embedder=HashingEmbedder())
