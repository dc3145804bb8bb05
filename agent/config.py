"""Run-time configuration: one frozen object built from flags and environment variables.

Only this module reads `os.environ`; everything else receives a :class:`Settings`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from agent.errors import UsageError

_PACKAGE_DIR = Path(__file__).resolve().parent


def _bundled(name: str) -> Path:
    """The shipped copy of a data folder: inside the wheel, or at the top of a source checkout."""
    installed = _PACKAGE_DIR / "_bundled" / name
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parent / name


def default_home() -> Path:
    """The platform's per-user data folder for mlsd."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("mlsd-interviewer", appauthor=False))


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Where content and state live. Fields fall back to environment variables, then to defaults."""

    home: Path = field(metadata={"env": "MLSD_HOME", "help": "sessions, transcripts, index, settings"})
    knowledge_dir: Path = field(metadata={"env": "MLSD_KNOWLEDGE_DIR", "help": "knowledge notes"})
    rubrics_dir: Path = field(metadata={"env": "MLSD_RUBRICS_DIR", "help": "phase rubrics and overlays"})

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        home: Path | None = None,
        knowledge_dir: Path | None = None,
        rubrics_dir: Path | None = None,
    ) -> Settings:
        """Settings from explicit values, else `MLSD_*` variables, else the defaults."""
        env = os.environ if env is None else env

        def pick(explicit: Path | None, name: str, default: Path) -> Path:
            if explicit is not None:
                return explicit.expanduser()
            value = env.get(name, "").strip()
            return Path(value).expanduser() if value else default

        settings = cls(
            home=pick(home, "MLSD_HOME", default_home()),
            knowledge_dir=pick(knowledge_dir, "MLSD_KNOWLEDGE_DIR", _bundled("knowledge")),
            rubrics_dir=pick(rubrics_dir, "MLSD_RUBRICS_DIR", _bundled("rubrics")),
        )
        for name, path in (("knowledge", settings.knowledge_dir), ("rubrics", settings.rubrics_dir)):
            if not path.is_dir():
                raise UsageError(
                    f"{name} folder {path} does not exist (check --{name} or MLSD_{name.upper()}_DIR)"
                )
        return settings

    @property
    def index_dir(self) -> Path:
        """The persistent Chroma index of the knowledge base."""
        return self.home / "index"

    def ensure_home(self) -> Path:
        """Create the home folder, readable by the user only, and return it."""
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self.home
