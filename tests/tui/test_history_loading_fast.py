"""The history reads off the UI thread and shares the app's knowledge base (fast tier, issue 14)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import OptionList, Static

import agent.content.loader
import agent.history
from agent.content.loader import KnowledgeBase
from agent.history import SessionSummary
from tui.app import MlsdApp
from tui.screens.history import HistoryScreen
from tui.screens.start import StartScreen

from .driving import wait_until


async def test_history_reads_sessions_in_a_worker_and_parses_no_knowledge_of_its_own(
    fake_app_factory: Callable[..., MlsdApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    parses: list[str] = []
    readers: list[bool] = []  # per read of the sessions: was it on the UI thread?
    parse, list_sessions = agent.content.loader.load_knowledge_base, agent.history.list_sessions

    def counted_parse(knowledge_dir: Path, rubrics_dir: Path) -> KnowledgeBase:
        parses.append(threading.current_thread().name)
        return parse(knowledge_dir, rubrics_dir)

    def watched_list(home: Path) -> list[SessionSummary]:
        readers.append(threading.current_thread() is threading.main_thread())
        return list_sessions(home)

    monkeypatch.setattr(agent.content.loader, "load_knowledge_base", counted_parse)
    monkeypatch.setattr(agent.history, "list_sessions", watched_list)
    app = fake_app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, StartScreen))
        problems = app.screen.query_one("#problems", OptionList)
        # Until the problem list is shown and focused, "h" would go to the filter box.
        await wait_until(pilot, lambda: problems.option_count > 0 and app.focused is problems)
        for _ in range(2):
            await pilot.press("h")
            await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen))
            trends = app.screen.query_one("#trends", Static)
            await wait_until(pilot, lambda shown=trends: "Reading" not in str(shown.render()))
            assert "No sessions yet" in str(trends.render())
            await pilot.press("escape")
            await wait_until(pilot, lambda: isinstance(app.screen, StartScreen))
    assert readers == [False, False, False]  # the start screen's read, then the history's twice
    assert len(parses) == 1 and parses[0] != threading.main_thread().name  # read once, in a worker
