"""Session transcripts: JSON lines under `MLSD_HOME/sessions`, written and flushed as each turn is taken.

One event per line, readable by a person: the session header (problem, engine, model, prompt
versions), every turn with its phase and time, every grade, each finished phase, the report.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agent.errors import UsageError

SESSIONS_DIR = "sessions"


#: Session ids become file names: letters, digits, "-" and "_" only, so no id can name a path.
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def check_session_id(session_id: str) -> str:
    """The id itself, or a UsageError when it is not a short name of letters, digits, "-" and "_"."""
    if not SESSION_ID.fullmatch(session_id):
        shown = session_id if len(session_id) <= 80 else session_id[:77] + "..."
        raise UsageError(
            f"bad session id {shown!r}: use up to 64 letters, digits, '-' or '_' (no paths, no '..')"
        )
    return session_id


def lock_path(home: Path, session_id: str) -> Path:
    """The session's lock file, next to its transcript."""
    return home / SESSIONS_DIR / f"{check_session_id(session_id)}.lock"


def transcript_path(home: Path, session_id: str) -> Path:
    """Where a session's transcript lives (the one place a session id becomes a path)."""
    return home / SESSIONS_DIR / f"{check_session_id(session_id)}.jsonl"


class TranscriptWriter:
    """Appends events to a session's transcript, each flushed and synced to disk before returning."""

    def __init__(self, path: Path, durable: bool = True) -> None:
        self.path = path
        # Off only for throwaway transcripts (the eval suite's replays): nobody's answer is at stake.
        self.durable = durable
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)

    def repair(self) -> bool:
        """Cut a half-written last line (a crash in the middle of a write); True if one was cut."""
        if not self.path.is_file():
            return False
        data = self.path.read_bytes()
        if not data or data.endswith(b"\n"):
            return False
        with self.path.open("r+b") as handle:
            handle.truncate(data.rfind(b"\n") + 1)
        return True

    def start(self, event: str, **fields: Any) -> None:
        """Create the transcript with its first line in one step: a crash or a full disk leaves no
        transcript or one with its whole header, never an empty or torn one that names no session."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            _write_all(fd, _line(event, fields))
            if self.durable:
                os.fsync(fd)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        if self.durable:  # the rename itself reaches the disk
            folder = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)

    def write(self, event: str, **fields: Any) -> None:
        """Append one event line."""
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            _write_all(fd, _line(event, fields))
            if self.durable:
                os.fsync(fd)
        finally:
            os.close(fd)


def _line(event: str, fields: dict[str, Any]) -> bytes:
    line = json.dumps({"event": event, "time": round(time.time(), 3), **fields}, ensure_ascii=False)
    return (line + "\n").encode("utf-8")


def _write_all(fd: int, data: bytes) -> None:
    """Write every byte: on a nearly full disk `os.write` writes part and returns, and the rest must
    raise (ENOSPC) rather than leave a torn line that the next line would run into."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def read_transcript(path: Path) -> list[dict[str, Any]]:
    """All events of a transcript; a damaged line is reported with its number, never skipped silently."""
    if not path.is_file():
        raise UsageError(f"no transcript at {path}")
    events = []
    for number, line in enumerate(_lines(path), 1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}: line {number}: damaged transcript line ({exc.msg})") from None
        if not isinstance(event, dict) or "event" not in event:
            raise UsageError(f"{path}: line {number}: not a transcript event")
        events.append(event)
    return events


def _lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8", errors="replace") as handle:
        yield from handle
