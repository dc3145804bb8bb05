"""Fixtures of the app's tests: the real app over the session's real toolkit, in a fresh home."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agent.config import Settings
from tui.app import MlsdApp


@pytest.fixture
def app_factory(tmp_path: Path, toolkit: Any) -> Callable[..., MlsdApp]:
    """Make apps that share one home under the test's temporary folder (so a second run resumes)."""
    settings = Settings(
        home=tmp_path / "home",
        knowledge_dir=toolkit.settings.knowledge_dir,
        rubrics_dir=toolkit.settings.rubrics_dir,
    )

    def make(**kwargs: Any) -> MlsdApp:
        return MlsdApp(settings, toolkit=toolkit, **kwargs)

    return make
