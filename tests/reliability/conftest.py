"""A home with a built index and a warm embedding cache, so a child process that rebuilds the index
takes seconds instead of re-embedding every note for a minute."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from agent.config import Settings
from agent.content.loader import KnowledgeBase
from agent.content.units import build_units
from agent.search.embedding import Embedder
from agent.search.index import KnowledgeIndex
from agent.search.service import embedding_cache
from agent.search.vector_cache import DiskCache


@pytest.fixture(scope="session")
def _warm_template(
    tmp_path_factory: pytest.TempPathFactory,
    bundled_settings: Settings,
    kb: KnowledgeBase,
    index: KnowledgeIndex,
    embedder: Embedder,
) -> Path:
    home = tmp_path_factory.mktemp("warm-home")
    shutil.copytree(index.path, home / "index")
    # The built index holds every unit's vector: the cache gets them from there, keyed by the text
    # that was embedded, exactly as a build through the cache would have stored them.
    text_of = {u.id: u.embed_text for u in build_units(kb)}
    hits, vectors = index.vectors()
    path = embedding_cache(replace(bundled_settings, home=home))
    cache = DiskCache(path, embedder.spec.fingerprint)
    cache.put_many([(text_of[hit.id], vector) for hit, vector in zip(hits, vectors, strict=True)])
    cache.close()
    return home


@pytest.fixture
def warm_home(tmp_path: Path, _warm_template: Path) -> Path:
    """A private home holding the built index and an embedding cache with every unit's vector."""
    home = tmp_path / "home"
    shutil.copytree(_warm_template, home)
    return home
