"""The persistent Chroma index of the knowledge base, and semantic search over it.

Vectors come from our own :class:`Embedder` (Chroma's default embedding function would try
to download a model). Telemetry is off. A build re-embeds only units whose content hash
changed; when nothing changed a manifest check returns before Chroma is even imported.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from agent.content.units import Unit, units_fingerprint
from agent.errors import MlsdError
from agent.ids import PHASES
from agent.privacy import opt_out
from agent.search.embedding import Embedder

COLLECTION = "knowledge"
MANIFEST = "manifest.json"
#: Texts embedded between two progress reports.
_EMBED_BATCH = 64
#: Units per Chroma upsert, well under Chroma's own limit (5,461 on SQLite).
_UPSERT_BATCH = 2048

Progress = Callable[[int, int], None]
_T = TypeVar("_T")


@dataclass(frozen=True)
class BuildStats:
    """What a build did."""

    total: int
    embedded: int
    removed: int
    seconds: float
    skipped: bool = False  # the manifest showed nothing changed
    rebuilt: bool = False  # the old index was unusable or made with another model, and was replaced
    computed: int = 0  # of the embedded units, those the model ran on (the rest came from a cache)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "total": self.total,
            "embedded": self.embedded,
            "removed": self.removed,
            "unchanged": self.total - self.embedded,
            "seconds": round(self.seconds, 3),
            "skipped": self.skipped,
            "rebuilt": self.rebuilt,
            "computed": self.computed,
        }


@dataclass(frozen=True)
class SearchHit:
    """One search result."""

    id: str
    kind: str
    text: str
    source: str
    distance: float
    topic: str | None
    phases: tuple[str, ...]
    problems: tuple[str, ...]
    owner: str | None
    look_for: str | None = None

    def as_json(self, phase: str | None = None, problem: str | None = None) -> dict[str, Any]:
        """The search result shape of docs/interfaces.md (`search_result`)."""
        shown_phase = phase if phase in self.phases else (self.phases[0] if len(self.phases) == 1 else None)
        shown_problem = self.owner or (
            problem if problem in self.problems else (self.problems[0] if len(self.problems) == 1 else None)
        )
        return {
            "text": self.text,
            "topic": self.topic,
            "phase": shown_phase,
            "problem": shown_problem,
            "source": self.source,
            "distance": round(self.distance, 4),
            "kind": self.kind,
            "id": self.id,
            "phases": list(self.phases),
            "problems": list(self.problems),
        }


def _metadata(unit: Unit) -> dict[str, Any]:
    # Chroma metadata values are scalars, so membership in phases/problems is stored as flags
    # that `where` filters can test; the lists themselves are kept as comma-joined strings.
    meta: dict[str, Any] = {
        "kind": unit.kind,
        "source": unit.source,
        "hash": unit.content_hash,
        "phases": ",".join(unit.phases),
        "problems": ",".join(unit.problems),
    }
    if unit.topic:
        meta["topic"] = unit.topic
    if unit.owner:
        meta["owner"] = unit.owner
    if unit.look_for:
        meta["look_for"] = unit.look_for
    for phase in unit.phases or PHASES:
        meta[f"ph_{phase}"] = True
    if unit.problems:
        for problem in unit.problems:
            meta[f"pr_{problem}"] = True
    else:
        meta["pr_any"] = True
    return meta


def build_where(
    phase: str | None = None, problem: str | None = None, kinds: Sequence[str] | None = None
) -> dict[str, Any] | None:
    """A Chroma `where` filter for the given phase, problem and unit kinds (None when unfiltered)."""
    clauses: list[dict[str, Any]] = []
    if phase:
        clauses.append({f"ph_{phase}": True})
    if problem:
        clauses.append({"$or": [{f"pr_{problem}": True}, {"pr_any": True}]})
    if kinds:
        clauses.append({"kind": {"$in": list(kinds)}} if len(kinds) > 1 else {"kind": kinds[0]})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class KnowledgeIndex:
    """A Chroma collection of knowledge units under `<MLSD_HOME>/index`."""

    def __init__(self, path: Path, embedder: Embedder) -> None:
        self.path = path
        self.embedder = embedder
        self._collection: Any = None
        #: The units of the last build, kept to rebuild from if damage shows only on first use.
        self._units: list[Unit] | None = None
        # Chroma is opened on first use, possibly from several threads at once (the eval runner).
        self._opening = threading.Lock()
        self._later: Callable[[Progress | None], object] | None = None
        self._pending: threading.Thread | None = None
        self._pending_error: BaseException | None = None

    # ------------------------------------------------------------------ manifest

    def _manifest(self) -> dict[str, Any]:
        try:
            data = json.loads((self.path / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write_manifest(self, units_fp: str, count: int) -> None:
        tmp = self.path / (MANIFEST + ".tmp")
        tmp.write_text(
            json.dumps({"model": self.embedder.spec.fingerprint, "units": units_fp, "count": count}),
            encoding="utf-8",
        )
        tmp.replace(self.path / MANIFEST)

    def is_fresh(self, units: list[Unit]) -> bool:
        """True when the index holds exactly these units, embedded with this model."""
        manifest = self._manifest()
        return (
            manifest.get("model") == self.embedder.spec.fingerprint
            and manifest.get("units") == units_fingerprint(units)
            and (self.path / "chroma.sqlite3").is_file()
        )

    # ------------------------------------------------------------------ chroma

    def _open(self, reset: bool = False) -> Any:
        opt_out()  # before Chroma loads
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        if reset:
            # Chroma caches one client system per path, including one that failed to start.
            from chromadb.api.shared_system_client import SharedSystemClient

            SharedSystemClient.clear_system_cache()
            if self.path.exists():
                shutil.rmtree(self.path)
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        client = chromadb.PersistentClient(
            path=str(self.path),
            settings=ChromaSettings(anonymized_telemetry=False, allow_reset=True),
        )
        collection = client.get_or_create_collection(
            COLLECTION,
            embedding_function=None,
            metadata={"hnsw:space": "cosine", "model": self.embedder.spec.fingerprint},
        )
        if (collection.metadata or {}).get("model") != self.embedder.spec.fingerprint:
            client.delete_collection(COLLECTION)
            collection = client.create_collection(
                COLLECTION,
                embedding_function=None,
                metadata={"hnsw:space": "cosine", "model": self.embedder.spec.fingerprint},
            )
        return collection

    def _collection_or_rebuild(self) -> tuple[Any, bool]:
        try:
            return self._open(), False
        except MlsdError:
            raise
        except Exception:
            # A damaged index is only a cache of the notes: replace it rather than fail.
            return self._open(reset=True), True

    # ------------------------------------------------------------------ build

    def build(
        self, units: list[Unit], *, force: bool = False, progress: Progress | None = None
    ) -> BuildStats:
        """Bring the index in line with `units`, embedding only what is new or changed."""
        started = time.perf_counter()
        self._units = units
        if not force and self.is_fresh(units):
            return BuildStats(len(units), 0, 0, time.perf_counter() - started, skipped=True)
        collection, rebuilt = self._collection_or_rebuild()
        if force and collection.count():
            collection, rebuilt = self._open(reset=True), True
        embedded, removed, computed = self._sync(collection, units, progress)
        self._collection = collection
        return BuildStats(
            len(units),
            embedded,
            removed,
            time.perf_counter() - started,
            rebuilt=rebuilt,
            computed=computed,
        )

    def _sync(self, collection: Any, units: list[Unit], progress: Progress | None) -> tuple[int, int, int]:
        """Embed and store the units the collection lacks or holds stale, drop the ones it should not
        hold, then write the manifest; returns how many were embedded, removed and run through the
        model (the rest of the embedded came from a cache or the shipped vectors)."""
        stored = collection.get(include=["metadatas"])
        stored_hash = {
            i: (m or {}).get("hash") for i, m in zip(stored["ids"], stored["metadatas"], strict=True)
        }
        wanted = {u.id for u in units}
        stale = [u for u in units if stored_hash.get(u.id) != u.content_hash]
        removed = [i for i in stored_hash if i not in wanted]
        if removed:
            with _writing(self.path):
                collection.delete(ids=removed)
        if progress:
            progress(0, len(stale))
        computed_before = self.embedder.computed
        vectors = []
        for start in range(0, len(stale), _EMBED_BATCH):
            vectors.append(self.embedder.embed([u.embed_text for u in stale[start : start + _EMBED_BATCH]]))
            if progress:
                progress(min(start + _EMBED_BATCH, len(stale)), len(stale))
        # Few large upserts: Chroma's cost is mostly per call (measured on a busy 2-core machine:
        # 834 units took 3.6 s in batches of 64, 1.8 s in one call). The embedder's disk cache
        # keeps the vectors of a build that is interrupted before this point.
        stacked = np.concatenate(vectors) if vectors else np.zeros((0, self.embedder.dimension))
        for start in range(0, len(stale), _UPSERT_BATCH):
            batch = stale[start : start + _UPSERT_BATCH]
            with _writing(self.path):
                collection.upsert(
                    ids=[u.id for u in batch],
                    embeddings=stacked[start : start + _UPSERT_BATCH],
                    documents=[u.text for u in batch],
                    metadatas=[_metadata(u) for u in batch],
                )
        self._write_manifest(units_fingerprint(units), len(units))
        return len(stale), len(removed), self.embedder.computed - computed_before

    def prepare_later(self, prepare: Callable[[Progress | None], object]) -> None:
        """Leave a build (`prepare`) for later: :meth:`start_preparing` runs it in a thread, and
        the first search runs it (or waits for that thread) and raises what it raised.

        The app's first launch shows the interview first and fills Chroma afterwards: the opening
        question needs no search, and a candidate takes longer to answer than the build.
        """
        self._later = prepare

    def start_preparing(self, progress: Progress | None = None) -> bool:
        """Start the build left by :meth:`prepare_later`, if any, in a thread (True if one started)."""
        with self._opening:
            prepare, self._later = self._later, None
            if prepare is None:
                return False

            def run() -> None:
                try:
                    prepare(progress)
                except BaseException as exc:  # handed to the first search, whose caller reports it
                    self._pending_error = exc

            # Not a daemon: an exit waits for the build rather than cutting a Chroma write short.
            self._pending = threading.Thread(target=run, name="index-build")
            self._pending.start()
            return True

    # ------------------------------------------------------------------ search

    def _ready(self) -> Any:
        if self._later is not None:
            self.start_preparing()
        pending = self._pending
        if pending is not None:
            pending.join()
            if self._pending_error is not None:
                raise self._pending_error
        with self._opening:
            if self._collection is None:
                collection, reset = self._collection_or_rebuild()
                if reset:
                    # The manifest said fresh, but Chroma's files were damaged: the reset left an
                    # empty collection (and no manifest), so the units go back in before any search.
                    if self._units is None:
                        raise MlsdError(f"the index {self.path} was damaged and emptied: run `mlsd kb build`")
                    self._sync(collection, self._units, None)
                self._collection = collection
        return self._collection

    def _read(self, call: Callable[[Any], _T]) -> _T:
        """Run a read on the collection. Damage that shows only now (Chroma opens, but a garbled HNSW
        segment fails the first query) replaces the index with the last build's units, once."""
        collection = self._ready()
        try:
            return call(collection)
        except MlsdError:
            raise
        except Exception:  # Chroma's errors are its own, untyped: any failed read means damage here
            with self._opening:
                if self._collection is collection:  # another thread may have rebuilt it meanwhile
                    if self._units is None:
                        raise MlsdError(
                            f"the index {self.path} is damaged: run `mlsd kb build --force`"
                        ) from None
                    fresh = self._open(reset=True)
                    self._sync(fresh, self._units, None)
                    self._collection = fresh
            return call(self._collection)

    def vectors(
        self, *, phase: str | None = None, problem: str | None = None, kinds: Sequence[str] | None = None
    ) -> tuple[list[SearchHit], Any]:
        """Every unit matching the filters with its stored vector, for in-memory scoring."""
        where = build_where(phase, problem, kinds)
        result = self._read(lambda c: c.get(where=where, include=["documents", "metadatas", "embeddings"]))
        hits = [
            _hit(unit_id, text, meta, 0.0)
            for unit_id, text, meta in zip(
                result["ids"], result["documents"], result["metadatas"], strict=True
            )
        ]
        return hits, np.asarray(result["embeddings"], dtype=np.float32).reshape(len(hits), -1)

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        phase: str | None = None,
        problem: str | None = None,
        kinds: Sequence[str] | None = None,
    ) -> list[SearchHit]:
        """The k units nearest in meaning to `query`, optionally filtered by phase, problem and kind."""
        return self.search_vector(
            self.embedder.embed_one(query), k=k, phase=phase, problem=problem, kinds=kinds
        )

    def search_vector(
        self,
        vector: Any,
        *,
        k: int = 5,
        phase: str | None = None,
        problem: str | None = None,
        kinds: Sequence[str] | None = None,
    ) -> list[SearchHit]:
        """Like :meth:`search`, for a query that is already embedded."""
        where = build_where(phase, problem, kinds)
        result = self._read(
            lambda c: c.query(
                query_embeddings=[vector],
                n_results=k,
                where=where,
                include=["documents", "metadatas", "distances"],
            )
        )
        ids, texts = result["ids"][0], result["documents"][0]
        metas, distances = result["metadatas"][0], result["distances"][0]
        return [_hit(*row) for row in zip(ids, texts, metas, distances, strict=True)]


#: Chroma's errors do not say why a write failed: with less free space than this, it was the disk.
_FULL_BELOW = 16 * 1024 * 1024


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """Around a Chroma write: a failure on an (all but) full disk becomes the OSError it really is."""
    try:
        yield
    except Exception as exc:
        if shutil.disk_usage(path).free >= _FULL_BELOW:
            raise
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path)) from exc


def _hit(unit_id: str, text: str, meta: dict[str, Any], distance: float) -> SearchHit:
    return SearchHit(
        id=unit_id,
        kind=meta["kind"],
        text=text,
        source=meta["source"],
        distance=float(distance),
        topic=meta.get("topic"),
        phases=tuple(p for p in meta.get("phases", "").split(",") if p),
        problems=tuple(p for p in meta.get("problems", "").split(",") if p),
        owner=meta.get("owner"),
        look_for=meta.get("look_for"),
    )
