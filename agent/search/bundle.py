"""The bundled knowledge base's vectors, shipped with the package so a first launch embeds nothing.

Embedding the ~1,600 texts of the bundled notes and rubrics takes 15-80 s on two cores; reading
them back takes milliseconds. The file holds the model fingerprint it was made with and, for each
text, its vector. It is a read-only layer under the embedder's caches: a text is served from it
only when the embedder's model is the one the file was made with and the text is exactly one of
its texts, so an edited note or another model simply embeds as before.

`python -m agent.search.bundle` writes the file from the bundled content; a test fails when the
content or the model changed and the file was not regenerated.
"""

from __future__ import annotations

import hashlib
import json
import sys
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from agent.content.loader import KnowledgeBase

BUNDLE_PATH = Path(__file__).resolve().parent / "data" / "bundled_vectors.npz"


def bundled_texts(kb: KnowledgeBase) -> list[str]:
    """Every text a first interview embeds from the content: index units, then grading statements."""
    from agent.content.units import build_units
    from agent.search.service import fixed_statements

    texts = dict.fromkeys(u.embed_text for u in build_units(kb))
    texts.update(dict.fromkeys(fixed_statements(kb)))
    return list(texts)


def texts_digest(texts: list[str]) -> str:
    """The sha256 of a list of texts, in order: what the bundle was made from."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def write_bundle(path: Path, fingerprint: str, texts: list[str], vectors: np.ndarray) -> None:
    """Write texts and their vectors; the manifest is UTF-8 JSON, so loading needs no pickle."""
    manifest = {"model": fingerprint, "texts": texts, "sha256": texts_digest(texts)}
    encoded = np.frombuffer(json.dumps(manifest, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, manifest=encoded, vectors=np.asarray(vectors, dtype=np.float32))
    tmp.replace(path)


class Bundle:
    """Vectors by exact text, for one model."""

    def __init__(self, fingerprint: str, texts: list[str], vectors: np.ndarray) -> None:
        self.fingerprint = fingerprint
        self.texts = texts
        self.vectors = vectors
        self._row = {text: n for n, text in enumerate(texts)}

    def get(self, text: str) -> np.ndarray | None:
        """The shipped vector of exactly this text, or None."""
        row = self._row.get(text)
        return None if row is None else self.vectors[row]


def read_bundle(path: Path = BUNDLE_PATH) -> Bundle | None:
    """The bundle at `path`, or None when it is missing or unreadable (then everything is embedded)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            manifest = json.loads(data["manifest"].tobytes().decode("utf-8"))
            vectors = np.array(data["vectors"], dtype=np.float32)
        texts = [str(t) for t in manifest["texts"]]
        fingerprint = str(manifest["model"])
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile):
        return None
    if vectors.ndim != 2 or vectors.shape[0] != len(texts):
        return None
    return Bundle(fingerprint, texts, vectors)


def main(argv: list[str] | None = None) -> int:
    """Regenerate the bundle from the bundled content with the bundled model."""
    from agent.config import Settings
    from agent.search.embedding import Embedder, default_spec
    from agent.search.service import load_kb

    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else BUNDLE_PATH
    settings = Settings.from_env({})  # the bundled content, whatever MLSD_* says
    texts = bundled_texts(load_kb(settings))
    embedder = Embedder(default_spec(), use_bundle=False)
    vectors = embedder.embed(texts)
    write_bundle(path, embedder.spec.fingerprint, texts, vectors)
    print(f"wrote {len(texts)} vectors to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
