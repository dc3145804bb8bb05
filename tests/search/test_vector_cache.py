"""Embeddings remembered by text, in memory and on disk, and clause vectors pooled from one pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agent.grading.sentences import clause_spans
from agent.search.embedding import Embedder

pytestmark = pytest.mark.real

SENTENCE = "We log each impression and slot, since clicks depend on position, so the ranker learns less bias."


def test_a_text_is_run_through_the_model_once() -> None:
    embedder = Embedder()
    first = embedder.embed(["cold start for new users", "delayed chargeback labels"])
    assert embedder.computed == 2
    again = embedder.embed(["delayed chargeback labels", "cold start for new users", "something new"])
    assert embedder.computed == 3
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[1], first[0])


def test_parts_come_from_the_same_pass_and_row_zero_is_the_text(embedder: Embedder) -> None:
    spans = clause_spans(SENTENCE)
    assert len(spans) == 3
    fresh = Embedder()
    rows = fresh.embed_with_parts([SENTENCE], [spans])[0]
    assert rows.shape == (1 + len(spans), 384)
    assert fresh.computed == 1  # the clauses cost no extra model call
    assert np.allclose(rows[0], embedder.embed_one(SENTENCE), atol=1e-5)
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    # A clause's pooled vector is about what the clause says, not the whole sentence.
    topics = embedder.embed(["position bias in click logs", "logging impressions"])
    causal = rows[2]  # "since clicks depend on position,"
    assert causal @ topics[0] > rows[0] @ topics[0] - 0.05
    assert not np.allclose(rows[1], rows[2], atol=1e-3)


def test_the_disk_cache_survives_a_restart_and_a_damaged_file(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "embeddings.sqlite"
    first = Embedder(disk_cache=path)
    vectors = first.embed_with_parts([SENTENCE], [clause_spans(SENTENCE)])[0]
    assert first.computed == 1
    second = Embedder(disk_cache=path)
    again = second.embed_with_parts([SENTENCE], [clause_spans(SENTENCE)])[0]
    assert second.computed == 0
    assert np.array_equal(vectors, again)
    path.write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    third = Embedder(disk_cache=path)
    assert np.allclose(third.embed([SENTENCE])[0], vectors[0], atol=1e-6)
    assert third.computed == 1
