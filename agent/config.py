"""Run-time configuration: one frozen object built from flags and environment variables.

Only this module reads `os.environ`; everything else receives a :class:`Settings`.
"""

from __future__ import annotations

import math
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
        """Create the home folder, readable by the user only, and return it; a path that cannot be a
        home (a file, under a file, a broken link, not writable) is a one-line UsageError."""
        home = self.home
        where = f"MLSD_HOME {home}"
        again = "point MLSD_HOME (or --home) at a folder you can write"
        if home.is_symlink() and not home.exists():
            target = os.readlink(home)
            raise UsageError(f"{where} is a broken symbolic link (to {target}): create that, or {again}")
        blocker = next((p for p in (home, *home.parents) if p.exists() and not p.is_dir()), None)
        if blocker == home:
            raise UsageError(f"{where} is a file, not a folder: {again}")
        if blocker is not None:
            raise UsageError(f"{where} is under {blocker}, which is a file: {again}")
        try:
            home.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise UsageError(f"{where} cannot be created ({exc.strerror}): {again}") from None
        # os.access asks the kernel, so a read-only mount and a missing write bit both count.
        if not os.access(home, os.W_OK | os.X_OK):
            raise UsageError(f"{where} is read-only for you: make it writable (chmod u+rwx), or {again}")
        return home


DEFAULT_MODEL = "gpt-4o-mini"


@dataclass(frozen=True, kw_only=True)
class LLMSettings:
    """How to reach the LLM engine: any OpenAI-compatible Chat Completions server."""

    api_key: str = field(repr=False, metadata={"env": "OPENAI_API_KEY", "help": "the server's API key"})
    base_url: str | None = field(
        default=None, metadata={"env": "OPENAI_BASE_URL", "help": "server URL (…/v1)"}
    )
    model: str = field(default=DEFAULT_MODEL, metadata={"env": "MLSD_MODEL", "help": "model name"})
    timeout_s: float = field(default=60.0, metadata={"env": "MLSD_LLM_TIMEOUT", "help": "per request"})
    max_attempts: int = field(default=4, metadata={"help": "tries per call, including the first"})
    max_wait_s: float = field(default=30.0, metadata={"help": "total back-off time allowed per call"})
    backoff_s: float = field(default=0.5, metadata={"help": "first back-off; doubles per retry, with jitter"})

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, model: str | None = None, timeout_s: float | None = None
    ) -> LLMSettings:
        """LLM settings from flags and `OPENAI_*` / `MLSD_*` variables; a missing key is a usage error."""
        env = os.environ if env is None else env
        key = env.get("OPENAI_API_KEY", "").strip()
        base_url = env.get("OPENAI_BASE_URL", "").strip() or None
        if not key:
            if base_url is None:
                raise UsageError(
                    "the openai backend needs OPENAI_API_KEY (and OPENAI_BASE_URL for a local server); "
                    "set them, or use --backend offline"
                )
            key = "not-needed"  # local servers (Ollama, vLLM, llama.cpp) usually ignore the key
        timeout_text = env.get("MLSD_LLM_TIMEOUT", "").strip()
        return cls(
            api_key=key,
            base_url=base_url,
            model=(model or env.get("MLSD_MODEL", "").strip() or DEFAULT_MODEL),
            timeout_s=timeout_s if timeout_s is not None else _timeout(timeout_text),
        )


def _timeout(text: str) -> float:
    """MLSD_LLM_TIMEOUT as seconds: a finite number above 0 (60 when unset)."""
    if not text:
        return 60.0
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    # 0 or less would fail every request as "cannot reach"; nan and inf are no time at all.
    if not (math.isfinite(seconds) and seconds > 0):
        raise UsageError(
            f"MLSD_LLM_TIMEOUT must be a number of seconds above 0, such as 60 or 2.5, not {text!r}"
        )
    return seconds


def requested_kill_point(env: Mapping[str, str] | None = None) -> str:
    """The crash point a test asked for with MLSD_TEST_KILL_AFTER ("" for none): see agent/crashpoint.py."""
    env = os.environ if env is None else env
    return env.get("MLSD_TEST_KILL_AFTER", "").strip()
