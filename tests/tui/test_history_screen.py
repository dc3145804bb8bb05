"""The history through the real app: open a past session read-only, delete one once confirmed,
problem titles, trends over assessed sessions only, and a filter by problem."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.widgets import DataTable, Markdown, OptionList, Select, Static

from agent.drafts import draft_path, save_draft
from agent.export import escape_markdown
from agent.history import list_sessions
from agent.ids import PHASES
from agent.session import Interview, build_context, open_checkpointer
from agent.transcript import transcript_path
from tui.app import MlsdApp
from tui.screens.confirm import ConfirmModal
from tui.screens.feedback import FeedbackScreen
from tui.screens.history import HistoryScreen
from tui.screens.session_view import SessionScreen
from tui.screens.start import StartScreen

from .driving import ANSWER, answer, ready, take, wait_until

#: Long enough that a scripted interview of one per phase runs past the trends' minimum.
LONG_ANSWER = " ".join([ANSWER] * 4)


def scripted(toolkit: Any, home: Path, problem: str, script: dict[str, list[str]], **kwargs: Any) -> str:
    """Play a whole interview from a script, as `mlsd interview --answers` does; its session id."""
    interview = Interview.create(build_context(toolkit), home, problem=problem, **kwargs)
    interview.play(script)
    interview.close()
    return interview.session_id


def rows(table: DataTable[Any]) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def finished_session(pilot: Any, app: MlsdApp) -> str:
    """Answer once, end the interview and open the history from the feedback; the session id."""
    await wait_until(pilot, lambda: ready(app))
    await answer(pilot, app, ANSWER)
    await take(pilot, app, "f10")
    assert isinstance(app.screen, FeedbackScreen)
    session_id: str = app.screen.interview.session_id
    await pilot.press("h")
    await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen))
    table = app.screen.query_one("#sessions", DataTable)
    await wait_until(pilot, lambda: table.row_count > 0)
    return session_id


async def test_a_past_session_opens_read_only_with_its_report_and_conversation(
    app_factory: Callable[..., MlsdApp],
) -> None:
    app = app_factory(problem="payment_fraud_detection")
    async with app.run_test(size=(120, 40)) as pilot:
        session_id = await finished_session(pilot, app)
        table = app.screen.query_one("#sessions", DataTable)
        [row] = rows(table)
        assert "payment_fraud_detection" not in row[1] and "fraud" in row[1].lower()  # the title, not the id
        transcript = transcript_path(app.settings.home, session_id)
        before = transcript.read_bytes()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SessionScreen))
        view = app.screen
        await wait_until(pilot, lambda: len(view.query("#past-report")) > 0)
        report = view.query_one("#past-report", Markdown)
        assert "Per criterion" in report.source and "incomplete" in report.source
        # The conversation comes back annotated, as the feedback showed it, beside the model answers.
        assert escape_markdown(ANSWER) in report.source and "_This answer: " in report.source
        model = app.screen.app.knowledge().problem_note("payment_fraud_detection").model_answers
        assert model["clarify_requirements"].strip().splitlines()[0] in report.source
        assert row[1] in str(view.query_one("#past-title", Static).render())
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen))
    assert transcript.read_bytes() == before  # reading it changed nothing


async def test_a_session_is_deleted_only_once_confirmed(app_factory: Callable[..., MlsdApp]) -> None:
    app = app_factory(problem="video_recommendation")
    async with app.run_test(size=(120, 40)) as pilot:
        session_id = await finished_session(pilot, app)
        home = app.settings.home
        save_draft(home, session_id, "a draft left behind")
        table = app.screen.query_one("#sessions", DataTable)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        assert table.row_count == 1 and transcript_path(home, session_id).is_file()
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await wait_until(pilot, lambda: table.row_count == 0, timeout=20)
    assert not transcript_path(home, session_id).exists() and not draft_path(home, session_id).exists()
    checkpointer = open_checkpointer(home)
    assert checkpointer.get_tuple({"configurable": {"thread_id": session_id}}) is None
    assert list_sessions(home) == []


async def test_trends_count_assessed_sessions_only_and_filter_by_problem(
    app_factory: Callable[..., MlsdApp], toolkit: Any
) -> None:
    app = app_factory()
    home = app.settings.home
    everything = {phase: [LONG_ANSWER] for phase in PHASES}
    practised = scripted(toolkit, home, "video_recommendation", everything)
    by_script = scripted(toolkit, home, "video_recommendation", everything, scripted=True)
    abandoned = scripted(toolkit, home, "ad_click_prediction", {PHASES[0]: [ANSWER]})
    summaries = {s.session_id: s for s in list_sessions(home)}
    assert summaries[practised].in_trends
    assert not summaries[by_script].in_trends and summaries[by_script].scripted
    assert not summaries[abandoned].in_trends and summaries[abandoned].finished
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, StartScreen)
                and app.screen.query_one("#problems", OptionList).has_focus
            ),
        )
        await pilot.press("h")
        await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        table = app.screen.query_one("#sessions", DataTable)
        await wait_until(pilot, lambda: table.row_count == 3)
        trends = str(app.screen.query_one("#trends", Static).render())
        assert "(1 assessed sessions)" in trends and "2 session(s) left out" in trends
        # Sessions left out of the trends are dimmed in the list.
        dimmed = {
            table.coordinate_to_cell_key((i, 0)).row_key.value
            for i in range(table.row_count)
            if isinstance(cell := table.get_row_at(i)[0], Text) and cell.style == "dim"
        }
        assert dimmed == {by_script, abandoned}
        choice = app.screen.query_one("#problem-filter", Select)
        choice.value = "ad_click_prediction"
        await wait_until(pilot, lambda: table.row_count == 1)
        assert "click" in rows(table)[0][1].lower()
        trends = str(app.screen.query_one("#trends", Static).render())
        assert "(0 assessed sessions)" in trends and "1 session(s) left out" in trends
        choice.clear()
        await wait_until(pilot, lambda: table.row_count == 3)
