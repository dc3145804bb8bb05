"""The real Chroma index: incremental rebuilds, filters, model changes, damage and telemetry."""

from __future__ import annotations

import shutil
import socket
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from agent.config import Settings
from agent.content.loader import KnowledgeBase, load_knowledge_base
from agent.content.units import build_units
from agent.search.embedding import Embedder
from agent.search.index import KnowledgeIndex, build_where

from ..conftest import REPO

pytestmark = pytest.mark.real


@pytest.fixture
def copy(tmp_path: Path, index: KnowledgeIndex) -> Settings:
    """A private copy of the content and of the already-built index, free to change."""
    settings = Settings(
        home=tmp_path / "home", knowledge_dir=tmp_path / "knowledge", rubrics_dir=tmp_path / "rubrics"
    )
    shutil.copytree(REPO / "knowledge", settings.knowledge_dir)
    shutil.copytree(REPO / "rubrics", settings.rubrics_dir)
    shutil.copytree(index.path, settings.index_dir)
    return settings


def _reload(settings: Settings) -> KnowledgeBase:
    return load_knowledge_base(settings.knowledge_dir, settings.rubrics_dir)


def test_a_no_change_rebuild_skips_all_work(index: KnowledgeIndex, kb: KnowledgeBase) -> None:
    stats = index.build(build_units(kb))
    assert stats.skipped and stats.embedded == 0 and stats.removed == 0


def test_only_the_changed_unit_is_embedded_again(copy: Settings, embedder: Embedder) -> None:
    note = copy.knowledge_dir / "topics" / "cold_start.md"
    text = note.read_text(encoding="utf-8")
    question = _reload(copy).topic_note("cold_start").followups[0].question
    new_question = "Which signal would you trust first for a traveller who has never booked anything with us?"
    note.write_text(text.replace(question, new_question, 1), encoding="utf-8")

    index = KnowledgeIndex(copy.index_dir, embedder)
    stats = index.build(build_units(_reload(copy)))
    assert (stats.skipped, stats.embedded, stats.removed) == (False, 1, 0)
    top = index.search(new_question, k=1, kinds=["followup"])[0]
    assert top.text == new_question and top.topic == "cold_start" and top.source == "topics/cold_start.md"


def test_removed_units_leave_the_index(copy: Settings, embedder: Embedder) -> None:
    kb = _reload(copy)
    units = build_units(kb)
    index = KnowledgeIndex(copy.index_dir, embedder)
    stats = index.build(units[:-3])
    assert stats.removed == 3 and stats.embedded == 0
    assert index.search("anything", k=len(units))[-1].id not in {u.id for u in units[-3:]}


def test_a_lost_manifest_costs_a_hash_check_not_a_re_embedding(copy: Settings, embedder: Embedder) -> None:
    (copy.index_dir / "manifest.json").unlink()
    stats = KnowledgeIndex(copy.index_dir, embedder).build(build_units(_reload(copy)))
    assert not stats.skipped and stats.embedded == 0


def test_another_model_rebuilds_every_vector(copy: Settings, embedder: Embedder) -> None:
    other = Embedder(replace(embedder.spec, name="another-model"))
    units = build_units(_reload(copy))[:40]  # a slice keeps the full re-embedding quick
    stats = KnowledgeIndex(copy.index_dir, other).build(units)
    assert stats.embedded == len(units) and stats.removed == 0


def test_a_damaged_index_is_replaced(copy: Settings, embedder: Embedder) -> None:
    (copy.index_dir / "manifest.json").unlink()
    (copy.index_dir / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    index = KnowledgeIndex(copy.index_dir, embedder)
    stats = index.build(build_units(_reload(copy))[:40])
    assert stats.rebuilt and stats.embedded == stats.total == 40
    assert index.search("new user with no history", k=3)


def test_phase_filter(index: KnowledgeIndex) -> None:
    hits = index.search("how would you roll the model out safely", k=15, phase="deployment_serving")
    assert len(hits) == 15
    assert all(not h.phases or "deployment_serving" in h.phases for h in hits)


def test_problem_filter_keeps_specific_and_general_units(index: KnowledgeIndex, kb: KnowledgeBase) -> None:
    hits = index.search(
        "what do we do about chargebacks arriving late", k=20, problem="payment_fraud_detection"
    )
    assert all(not h.problems or "payment_fraud_detection" in h.problems for h in hits)
    assert any(h.owner == "payment_fraud_detection" for h in hits)


def test_kind_filter_and_followup_metadata(index: KnowledgeIndex) -> None:
    hits = index.search("new users with no history", k=5, kinds=["followup"])
    assert hits and all(
        h.kind == "followup" and h.topic and h.look_for and h.text.endswith("?") for h in hits
    )


def test_where_filters_are_built_as_chroma_expects() -> None:
    assert build_where() is None
    assert build_where(phase="evaluation") == {"ph_evaluation": True}
    assert build_where(problem="visual_search", kinds=["topic", "followup"]) == {
        "$and": [
            {"$or": [{"pr_visual_search": True}, {"pr_any": True}]},
            {"kind": {"$in": ["topic", "followup"]}},
        ]
    }


def test_telemetry_is_off(index: KnowledgeIndex) -> None:
    index.search("warm up", k=1)
    collection: Any = index._collection
    assert collection._client.get_settings().anonymized_telemetry is False


def test_build_and_search_with_the_network_blocked(
    copy: Settings, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The offline engine's search opens no network connection at all."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        if self.family != socket.AF_UNIX:
            attempts.append(address)
            raise OSError("network disabled by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: refuse(socket.socket(), a))
    shutil.rmtree(copy.index_dir)
    index = KnowledgeIndex(copy.index_dir, embedder)
    index.build(build_units(_reload(copy))[:40])
    assert index.search("brand-new account with no history", k=3)
    assert attempts == []
