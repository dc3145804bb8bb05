"""One process owns a session at a time: an OS file lock next to the transcript.

`flock` is released by the kernel when the process exits, however it exits (kill -9 included), so a
crash never leaves a session locked. The lock file holds the owner's pid, to say who has it. Within
one process the lock is shared (counted): the process is the owner, and reopening a session it
already has open (the app going back to it, a test resuming) must not lock it out of itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from pathlib import Path

from agent.errors import UsageError

#: Locks this process holds: path -> (file descriptor, how many holders).
_HELD: dict[Path, tuple[int, int]] = {}
_GUARD = threading.Lock()


class SessionLock:
    """An exclusive, non-blocking lock on one session, held until `release` or process exit."""

    def __init__(self, path: Path, session_id: str) -> None:
        self.path = path.resolve() if path.parent.exists() else path
        self._held = False
        with _GUARD:
            if self.path in _HELD:
                fd, count = _HELD[self.path]
                _HELD[self.path] = (fd, count + 1)
                self._held = True
                return
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.path = path.resolve()
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = _read_owner(fd)
                os.close(fd)
                who = f" (pid {owner})" if owner else ""
                raise UsageError(
                    f"session {session_id!r} is open in another mlsd window{who}: close that one first, "
                    "or start a new interview"
                ) from None
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
            _HELD[self.path] = (fd, 1)
            self._held = True

    def release(self) -> None:
        """Let another process open the session (once every holder in this process released it)."""
        with _GUARD:
            if not self._held:
                return
            self._held = False
            fd, count = _HELD.pop(self.path)
            if count > 1:
                _HELD[self.path] = (fd, count - 1)
                return
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def is_locked(path: Path) -> bool:
    """True when another process holds the session's lock (for skipping open sessions on --resume)."""
    if not path.is_file() or path.resolve() in _HELD:
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _read_owner(fd: int) -> str:
    with contextlib.suppress(OSError):
        return os.pread(fd, 32, 0).decode(errors="replace").strip()
    return ""
