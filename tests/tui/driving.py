"""Driving the real app through Pilot: wait on conditions, send answers and keys, wait for replies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from tui.app import MlsdApp
from tui.screens.confirm import ConfirmModal
from tui.screens.feedback import FeedbackScreen
from tui.screens.interview import InterviewScreen
from tui.widgets.answer_box import AnswerBox
from tui.widgets.chat import CandidateMessage, ChatLog

ANSWER = (
    "I'd optimise long-term watch time per daily user, because clicks alone reward clickbait. "
    "With about 200M daily users the feed must come back in 200 ms at p99."
)


async def wait_until(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Wait on a predicate, not a fixed pause."""
    waited = 0.0
    while not condition():
        await pilot.pause(0.05)
        waited += 0.05
        assert waited < timeout, "timed out waiting for the app"


def ready(app: MlsdApp) -> bool:
    """The interview has loaded, the screen has finished opening it and its answer box takes answers
    (see `takes_answers` for earlier). The session exists a moment before the screen has opened it:
    F10 pressed in between is refused with "still loading" (a CI run failed on exactly that)."""
    screen = app.screen
    return isinstance(screen, InterviewScreen) and screen.opened() and screen.takes_answers()


def takes_answers(app: MlsdApp) -> bool:
    """The answer box takes an answer: from the opening on, even while the interviewer still loads."""
    screen = app.screen
    return isinstance(screen, InterviewScreen) and screen.takes_answers()


async def take(pilot: Pilot[Any], app: MlsdApp, key: str, timeout: float = 60.0) -> None:
    """Press a key that sends a turn (Enter, F2, F3, F10) and wait until the interviewer replied.

    Waiting for "ready" alone is not enough: the key's message may not have been handled yet when
    the press returns, and the screen still looks ready from before. So first wait for the turn to
    be taken (the candidate's side of it appears in the chat), then for the reply.
    """
    screen = app.screen
    chat = screen.query_one(ChatLog)
    before = len(chat.query(CandidateMessage))
    await pilot.press(key)
    if key == "f10":  # ending mid-interview asks first
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal), timeout)
        await pilot.press("enter")
    # Ending the interview replaces the screen (and with it the chat) by the feedback.
    await wait_until(
        pilot, lambda: app.screen is not screen or len(chat.query(CandidateMessage)) > before, timeout
    )
    await wait_until(pilot, lambda: ready(app) or isinstance(app.screen, FeedbackScreen), timeout)


async def answer(pilot: Pilot[Any], app: MlsdApp, text: str) -> None:
    """Type an answer into the box and send it."""
    app.screen.query_one(AnswerBox).text = text
    await take(pilot, app, "enter")
