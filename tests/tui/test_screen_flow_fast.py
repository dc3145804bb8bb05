"""The app's screens in order, on fakes (fast tier): start, interview, feedback, history, and the
candidate's clock, which a fake clock moves by hand."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from textual.widgets import OptionList

from agent.ids import PHASES
from tests.fakes import FakeClock
from tui.app import MlsdApp
from tui.screens.feedback import FeedbackScreen
from tui.screens.history import HistoryScreen
from tui.screens.start import StartScreen
from tui.widgets.chat import CandidateMessage, ChatLog
from tui.widgets.phase_panel import PhasePanel

from .driving import ANSWER, answer, ready, take, wait_until


def _app(fake_toolkit: Any, home: Path, **kwargs: Any) -> MlsdApp:
    settings = replace(fake_toolkit.settings, home=home)
    return MlsdApp(settings, toolkit=fake_toolkit, **kwargs)


async def test_start_interview_feedback_and_back_to_history(fake_toolkit: Any, tmp_path: Path) -> None:
    clock = FakeClock()
    app = _app(fake_toolkit, tmp_path / "home", clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, StartScreen))
        problems = app.screen.query_one("#problems", OptionList)
        await wait_until(pilot, lambda: problems.option_count >= 10)
        problems.focus()
        problems.highlighted = 0
        await pilot.press("enter")
        await wait_until(pilot, lambda: ready(app))
        interview = app.screen.interview
        # The candidate's time on a question is the app clock's, from the moment the box was ready.
        clock.advance(95)
        await answer(pilot, app, ANSWER)
        sent = [t for t in interview.values()["turns"] if t["role"] == "candidate"]
        assert [t["at_s"] for t in sent] == [95]
        clock.advance(30)
        await pilot.pause(1.1)  # the panel ticks once a second
        panel = str(app.screen.query_one(PhasePanel).render())
        assert "2:05 / 45:00" in panel  # the whole interview: 95 s answered, 30 s on the next question
        assert len(app.screen.query_one(ChatLog).query(CandidateMessage)) == 1
        await take(pilot, app, "f10")
        feedback = app.screen
        assert isinstance(feedback, FeedbackScreen)
        assessed = [p.phase for p in feedback.report.phases if p.assessed]
        assert assessed == [interview.values()["turns"][1]["phase"]] == [PHASES[0]]
        await pilot.press("h")
        await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen))
