"""SVG snapshots of every screen at 80x24 and 120x40 (pytest-textual-snapshot).

Clocks and session ids are frozen so the pictures only change when the UI does. Refresh them
deliberately with `pytest tests/tui/test_snapshots.py --snapshot-update` and look at the report.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Markdown, OptionList

from agent.config import Settings
from tui.app import MlsdApp
from tui.screens.feedback import FeedbackScreen
from tui.screens.history import HistoryScreen
from tui.screens.start import StartScreen
from tui.widgets.answer_box import AnswerBox

from .test_app import ANSWER, ready, wait_until

SIZES = [(80, 24), (120, 40)]


async def settled(pilot: Pilot[Any], app: MlsdApp) -> None:
    """Wait until every Markdown on screen (bar the empty discussion) is rendered, not a fixed pause.

    Markdown parses in a worker thread after mount; on a loaded CI machine that takes longer than any
    pause we would pick, and the picture would catch it half-drawn.
    """
    await wait_until(
        pilot,
        lambda: all(len(md.children) > 0 for md in app.screen.query(Markdown) if md.id != "discussion"),
    )
    await pilot.wait_for_scheduled_animations()
    await pilot.pause(0.2)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stopped clock and a fixed session id."""
    import agent.session
    import tui.screens.interview

    class StoppedClock:
        @staticmethod
        def monotonic() -> float:
            return 1000.0

    monkeypatch.setattr(tui.screens.interview, "time", StoppedClock)
    monkeypatch.setattr(agent.session, "_new_session_id", lambda problem: f"snapshot-{problem}")


@pytest.fixture
def make_app(tmp_path: Path, toolkit: Any, frozen: None) -> Callable[..., MlsdApp]:
    settings = Settings(
        home=tmp_path / "home",
        knowledge_dir=toolkit.settings.knowledge_dir,
        rubrics_dir=toolkit.settings.rubrics_dir,
    )
    return lambda **kwargs: MlsdApp(settings, toolkit=toolkit, **kwargs)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
class TestScreens:
    def test_start(self, snap_compare: Any, make_app: Callable[..., MlsdApp], size: tuple[int, int]) -> None:
        app = make_app()

        async def loaded(pilot: Pilot[Any]) -> None:
            await wait_until(
                pilot,
                lambda: (
                    isinstance(app.screen, StartScreen)
                    and app.screen.query_one("#problems", OptionList).option_count > 0
                ),
            )

        assert snap_compare(app, terminal_size=size, run_before=loaded)

    def test_interview(
        self, snap_compare: Any, make_app: Callable[..., MlsdApp], size: tuple[int, int]
    ) -> None:
        app = make_app(problem="payment_fraud_detection")

        async def answered(pilot: Pilot[Any]) -> None:
            await wait_until(pilot, lambda: ready(app))
            app.screen.query_one(AnswerBox).text = ANSWER
            await pilot.press("enter")
            await wait_until(pilot, lambda: ready(app))
            box = app.screen.query_one(AnswerBox)
            box.cursor_blink = False  # a blinking cursor would make every picture differ
            await settled(pilot, app)

        assert snap_compare(app, terminal_size=size, run_before=answered)

    def test_feedback(
        self, snap_compare: Any, make_app: Callable[..., MlsdApp], size: tuple[int, int]
    ) -> None:
        app = make_app(problem="video_recommendation")

        async def finished(pilot: Pilot[Any]) -> None:
            await wait_until(pilot, lambda: ready(app))
            app.screen.query_one(AnswerBox).text = ANSWER
            await pilot.press("enter")
            await wait_until(pilot, lambda: ready(app))
            await pilot.press("f10")
            await wait_until(pilot, lambda: isinstance(app.screen, FeedbackScreen))
            await settled(pilot, app)

        assert snap_compare(app, terminal_size=size, run_before=finished)

    def test_history(
        self, snap_compare: Any, make_app: Callable[..., MlsdApp], size: tuple[int, int]
    ) -> None:
        app = make_app()

        async def opened(pilot: Pilot[Any]) -> None:
            await wait_until(
                pilot,
                lambda: (
                    isinstance(app.screen, StartScreen)
                    and app.screen.query_one("#problems", OptionList).has_focus
                ),
            )
            await pilot.press("h")
            await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen))
            await pilot.pause(0.2)

        assert snap_compare(app, terminal_size=size, run_before=opened)
