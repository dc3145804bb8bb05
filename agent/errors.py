"""The project's own error types: each becomes one line for the user, never a traceback."""

from __future__ import annotations


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
