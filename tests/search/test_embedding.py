"""The real embedding model: verified by sha256, normalised vectors, meaning-based similarity."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from agent.errors import EmbeddingModelError
from agent.search.embedding import Embedder, default_spec, sha256_of, spec_from_env

pytestmark = pytest.mark.real


def test_vectors_are_unit_length_and_384_wide(embedder: Embedder) -> None:
    vectors = embedder.embed(["a short text", "another, somewhat longer, text about ranking videos " * 20])
    assert vectors.shape == (2, 384) == (2, embedder.dimension)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_batched_and_single_embeddings_agree(embedder: Embedder) -> None:
    texts = ["cold start for new users", "a much longer sentence about delayed chargeback labels in fraud"]
    batch = embedder.embed(texts)
    singles = np.stack([embedder.embed_one(t) for t in texts])
    assert np.allclose(batch, singles, atol=1e-4)


def test_similarity_follows_meaning(embedder: Embedder) -> None:
    anchor, near, far = embedder.embed(
        [
            "the user just created an account and has no history",
            "a brand-new customer we know nothing about yet",
            "the GPU cluster ran out of memory during training",
        ]
    )
    assert float(anchor @ near) > float(anchor @ far) + 0.2


def test_default_files_match_their_pinned_sha256() -> None:
    spec = default_spec()
    assert sha256_of(spec.model_path) == spec.model_sha256
    assert spec.tokenizer_sha256 is not None
    assert sha256_of(spec.tokenizer_path) == spec.tokenizer_sha256


@pytest.mark.parametrize("which", ["model_path", "tokenizer_path"])
def test_an_altered_file_is_refused(tmp_path: Path, which: str) -> None:
    spec = default_spec()
    original: Path = getattr(spec, which)
    altered = tmp_path / original.name
    shutil.copyfile(original, altered)
    with altered.open("r+b") as handle:
        handle.seek(1000)
        byte = handle.read(1)
        handle.seek(1000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(EmbeddingModelError, match="sha256"):
        Embedder(replace(spec, **{which: altered})).embed(["anything"])


def test_a_missing_model_is_reported(tmp_path: Path) -> None:
    spec = replace(default_spec(), model_path=tmp_path / "nope.onnx")
    with pytest.raises(EmbeddingModelError, match="not found"):
        Embedder(spec).embed(["anything"])


def test_another_model_needs_its_tokenizer_and_sha256() -> None:
    with pytest.raises(EmbeddingModelError, match="MLSD_EMBEDDING_SHA256"):
        spec_from_env({"MLSD_EMBEDDING_MODEL": "/models/other.onnx"})
    spec = spec_from_env(
        {
            "MLSD_EMBEDDING_MODEL": "/models/other.onnx",
            "MLSD_EMBEDDING_TOKENIZER": "/models/tokenizer.json",
            "MLSD_EMBEDDING_SHA256": "ab" * 32,
        }
    )
    assert spec.name == "other" and spec.model_sha256 == "ab" * 32
    assert spec.fingerprint != default_spec().fingerprint


def test_another_model_can_be_used_through_the_environment(tmp_path: Path) -> None:
    """A copy of the model configured by env vars embeds exactly like the bundled one."""
    spec = default_spec()
    model = tmp_path / "copy.onnx"
    shutil.copyfile(spec.model_path, model)
    other = spec_from_env(
        {
            "MLSD_EMBEDDING_MODEL": str(model),
            "MLSD_EMBEDDING_TOKENIZER": str(spec.tokenizer_path),
            "MLSD_EMBEDDING_SHA256": spec.model_sha256,
        }
    )
    texts = ["position bias in click logs"]
    assert np.allclose(Embedder(other).embed(texts), Embedder(spec).embed(texts), atol=1e-6)
