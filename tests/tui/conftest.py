"""Fixtures of the app's tests: the real app over the session's real or fake toolkit, in a fresh home."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agent.config import Settings
from tui.app import MlsdApp


def _factory(home: Path, toolkit: Any) -> Callable[..., MlsdApp]:
    settings = Settings(
        home=home, knowledge_dir=toolkit.settings.knowledge_dir, rubrics_dir=toolkit.settings.rubrics_dir
    )

    def make(**kwargs: Any) -> MlsdApp:
        return MlsdApp(settings, toolkit=toolkit, **kwargs)

    return make


@pytest.fixture
def app_factory(tmp_path: Path, toolkit: Any) -> Callable[..., MlsdApp]:
    """Make apps over the real toolkit that share one home under the test's temporary folder (so a
    second run resumes)."""
    return _factory(tmp_path / "home", toolkit)


@pytest.fixture
def fake_app_factory(tmp_path: Path, fake_toolkit: Any) -> Callable[..., MlsdApp]:
    """The same over the fast tier's toolkit (hashed vectors): for screen flow, where grades do not
    matter."""
    return _factory(tmp_path / "home", fake_toolkit)
