"""The shipped vectors of the bundled content: current, the model's own, and used only when they fit."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from agent.config import Settings
from agent.content.loader import KnowledgeBase, load_knowledge_base
from agent.content.units import build_units
from agent.search.bundle import BUNDLE_PATH, bundled_texts, read_bundle, texts_digest, write_bundle
from agent.search.embedding import Embedder, default_spec
from agent.search.service import fixed_statements, ready_index

from ..conftest import REPO

pytestmark = pytest.mark.real

REGENERATE = "the shipped vectors are out of date: run `python -m agent.search.bundle` and commit the file"


def test_the_shipped_vectors_cover_exactly_the_bundled_content(kb: KnowledgeBase) -> None:
    bundle = read_bundle()
    assert bundle is not None, f"{BUNDLE_PATH} is missing or unreadable: {REGENERATE}"
    assert bundle.fingerprint == default_spec().fingerprint, REGENERATE
    wanted = bundled_texts(kb)
    assert texts_digest(bundle.texts) == texts_digest(wanted), REGENERATE
    assert bundle.vectors.shape == (len(wanted), Embedder(use_bundle=False).dimension)


def test_the_shipped_vectors_are_what_the_model_computes(kb: KnowledgeBase) -> None:
    bundle = read_bundle()
    assert bundle is not None
    sample = bundle.texts[:: max(1, len(bundle.texts) // 24)]
    fresh = Embedder(use_bundle=False).embed(sample)
    shipped = np.stack([bundle.get(t) for t in sample])
    # Same model, same texts: equal up to float rounding across CPUs.
    assert np.allclose(fresh, shipped, atol=1e-4)


def test_a_fresh_home_builds_the_index_without_running_the_model(tmp_path: Path, kb: KnowledgeBase) -> None:
    settings = Settings(
        home=tmp_path / "home", knowledge_dir=REPO / "knowledge", rubrics_dir=REPO / "rubrics"
    )
    embedder = Embedder()
    index, stats = ready_index(settings, kb, embedder=embedder)
    assert stats.embedded == len(build_units(kb)) and embedder.computed == 0
    embedder.embed(fixed_statements(kb))  # what the grader compares answers with
    assert embedder.computed == 0
    top = index.search("when do we learn a payment was fraud", k=3, problem="payment_fraud_detection")
    assert top and embedder.computed == 1  # only the query went through the model


def test_an_edited_note_embeds_only_what_changed(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path / "home", knowledge_dir=tmp_path / "knowledge", rubrics_dir=tmp_path / "rubrics"
    )
    shutil.copytree(REPO / "knowledge", settings.knowledge_dir)
    shutil.copytree(REPO / "rubrics", settings.rubrics_dir)
    note = settings.knowledge_dir / "topics" / "cold_start.md"
    kb = load_knowledge_base(settings.knowledge_dir, settings.rubrics_dir)
    question = kb.topic_note("cold_start").followups[0].question
    edited = "Which signal would you trust first for a traveller who has never booked anything with us?"
    note.write_text(note.read_text(encoding="utf-8").replace(question, edited, 1), encoding="utf-8")

    embedder = Embedder()
    edited_kb = load_knowledge_base(settings.knowledge_dir, settings.rubrics_dir)
    index, _ = ready_index(settings, edited_kb, embedder=embedder)
    assert embedder.computed == 1  # the edited follow-up; every other unit came from the shipped file
    assert index.search(edited, k=1, kinds=["followup"])[0].text == edited


def test_another_model_never_reads_the_shipped_vectors() -> None:
    other = replace(default_spec(), name="another-model")
    embedder = Embedder(other)
    assert embedder._shipped() is None
    assert Embedder()._shipped() is not None


@pytest.mark.parametrize("damage", ["truncated", "garbage", "wrong shape"])
def test_a_damaged_file_is_ignored_not_trusted(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "bundle.npz"
    write_bundle(path, "m:1", ["a", "b"], np.ones((2, 4), dtype=np.float32))
    assert read_bundle(path) is not None
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "garbage":
        path.write_bytes(b"not a numpy file at all")
    else:
        write_bundle(path, "m:1", ["a", "b", "c"], np.ones((2, 4), dtype=np.float32))
    assert read_bundle(path) is None
