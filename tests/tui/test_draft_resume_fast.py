"""The unsent draft across quit and `--resume` while the interviewer is still loading: the kept draft
and the text typed during the load are both kept, once each, whenever the candidate quits."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from agent.drafts import draft_path
from tui.app import MlsdApp
from tui.screens.confirm import ConfirmModal
from tui.screens.interview import InterviewScreen
from tui.widgets.answer_box import AnswerBox

from .driving import gated, held_opening, ready, wait_until


def loading(app: MlsdApp) -> bool:
    """The interview screen is up and its answer box has the keys, the interviewer not loaded yet."""
    screen = app.screen
    return isinstance(screen, InterviewScreen) and screen.interview is None and app.focused is not None


async def quit_confirmed(pilot: Pilot[Any], app: MlsdApp) -> None:
    """Ctrl+Q, then yes to "quit mid-interview?"."""
    await pilot.press("ctrl+q")
    await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
    await pilot.press("y")
    await wait_until(pilot, lambda: not app.is_running, timeout=20)


def changed(path: Path, before: str, timeout: float = 30.0) -> str:
    """The file's text once it is no longer `before` (a worker the app left behind writes it)."""
    deadline = time.monotonic() + timeout
    while path.read_text(encoding="utf-8") == before and time.monotonic() < deadline:
        time.sleep(0.05)
    return path.read_text(encoding="utf-8")


async def test_a_kept_draft_and_text_typed_while_the_resume_loads_are_both_kept_once(
    fake_app_factory: Callable[..., MlsdApp],
) -> None:
    first = fake_app_factory(problem="video_recommendation")
    async with first.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: ready(first))
        opened = first.screen
        assert isinstance(opened, InterviewScreen) and opened.interview is not None
        session, home = opened.interview.session_id, opened.interview.home
        opened.query_one(AnswerBox).text = "OLD DRAFT"
        await quit_confirmed(pilot, first)
    draft = draft_path(home, session)
    assert draft.read_text(encoding="utf-8") == "OLD DRAFT"

    # Resumed on a slow launch, the candidate starts typing as the placeholder invites.
    second = fake_app_factory(resume=session)
    gate = gated(second)
    async with second.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: loading(second), timeout=20)
        await pilot.press(*"new")
        box = second.screen.query_one(AnswerBox)
        await wait_until(pilot, lambda: box.text == "new")
        gate.set()
        await wait_until(pilot, lambda: ready(second))
        assert box.text == "OLD DRAFT\n\nnew"  # the kept draft above what was typed since
        await wait_until(pilot, lambda: draft.read_text(encoding="utf-8") == "OLD DRAFT\n\nnew", timeout=20)
        await quit_confirmed(pilot, second)
    assert draft.read_text(encoding="utf-8") == "OLD DRAFT\n\nnew"

    # Quitting before the resume has loaded: the session is opened after the app has gone.
    third = fake_app_factory(resume=session)
    gate = gated(third)
    async with third.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: loading(third), timeout=20)
        await pilot.press(*"more")
        await wait_until(pilot, lambda: third.screen.query_one(AnswerBox).text == "more")
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(third.screen, ConfirmModal))
        await pilot.press("ctrl+q")  # twice quits
        await wait_until(pilot, lambda: not third.is_running, timeout=20)
    assert draft.read_text(encoding="utf-8") == "OLD DRAFT\n\nnew"  # nothing written yet: no session
    gate.set()
    assert changed(draft, "OLD DRAFT\n\nnew") == "OLD DRAFT\n\nnew\n\nmore"

    # Quitting once the session is open but before the screen has put the draft back (the index
    # still building): the screen's own save keeps both too.
    fourth = fake_app_factory(resume=session)
    release = held_opening(fourth)
    async with fourth.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(fourth.screen, InterviewScreen), timeout=20)
        screen = fourth.screen
        assert isinstance(screen, InterviewScreen)
        await wait_until(
            pilot, lambda: screen.interview is not None and fourth.focused is not None, timeout=20
        )
        await pilot.press(*"last")
        await wait_until(pilot, lambda: screen.query_one(AnswerBox).text == "last")
        await quit_confirmed(pilot, fourth)
    release.set()
    assert draft.read_text(encoding="utf-8") == "OLD DRAFT\n\nnew\n\nmore\n\nlast"

    # And back once more, nothing typed: every piece once, in the order it was written.
    fifth = fake_app_factory(resume=session)
    async with fifth.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: ready(fifth))
        assert fifth.screen.query_one(AnswerBox).text == "OLD DRAFT\n\nnew\n\nmore\n\nlast"
        await pilot.pause(1.5)  # a tick of the screen's draft save
    assert draft.read_text(encoding="utf-8") == "OLD DRAFT\n\nnew\n\nmore\n\nlast"
