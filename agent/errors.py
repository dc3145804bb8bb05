"""The project's own error types: each becomes one line for the user, never a traceback."""

from __future__ import annotations

import errno
import sqlite3


class MlsdError(Exception):
    """Base class for errors that are reported to the user as one line."""

    exit_code = 1


class UsageError(MlsdError):
    """Bad command-line usage or bad input given by the user."""

    exit_code = 2


class ContentError(UsageError):
    """A knowledge note, rubric or other content file is invalid."""

    def __init__(self, path: object, field: str | None, message: str) -> None:
        self.path = str(path)
        self.field = field
        self.message = message
        where = f"{self.path}: {field}" if field else self.path
        super().__init__(f"{where}: {message}")


class EmbeddingModelError(MlsdError):
    """The sentence-embedding model is missing, altered or cannot be loaded."""

    exit_code = 1


#: OS error numbers and what to do about each, for failures to read or write the user's files.
_STORAGE_ADVICE = {
    errno.ENOSPC: "no space left on the disk holding {where}: free some space and try again "
    "(everything saved before this is kept)",
    errno.EDQUOT: "disk quota exceeded for {where}: free some space and try again "
    "(everything saved before this is kept)",
    errno.EACCES: "permission denied on {where}: make it readable and writable by you, "
    "or point MLSD_HOME (or --home) at a folder of your own",
    errno.EPERM: "operation not permitted on {where}: make it readable and writable by you, "
    "or point MLSD_HOME (or --home) at a folder of your own",
    errno.EROFS: "{where} is on a read-only file system: point MLSD_HOME (or --home) at a writable folder",
    errno.EEXIST: "{where} is in the way: mlsd needs a folder there (it is a file or a broken link); "
    "move it aside",
    errno.ENOTDIR: "{where} cannot be created because a file is in the way of its folder; move that "
    "file aside",
    errno.EISDIR: "{where} is a folder where mlsd needs a file; move it aside",
}

#: SQLite's names for the same failures (its errors carry no file name and no errno).
_SQLITE_ERRNO = {"SQLITE_FULL": errno.ENOSPC, "SQLITE_READONLY": errno.EROFS, "SQLITE_PERM": errno.EACCES}
_SQLITE_CANTOPEN = (
    "cannot open a database file under MLSD_HOME (it is unreadable, or its folder is read-only or "
    "missing): check the permissions of MLSD_HOME and of the files in it"
)


def storage_message(exc: BaseException) -> str | None:
    """One line saying what to do about a failed read or write of the user's files, or None if `exc`
    is not such a failure (then it is a bug, and its traceback should be seen)."""
    if isinstance(exc, sqlite3.Error):
        # The primary code: SQLITE_READONLY_DIRECTORY is a SQLITE_READONLY.
        name = "_".join(getattr(exc, "sqlite_errorname", "").split("_")[:2])
        if name == "SQLITE_CANTOPEN":
            return _SQLITE_CANTOPEN
        code = _SQLITE_ERRNO.get(name)
        where = "a database under MLSD_HOME"
    elif isinstance(exc, OSError) and (exc.filename or exc.errno in (errno.ENOSPC, errno.EDQUOT)):
        code = exc.errno
        where = str(exc.filename) if exc.filename else "a file under MLSD_HOME"
    else:
        return None
    if code in _STORAGE_ADVICE:
        return _STORAGE_ADVICE[code].format(where=where)
    if isinstance(exc, OSError) and exc.filename:
        return f"cannot use {where} ({exc.strerror}): check the disk and its permissions, then try again"
    return None
