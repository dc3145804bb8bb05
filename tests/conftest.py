"""Shared fixtures: the real bundled content, the real embedding model and a real Chroma index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.config import Settings
from agent.content.loader import KnowledgeBase
from agent.privacy import opt_out
from agent.search.embedding import Embedder
from agent.search.index import KnowledgeIndex
from agent.search.service import load_kb, ready_index

REPO = Path(__file__).resolve().parents[1]

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
