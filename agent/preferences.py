"""The app's remembered choices (theme, level, length) in `MLSD_HOME/settings.json`.

A damaged or hand-edited file that no longer validates is moved aside with a notice and the
defaults are used: a preference is never worth refusing to start over.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.damaged import set_aside

SETTINGS_FILE = "settings.json"


class Preferences(BaseModel):
    """What the app remembers between runs."""

    model_config = ConfigDict(extra="forbid")

    # Any of Textual's themes (the palette offers them all); the app falls back to the default
    # for a name it does not know.
    theme: str = Field(default="textual-dark", min_length=1, max_length=64)
    level: Literal["junior", "senior", "staff"] = "senior"
    length: Literal[45, 60] = 45


def load_preferences(home: Path) -> tuple[Preferences, str | None]:
    """The saved preferences, and a notice if the file was damaged and set aside."""
    path = home / SETTINGS_FILE
    if not path.is_file():
        return Preferences(), None
    try:
        return Preferences.model_validate(json.loads(path.read_text(encoding="utf-8"))), None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValidationError) as exc:
        try:
            moved = set_aside(path).name
        except OSError:
            moved = "nowhere (it could not be renamed)"
        reason = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else type(exc).__name__
        return Preferences(), f"{path} was damaged ({reason}); moved to {moved}, using the defaults"


def save_preferences(home: Path, preferences: Preferences) -> None:
    """Write the preferences atomically (a crash leaves the old file or the new one, never half)."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = home / SETTINGS_FILE
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(preferences.model_dump_json(indent=2) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
