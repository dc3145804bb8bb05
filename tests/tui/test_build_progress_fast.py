"""A custom knowledge folder's index build shows its progress under the chat while it runs, and
nothing once it is done (or when it is over before anyone would notice)."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import ProgressBar

from tests.fakes import FakeClock
from tui.app import MlsdApp

from .driving import SlowBuildToolkit, ready, swap_toolkit, wait_until


async def test_a_slow_index_build_shows_a_progress_bar_until_it_is_done(
    fake_app_factory: Callable[..., MlsdApp],
) -> None:
    clock = FakeClock()
    app = fake_app_factory(problem="video_recommendation", clock=clock)
    build = swap_toolkit(app, SlowBuildToolkit)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: ready(app) and build.reported == [(0, 3)])
        preparing = app.screen.query_one("#preparing")
        bar = app.screen.query_one("#preparing-bar", ProgressBar)
        assert not preparing.display  # just started: a build over in a moment would only flicker
        clock.advance(5)  # then it takes a while
        build.step()
        await wait_until(pilot, lambda: bar.progress == 1)
        assert preparing.display and bar.total == 3
        await wait_until(pilot, lambda: preparing.region.height == 1)  # laid out: on screen
        assert "Preparing search over the notes" in str(preparing.query_one("Static").render())
        assert ready(app)  # the candidate can go on answering meanwhile
        build.step()
        await wait_until(pilot, lambda: bar.progress == 2)
        assert preparing.display and bar.percentage is not None and 0.6 < bar.percentage < 0.7
        build.step()
        await wait_until(pilot, lambda: build.reported[-1] == (3, 3))
        await wait_until(pilot, lambda: not preparing.display)
        assert bar.progress == 3
