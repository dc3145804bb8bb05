"""SVG snapshots of every screen at 80x24 and 120x40 (pytest-textual-snapshot).

Clocks and session ids are frozen so the pictures only change when the UI does. Refresh them
deliberately with `pytest tests/tui/test_snapshots.py --snapshot-update` and look at the report.
"""

from __future__ import annotations

import difflib
import html
import os
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Markdown, OptionList

from agent.config import Settings
from tests.fakes import FakeClock
from tui.app import MlsdApp
from tui.screens.confirm import ConfirmModal
from tui.screens.feedback import FeedbackScreen
from tui.screens.history import HistoryScreen
from tui.screens.session_view import SessionScreen
from tui.screens.start import StartScreen
from tui.widgets.answer_box import AnswerBox

from .driving import ANSWER, answer, ready, take, wait_until

SIZES = [(80, 24), (120, 40)]
#: Frames (0.1 s apart) the screen must stay unchanged before its picture is taken.
STABLE_FRAMES = 3
#: One run of text in a Textual SVG screenshot: its x, its row's y and the characters.
SVG_TEXT = re.compile(r'<text class="terminal-[\w-]*?r\d+" x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)</text>')


async def settled(pilot: Pilot[Any], app: MlsdApp) -> str:
    """Wait until the screen has finished drawing, not for a fixed pause.

    Markdown parses in a worker thread after mount and its tables lay out over several passes; on a
    loaded CI machine that takes longer than any pause we would pick, and the picture would catch it
    half-drawn. So: every Markdown on screen (bar the empty discussion) has its blocks, and then the
    rendered screen stays the same over several frames. Returns that picture (SVG).
    """
    await wait_until(
        pilot,
        lambda: all(len(md.children) > 0 for md in app.screen.query(Markdown) if md.id != "discussion"),
    )
    await pilot.wait_for_scheduled_animations()
    # A table settles its column widths over layout passes; one more pass reaches the same end state
    # however many passes a busy machine happened to run before this point.
    app.screen.refresh(layout=True)
    previous, unchanged, waited = "", 0, 0.0
    while unchanged < STABLE_FRAMES:
        await pilot.pause(0.1)
        waited += 0.1
        assert waited < 60, "the screen never stopped changing"
        shot = app.export_screenshot()
        unchanged = unchanged + 1 if shot == previous else 0
        previous = shot
    return previous


def screen_rows(svg: str) -> list[str]:
    """The text of each row of a Textual SVG screenshot, to say in words what a mismatch is."""
    rows: dict[float, list[tuple[float, str]]] = {}
    for x, y, text in SVG_TEXT.findall(svg):
        rows.setdefault(float(y), []).append((float(x), html.unescape(text)))
    return ["".join(text for _, text in sorted(row)).rstrip() for _, row in sorted(rows.items())]


#: Compares the app's screen, once `run_before` has run, with the committed picture.
CheckSnapshot = Callable[[MlsdApp, Callable[[Pilot[Any]], Awaitable[None]]], None]


@pytest.fixture
def check_snapshot(snap_compare: Any, request: pytest.FixtureRequest, size: tuple[int, int]) -> CheckSnapshot:
    """Compare the screen with its committed SVG; on a mismatch, fail with the rows that differ.

    The snapshot report is an HTML file a CI log does not show, so the failure itself says what
    changed.
    """

    def check(app: MlsdApp, run_before: Callable[[Pilot[Any]], Awaitable[None]]) -> None:
        shown: dict[str, str] = {}

        async def before(pilot: Pilot[Any]) -> None:
            await run_before(pilot)
            shown["svg"] = await settled(pilot, app)

        if snap_compare(app, terminal_size=size, run_before=before):
            return
        name = f"{request.node.cls.__name__}.{request.node.name}.svg"
        committed = Path(__file__).parent / "__snapshots__" / Path(__file__).stem / name
        expected = screen_rows(committed.read_text(encoding="utf-8")) if committed.is_file() else []
        diff = list(difflib.unified_diff(expected, screen_rows(shown.get("svg", "")), lineterm="", n=0))
        listed = "\n".join(diff[2:40]) or "(same text: colours or layout differ; see snapshot_report.html)"
        pytest.fail(f"{name} differs from the committed snapshot:\n{listed}", pytrace=False)

    return check


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A stopped clock, a fixed session id, and transcripts dated at one moment in UTC."""
    import agent.session
    import agent.transcript
    import tui.screens.interview

    class StoppedClock:
        @staticmethod
        def monotonic() -> float:
            return 1000.0

        @staticmethod
        def time() -> float:
            return 1_795_000_000.0  # 2026-11-18 11:06 UTC, the date the history shows

    monkeypatch.setattr(tui.screens.interview, "time", StoppedClock)
    monkeypatch.setattr(agent.transcript, "time", StoppedClock)
    monkeypatch.setattr(agent.session, "new_session_id", lambda problem: f"snapshot-{problem}")
    zone = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if zone is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = zone
    time.tzset()


@pytest.fixture
def make_app(tmp_path: Path, toolkit: Any, frozen: None) -> Callable[..., MlsdApp]:
    settings = Settings(
        home=tmp_path / "home",
        knowledge_dir=toolkit.settings.knowledge_dir,
        rubrics_dir=toolkit.settings.rubrics_dir,
    )
    # A clock that stands still: the panel's timers read 0:00 however slow the machine is.
    return lambda **kwargs: MlsdApp(settings, toolkit=toolkit, clock=FakeClock(), **kwargs)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
class TestScreens:
    def test_start(self, check_snapshot: CheckSnapshot, make_app: Callable[..., MlsdApp]) -> None:
        app = make_app()

        async def loaded(pilot: Pilot[Any]) -> None:
            await wait_until(
                pilot,
                lambda: (
                    isinstance(app.screen, StartScreen)
                    and app.screen.query_one("#problems", OptionList).option_count > 0
                ),
            )

        check_snapshot(app, loaded)

    def test_interview(self, check_snapshot: CheckSnapshot, make_app: Callable[..., MlsdApp]) -> None:
        app = make_app(problem="payment_fraud_detection")

        async def answered(pilot: Pilot[Any]) -> None:
            await wait_until(pilot, lambda: ready(app))
            await answer(pilot, app, ANSWER)
            box = app.screen.query_one(AnswerBox)
            box.cursor_blink = False  # a blinking cursor would make every picture differ

        check_snapshot(app, answered)

    def test_feedback(self, check_snapshot: CheckSnapshot, make_app: Callable[..., MlsdApp]) -> None:
        app = make_app(problem="video_recommendation")

        async def finished(pilot: Pilot[Any]) -> None:
            await wait_until(pilot, lambda: ready(app))
            await answer(pilot, app, ANSWER)
            await take(pilot, app, "f10")
            await wait_until(pilot, lambda: isinstance(app.screen, FeedbackScreen))

        check_snapshot(app, finished)

    def test_history(self, check_snapshot: CheckSnapshot, make_app: Callable[..., MlsdApp]) -> None:
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

        check_snapshot(app, opened)

    def test_confirm_ending(self, check_snapshot: CheckSnapshot, make_app: Callable[..., MlsdApp]) -> None:
        app = make_app(problem="payment_fraud_detection")

        async def asked(pilot: Pilot[Any]) -> None:
            await wait_until(pilot, lambda: ready(app))
            app.screen.query_one(AnswerBox).cursor_blink = False
            await pilot.press("f10")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))

        check_snapshot(app, asked)

    def test_confirm_quitting(self, check_snapshot: CheckSnapshot, make_app: Callable[..., MlsdApp]) -> None:
        app = make_app(problem="payment_fraud_detection")

        async def asked(pilot: Pilot[Any]) -> None:
            await wait_until(pilot, lambda: ready(app))
            app.screen.query_one(AnswerBox).cursor_blink = False
            await pilot.press("ctrl+q")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))

        check_snapshot(app, asked)

    def test_confirm_deleting(self, check_snapshot: CheckSnapshot, make_app: Callable[..., MlsdApp]) -> None:
        app = make_app(problem="video_recommendation")

        async def asked(pilot: Pilot[Any]) -> None:
            await finished_then_history(pilot, app)
            await pilot.press("d")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))

        check_snapshot(app, asked)

    def test_history_with_a_session(
        self, check_snapshot: CheckSnapshot, make_app: Callable[..., MlsdApp]
    ) -> None:
        app = make_app(problem="video_recommendation")

        async def listed(pilot: Pilot[Any]) -> None:
            await finished_then_history(pilot, app)

        check_snapshot(app, listed)

    def test_past_session(self, check_snapshot: CheckSnapshot, make_app: Callable[..., MlsdApp]) -> None:
        app = make_app(problem="video_recommendation")

        async def opened(pilot: Pilot[Any]) -> None:
            await finished_then_history(pilot, app)
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, SessionScreen))
            await wait_until(pilot, lambda: len(app.screen.query("#past-report")) > 0)

        check_snapshot(app, opened)


async def finished_then_history(pilot: Pilot[Any], app: MlsdApp) -> None:
    """One answer, the end, then the history from the feedback screen with its session listed."""
    await wait_until(pilot, lambda: ready(app))
    await answer(pilot, app, ANSWER)
    await take(pilot, app, "f10")
    await wait_until(pilot, lambda: isinstance(app.screen, FeedbackScreen))
    await pilot.press("h")
    await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen))
    table = app.screen.query_one("#sessions", DataTable)
    await wait_until(pilot, lambda: table.row_count > 0)
