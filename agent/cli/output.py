"""Shared output helpers: JSON on stdout, everything for people on stderr."""

from __future__ import annotations

import argparse
import json
import sys
from functools import lru_cache
from typing import Any

from rich.console import Console

from agent.config import Settings


@lru_cache(maxsize=1)
def stderr() -> Console:
    """A rich console on stderr (progress, summaries, warnings)."""
    return Console(stderr=True, highlight=False)


def print_json(document: Any) -> None:
    """Print exactly one JSON document on stdout."""
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings from the common `--home/--knowledge/--rubrics` flags and the environment."""
    return Settings.from_env(
        home=getattr(args, "home", None),
        knowledge_dir=getattr(args, "knowledge", None),
        rubrics_dir=getattr(args, "rubrics", None),
    )
