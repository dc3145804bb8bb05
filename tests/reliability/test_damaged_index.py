"""A vector index damaged after a good build, with a manifest that still says it is fresh: the first
command that opens it rebuilds it from the notes (issue 15, item 7), in a real process."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.search.index import KnowledgeIndex

from .mlsd import REPO, run

pytestmark = pytest.mark.real

QUERY = "a brand-new user with no history"
SCRIPT = REPO / "tests" / "fixtures" / "interviews" / "video_recommendation_weak.yaml"


def _truncate_sqlite(index: Path) -> None:
    path = index / "chroma.sqlite3"
    os.truncate(path, path.stat().st_size // 3)  # a crash or a full disk in the middle of a write


def _garble_sqlite(index: Path) -> None:
    path = index / "chroma.sqlite3"
    data = bytearray(path.read_bytes())
    rng = random.Random(15)
    for page in range(0, len(data), 4096):  # every page's content, the file header left whole
        data[page + 100 : page + 200] = rng.randbytes(100)
    path.write_bytes(bytes(data))


def _garble_vectors(index: Path) -> None:
    rng = random.Random(7)
    for segment in (p for p in index.iterdir() if p.is_dir()):
        for path in segment.iterdir():
            path.write_bytes(rng.randbytes(path.stat().st_size))


DAMAGE: dict[str, Callable[[Path], None]] = {
    "chroma.sqlite3 truncated": _truncate_sqlite,
    "chroma.sqlite3 garbled": _garble_sqlite,
    # Chroma often rebuilds these from its database by itself; when it has persisted the HNSW
    # segment (a large upsert does), its first query fails instead and the index is rebuilt then.
    "HNSW segment garbled": _garble_vectors,
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_index_is_rebuilt_by_the_first_interview_and_searches_find_what_they_did(
    warm_home: Path, index: KnowledgeIndex, damage: str
) -> None:
    manifest = (warm_home / "index" / "manifest.json").read_text(encoding="utf-8")
    DAMAGE[damage](warm_home / "index")

    interview = run(
        *("interview", "--backend", "offline", "--problem", "video_recommendation", "--answers", str(SCRIPT)),
        "--json",
        home=warm_home,
    )
    assert interview.returncode == 0, interview.stderr[-3000:]
    followups = [t for t in json.loads(interview.stdout)["turns"] if t["kind"] == "followup"]
    assert followups  # chosen from the index: an empty one offers none

    search = run("kb", "search", QUERY, "-k", "5", "--json", home=warm_home)
    assert search.returncode == 0, search.stderr[-3000:]
    found = [(r["source"], r["text"]) for r in json.loads(search.stdout)["results"]]
    assert found == [(h.source, h.text) for h in index.search(QUERY, k=5)]  # as before the damage
    assert (warm_home / "index" / "manifest.json").read_text(encoding="utf-8") == manifest
