"""Another embedding model, of another width: nothing assumes MiniLM's 384 dimensions.

The model is built here with `onnx`: a token-embedding table of width 48 whose output is masked by
the attention mask, so it has the inputs and output of a sentence-transformers export. It is a
poor model of meaning, which is fine: these tests check shapes, caches and plumbing, not quality.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import pytest

from agent.config import Settings
from agent.content.loader import KnowledgeBase
from agent.grading.offline import OfflineGrader
from agent.search.embedding import DEFAULT_TOKENIZER, Embedder, EmbeddingSpec, sha256_of
from agent.search.service import ready_index

pytestmark = pytest.mark.real

WIDTH = 48
ANSWER = (
    "Chargebacks arrive 60 to 90 days late, so I'd train on transactions older than that window and "
    "use analyst reviews as early, noisier labels for recent fraud patterns."
)


def build_toy_model(path: Path, width: int, *, declare_width: bool) -> Path:
    """An ONNX graph mapping token ids to rows of a fixed random table, zeroed where the mask is 0."""
    from onnx import TensorProto, helper, numpy_helper

    vocab = len(json.loads(DEFAULT_TOKENIZER.read_text(encoding="utf-8"))["model"]["vocab"])
    table = np.random.default_rng(7).standard_normal((vocab, width)).astype(np.float32)
    nodes = [
        helper.make_node("Gather", ["table", "input_ids"], ["tokens"]),
        helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask_f", "last_axis"], ["mask_3d"]),
        helper.make_node("Mul", ["tokens", "mask_3d"], ["last_hidden_state"]),
    ]
    graph = helper.make_graph(
        nodes,
        "toy-encoder",
        inputs=[
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"]),
        ],
        outputs=[
            helper.make_tensor_value_info(
                "last_hidden_state",
                TensorProto.FLOAT,
                ["batch", "sequence", width if declare_width else "hidden"],
            )
        ],
        initializer=[
            numpy_helper.from_array(table, "table"),
            numpy_helper.from_array(np.array([2], dtype=np.int64), "last_axis"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # readable by every onnxruntime this project supports
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def toy_spec(tmp_path_factory: pytest.TempPathFactory) -> EmbeddingSpec:
    """The 48-wide toy model, as `MLSD_EMBEDDING_*` would name it."""
    path = build_toy_model(tmp_path_factory.mktemp("toy") / "toy.onnx", WIDTH, declare_width=True)
    return EmbeddingSpec("toy", path, sha256_of(path), DEFAULT_TOKENIZER, None)


def test_the_width_comes_from_the_model_declared_or_not(tmp_path: Path, toy_spec: EmbeddingSpec) -> None:
    embedder = Embedder(toy_spec)
    assert embedder.dimension == WIDTH
    vectors = embedder.embed(["delayed chargeback labels", "a brand-new customer"])
    assert vectors.shape == (2, WIDTH)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, WIDTH)
    # A graph whose output width is symbolic: the width is seen on one text instead.
    path = build_toy_model(tmp_path / "symbolic.onnx", 24, declare_width=False)
    symbolic = Embedder(EmbeddingSpec("symbolic", path, sha256_of(path), DEFAULT_TOKENIZER, None))
    assert symbolic.dimension == 24
    assert symbolic.embed_one("label delay").shape == (24,)


def test_the_bundled_model_reads_its_width_from_the_model_too() -> None:
    assert Embedder(use_bundle=False).dimension == 384


def test_the_disk_cache_serves_other_widths_and_keeps_models_apart(
    tmp_path: Path, toy_spec: EmbeddingSpec
) -> None:
    path = tmp_path / "cache.sqlite"
    first = Embedder(toy_spec, disk_cache=path)
    vectors = first.embed([ANSWER, "label delay"])
    assert first.computed == 2
    again = Embedder(toy_spec, disk_cache=path)
    assert np.array_equal(again.embed([ANSWER, "label delay"]), vectors)
    assert again.computed == 0  # a 48-d vector is a cache hit, not silently dropped
    # The bundled model in the same file: its own vectors, its own width.
    minilm = Embedder(disk_cache=path, use_bundle=False)
    assert minilm.embed([ANSWER]).shape == (1, 384)
    assert minilm.computed == 1


def test_index_search_and_grading_work_with_a_48_wide_model(
    tmp_path: Path, bundled_settings: Settings, kb: KnowledgeBase, toy_spec: EmbeddingSpec
) -> None:
    settings = replace(bundled_settings, home=tmp_path / "home")
    embedder = Embedder(toy_spec, disk_cache=tmp_path / "home" / "cache" / "embeddings.sqlite")
    index, stats = ready_index(settings, kb, embedder=embedder)
    assert stats.computed == stats.embedded > 0  # no shipped vectors for another model
    hits = index.search("label delay in fraud chargebacks", k=3)
    assert len(hits) == 3
    criteria = kb.rubric_for("payment_fraud_detection", "data_preparation")
    grade = OfflineGrader(embedder).grade("data_preparation", criteria, ANSWER)
    assert {c.id for c in grade.criteria} == {c.id for c in criteria}
    assert all(c.score in (None, 1, 2, 3, 4) for c in grade.criteria)


def test_the_cli_runs_on_another_model_named_by_the_environment(
    tmp_path: Path, toy_spec: EmbeddingSpec
) -> None:
    env = {
        **os.environ,
        "MLSD_HOME": str(tmp_path / "home"),
        "MLSD_EMBEDDING_MODEL": str(toy_spec.model_path),
        "MLSD_EMBEDDING_TOKENIZER": str(toy_spec.tokenizer_path),
        "MLSD_EMBEDDING_SHA256": toy_spec.model_sha256,
    }
    run = subprocess.run(
        [sys.executable, "-m", "agent.cli.main", "kb", "search", "label delay", "-k", "2", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert len(json.loads(run.stdout)["results"]) == 2
