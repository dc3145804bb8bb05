"""The answer a candidate was typing and had not sent, kept next to the session's transcript.

Quitting (or a crash) mid-answer must not lose it: `mlsd practice --resume` puts it back in the box.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from agent.transcript import SESSIONS_DIR, check_session_id


def draft_path(home: Path, session_id: str) -> Path:
    """Where a session's unsent answer is kept."""
    return home / SESSIONS_DIR / f"{check_session_id(session_id)}.draft.txt"


def save_draft(home: Path, session_id: str, text: str) -> None:
    """Keep the unsent answer (atomically: the old draft or the new one, never half); empty removes it."""
    path = draft_path(home, session_id)
    if not text.strip():
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def load_draft(home: Path, session_id: str) -> str:
    """The unsent answer of a session, or "" when there is none (or it cannot be read: a draft is
    a convenience, never a reason not to resume)."""
    try:
        return draft_path(home, session_id).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
