"""An index whose build is left for later (the app's first launch): searches wait for it, errors surface."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from agent.config import Settings
from agent.content.loader import KnowledgeBase
from agent.content.units import build_units
from agent.errors import MlsdError
from agent.search.embedding import Embedder
from agent.search.service import index_later
from agent.session import load_toolkit

from ..conftest import REPO

pytestmark = pytest.mark.real


def _settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", knowledge_dir=REPO / "knowledge", rubrics_dir=REPO / "rubrics")


def test_a_search_before_the_build_started_runs_it_first(tmp_path: Path, kb: KnowledgeBase) -> None:
    index = index_later(_settings(tmp_path), kb, Embedder())
    assert not (index.path / "chroma.sqlite3").exists()  # nothing built yet
    hits = index.search("label delay for chargebacks", k=3, problem="payment_fraud_detection")
    assert len(hits) == 3 and (index.path / "manifest.json").is_file()


def test_a_search_during_the_build_waits_for_it(tmp_path: Path, kb: KnowledgeBase) -> None:
    settings = _settings(tmp_path)
    toolkit = load_toolkit(settings, Embedder(), later=True, kb=kb)
    heard: list[tuple[int, int]] = []
    assert toolkit.finish_loading(progress=lambda done, total: heard.append((done, total)))
    builder = next(t for t in threading.enumerate() if t.name == "index-build")
    hits = toolkit.index.search("label delay for chargebacks", k=2)
    assert len(hits) == 2 and not builder.is_alive()
    # The app's progress bar hears the build from its thread, from nothing to every unit.
    units = len(build_units(kb))
    assert heard[0] == (0, units) and heard[-1] == (units, units)
    assert not toolkit.finish_loading()  # nothing left to build
    # The next start finds the index fresh: nothing is left for later.
    again = index_later(settings, kb, Embedder())
    assert again._later is None


def test_a_failed_background_build_is_raised_by_the_first_search(tmp_path: Path, kb: KnowledgeBase) -> None:
    index = index_later(_settings(tmp_path), kb, Embedder())

    def broken(progress: object) -> None:
        raise MlsdError("the disk is full: free some space under MLSD_HOME")

    index.prepare_later(broken)
    index.start_preparing()
    with pytest.raises(MlsdError, match="disk is full"):
        index.search("anything", k=1)


def test_a_read_that_fails_on_damage_rebuilds_the_index_once(tmp_path: Path, kb: KnowledgeBase) -> None:
    # Chroma can open an index whose HNSW segment is garbled and fail only on the first query; that
    # is forced here by a collection whose reads fail, so the repair path runs every time.
    index = index_later(_settings(tmp_path), kb, Embedder())
    index.search("anything", k=1)  # builds it
    damaged = index._collection

    class Garbled:
        def __getattr__(self, name: str) -> object:
            def fail(*args: object, **kwargs: object) -> object:
                raise RuntimeError("Error deserializing pickle file")

            return fail

    index._collection = Garbled()
    hits = index.search("label delay for chargebacks", k=2, problem="payment_fraud_detection")
    assert len(hits) == 2 and index._collection is not damaged and index._collection.count() > 800
