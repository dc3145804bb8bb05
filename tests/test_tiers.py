"""The two test tiers: the fast one cannot load the real model, and its stand-ins behave."""

from __future__ import annotations

import re

import numpy as np
import pytest

from agent.search.embedding import Embedder
from tests.fakes import WIDTH, FakeClock, HashingEmbedder


def test_the_fast_tier_refuses_to_load_the_real_model() -> None:
    with pytest.raises(AssertionError, match=re.escape("mark it `@pytest.mark.real`")):
        Embedder(use_bundle=False).embed(["label delay"])


def test_hashed_vectors_are_deterministic_unit_length_and_follow_shared_words() -> None:
    first, second = HashingEmbedder(), HashingEmbedder()
    texts = ["delayed chargeback labels", "chargeback labels arrive late", "GPU memory ran out"]
    vectors = first.embed(texts)
    assert vectors.shape == (3, WIDTH) and np.array_equal(vectors, second.embed(texts))
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3
    # Parts are pooled from their own words, as the real embedder's clause vectors are.
    rows = first.embed_with_parts(["label delay; GPU memory"], [[(0, 11), (13, 23)]])[0]
    assert rows.shape == (3, WIDTH) and rows[1] @ vectors[0] > rows[2] @ vectors[0]


def test_the_fake_clock_moves_only_when_told() -> None:
    clock = FakeClock(start=5.0)
    assert clock() == clock() == 5.0
    clock.advance(2.5)
    assert clock() == 7.5
