"""Moving a damaged file out of the way, kept for a person to inspect, never silently deleted."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path


def set_aside(path: Path, companions: Sequence[str] = ()) -> Path:
    """Rename `path` to `<stem>.damaged-<time><suffix>` beside it and return the new path.

    `companions` are suffixes of files that belong to it (SQLite's "-wal" and "-shm") and move with
    it under the same name. A second damaged file in the same second gets "-2", "-3", ... rather than
    overwriting the first.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.stem}.damaged-{stamp}{path.suffix}")
    n = 2
    while any(aside.with_name(aside.name + s).exists() for s in ("", *companions)):
        aside = path.with_name(f"{path.stem}.damaged-{stamp}-{n}{path.suffix}")
        n += 1
    for suffix in ("", *companions):
        part = path.with_name(path.name + suffix)
        if part.exists():
            part.rename(aside.with_name(aside.name + suffix))
    return aside
