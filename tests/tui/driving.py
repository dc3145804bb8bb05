"""Driving the real app through Pilot: wait on conditions, send answers and keys, wait for replies."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from textual.pilot import Pilot

from agent.search.index import Progress
from agent.session import Toolkit
from tui.app import MlsdApp
from tui.screens.confirm import ConfirmModal
from tui.screens.feedback import FeedbackScreen
from tui.screens.interview import InterviewScreen
from tui.widgets.answer_box import AnswerBox
from tui.widgets.chat import CandidateMessage, ChatLog

T = TypeVar("T", bound=Toolkit)

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


def gated(app: MlsdApp) -> threading.Event:
    """Hold the app's toolkit (index, model, graph) until the returned event is set: a slow first launch."""
    loaded = app.toolkit
    gate = threading.Event()

    def slow_toolkit() -> Any:
        gate.wait(30)
        return loaded()

    app.toolkit = slow_toolkit  # type: ignore[method-assign]
    return gate


@dataclass(frozen=True)
class HeldToolkit(Toolkit):
    """A loaded toolkit whose `finish_loading` (the index build's start) waits for `release`: the
    interview exists, but the screen has not finished opening it."""

    release: threading.Event = field(default_factory=threading.Event)

    def finish_loading(self, progress: Progress | None = None) -> bool:
        """Wait for the test, then start loading as the real toolkit does."""
        self.release.wait(30)
        return super().finish_loading(progress)


@dataclass(frozen=True)
class SlowBuildToolkit(Toolkit):
    """A loaded toolkit whose index build reports `total` steps from its own thread, as a custom
    knowledge folder's does: 0 at once, then one more each time the test calls `step`."""

    total: int = 3
    steps: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    reported: list[tuple[int, int]] = field(default_factory=list)

    def finish_loading(self, progress: Progress | None = None) -> bool:
        """Start the stepped build in a thread; True (a build started)."""

        def build() -> None:
            for done in range(self.total + 1):
                if done and not self.steps.acquire(timeout=30):
                    return
                if progress is not None:
                    progress(done, self.total)
                self.reported.append((done, self.total))

        threading.Thread(target=build, name="slow-build", daemon=True).start()
        return True

    def step(self) -> None:
        """Let the build report one more step."""
        self.steps.release()


def swap_toolkit(app: MlsdApp, kind: type[T]) -> T:
    """Give `app` a `kind` copy of its (already loaded) toolkit; returns that copy."""
    loaded = app.toolkit()
    copy = kind(**{f.name: getattr(loaded, f.name) for f in fields(Toolkit)})
    app.toolkit = lambda: copy  # type: ignore[method-assign]
    return copy


def held_opening(app: MlsdApp) -> threading.Event:
    """Hold the opening between the interview's creation and the screen's `_opened`, until the
    returned event is set."""
    return swap_toolkit(app, HeldToolkit).release
