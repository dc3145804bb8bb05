"""Embeddings remembered by text: in memory for a session, and optionally on disk across runs.

An answer is embedded once per turn however many parts of the turn (grading, topic matching,
follow-up choice) look at it, and the eval suite, which replays the same candidate texts on every
run, embeds each text once per model and then reads it back. Vectors are keyed by the model's
fingerprint and the exact text, so another model or an edited text never reads a stale vector.
Batch composition does not change a vector (padding is masked), so a cached vector is the one a
fresh call would return.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np


class MemoryCache:
    """A bounded least-recently-used map from text to vector."""

    def __init__(self, capacity: int = 8192) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> np.ndarray | None:
        """The remembered vector, or None."""
        with self._lock:
            vector = self._items.get(text)
            if vector is not None:
                self._items.move_to_end(text)
            return vector

    def put(self, text: str, vector: np.ndarray) -> None:
        """Remember a vector, forgetting the least recently used beyond capacity."""
        with self._lock:
            self._items[text] = vector
            self._items.move_to_end(text)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)


class DiskCache:
    """Vectors in one SQLite file, keyed by sha256 of the model fingerprint and the text.

    The file also records each model's vector length, taken from the first vectors stored for it,
    so a stored vector of any other length (a damaged row) is never returned, whatever the model.
    """

    def __init__(self, path: Path, fingerprint: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = path
        self.fingerprint = fingerprint
        self._dimension: int | None = None  # read once it is known: a model's length never changes
        self._lock = threading.Lock()
        try:
            self._db = _open(path)
        except sqlite3.DatabaseError as exc:
            if getattr(exc, "sqlite_errorname", "") not in ("SQLITE_NOTADB", "SQLITE_CORRUPT"):
                raise  # unreadable, read-only, disk full: not damage, and not a reason to delete it
            # A damaged cache is only lost work: start it again rather than fail the run.
            for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                stale.unlink(missing_ok=True)
            self._db = _open(path)

    @property
    def dimension(self) -> int | None:
        """The length of this model's stored vectors, or None before any was stored."""
        if self._dimension is None:
            with self._lock:
                row = self._db.execute(
                    "SELECT dimension FROM models WHERE fingerprint = ?", (self.fingerprint,)
                ).fetchone()
            self._dimension = None if row is None else int(row[0])
        return self._dimension

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.fingerprint}\0{text}".encode()).hexdigest()

    def get_many(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of those texts that have one."""
        keys = {self._key(t): t for t in texts}
        found: dict[str, np.ndarray] = {}
        dimension = self.dimension
        if dimension is None:
            return found
        with self._lock:
            items = list(keys.items())
            for start in range(0, len(items), 500):  # SQLite caps the number of bound parameters
                chunk = [k for k, _ in items[start : start + 500]]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk)
                for key, blob in rows:
                    vector = np.frombuffer(blob, dtype=np.float32)
                    if vector.shape == (dimension,):
                        found[keys[key]] = vector
        return found

    def put_many(self, items: Sequence[tuple[str, np.ndarray]]) -> None:
        """Store vectors (all of this model's length) in one transaction."""
        if not items:
            return
        vectors = [np.asarray(v, dtype=np.float32) for _, v in items]
        if len({v.shape for v in vectors}) != 1 or vectors[0].ndim != 1:
            raise ValueError("the vectors of one model must all be 1-d and of one length")
        known = self.dimension
        if known is not None and vectors[0].shape != (known,):
            raise ValueError(f"{self.fingerprint} vectors have length {known}, not {vectors[0].shape[0]}")
        rows = [(self._key(t), v.tobytes()) for (t, _), v in zip(items, vectors, strict=True)]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT OR IGNORE INTO models VALUES (?, ?)", (self.fingerprint, vectors[0].shape[0])
            )
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
            self._db.execute("COMMIT")

    def close(self) -> None:
        """Close the database file."""
        with self._lock:
            self._db.close()


def _open(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
    # Caches written before this table existed held only 384-d MiniLM vectors; their rows are
    # not read until that model stores a vector again (which records its length).
    db.execute("CREATE TABLE IF NOT EXISTS models (fingerprint TEXT PRIMARY KEY, dimension INTEGER NOT NULL)")
    return db
