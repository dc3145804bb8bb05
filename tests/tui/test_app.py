"""The real app with the real offline engine, driven by Textual's Pilot."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.containers import VerticalScroll
from textual.widgets import Markdown, OptionList, Static

from agent.ids import PHASES
from tui.app import MlsdApp
from tui.screens.feedback import FeedbackScreen
from tui.screens.start import StartScreen
from tui.widgets.answer_box import AnswerBox
from tui.widgets.chat import CandidateMessage, ChatLog, InterviewerMessage
from tui.widgets.phase_panel import PhasePanel

from .driving import ANSWER, answer, ready, take, wait_until


async def test_pick_a_problem_answer_and_see_the_reply(app_factory: Callable[..., MlsdApp]) -> None:
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, StartScreen)
                and app.screen.query_one("#problems", OptionList).option_count > 0
            ),
        )
        problems = app.screen.query_one("#problems", OptionList)
        assert problems.option_count >= 10
        await pilot.press("slash")
        await pilot.press(*"fraud")
        await wait_until(pilot, lambda: problems.option_count == 1)
        problems.focus()
        problems.highlighted = 0
        await pilot.press("enter")
        await wait_until(pilot, lambda: ready(app))
        chat = app.screen.query_one(ChatLog)
        assert "payment" in app.screen.interview.values()["problem"]
        assert len(chat.query(InterviewerMessage)) == 1
        await answer(pilot, app, ANSWER)
        assert len(chat.query(CandidateMessage)) == 1 and len(chat.query(InterviewerMessage)) == 2
        panel = str(app.screen.query_one(PhasePanel).render())
        assert "Rubric so far" in panel and "0:" in panel


async def test_advance_finish_feedback_and_export(
    app_factory: Callable[..., MlsdApp], tmp_path: Path
) -> None:
    app = app_factory(problem="video_recommendation")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: ready(app))
        # The opening shown early (before the graph loaded) is exactly what the graph recorded.
        first = app.screen.query_one(ChatLog).query(InterviewerMessage).first()
        assert first.source == app.screen.interview.values()["turns"][0]["text"]
        await answer(pilot, app, ANSWER)
        for phase in PHASES[1:3]:
            await take(pilot, app, "f3")
            assert app.screen.interview.values()["phase"] == phase
        await take(pilot, app, "f2")
        assert app.screen.interview.values()["turns"][-1]["kind"] == "hint"
        await take(pilot, app, "f10")
        screen = app.screen
        assert isinstance(screen, FeedbackScreen)
        # One phase answered, two skipped, the rest never reached: too little evidence for a verdict.
        assert screen.report.verdict == "incomplete"
        assessed = [p.phase for p in screen.report.phases if p.assessed]
        assert assessed == [PHASES[0]]
        assert "not assessed" in str(screen.query_one("#chart", Static).render())
        await pilot.press("e")
        session = screen.interview.session_id
        reports = tmp_path / "home" / "reports"
        await wait_until(pilot, lambda: (reports / f"{session}.html").is_file())
        html = (reports / f"{session}.html").read_text(encoding="utf-8")
        assert "<svg" in html and "Clarify requirements" in html
        markdown = (reports / f"{session}.md").read_text(encoding="utf-8")
        assert markdown.startswith("# Mock interview feedback")
        # The feedback teaches: the conversation annotated with what each answer earned, beside the
        # problem's model answer for each phase.
        assert "## The interview, answer by answer" in markdown and "_This answer: " in markdown
        note = app.screen.interview.context.kb.problem_note("video_recommendation")
        assert note.model_answers["clarify_requirements"].strip().splitlines()[0] in markdown
        assert "A model answer" in html
        # Notes to study are named by their place in the knowledge folder and link to the file, so
        # what is shown is the same wherever the knowledge is installed.
        links = re.findall(r"\(\[(topics/[a-z_]+\.md)\]\(<(/[^>]+)>\)\)", markdown)
        assert len(links) == len(screen.report.study) > 0
        for name, path in links:
            assert path.endswith(name) and Path(path).is_file()
            assert f'href="{Path(path).as_uri()}"' in html
        # What the screen shows of them: the link text only, no path that differs between machines.
        report = screen.query_one("#report", Markdown)
        shown = "\n".join(str(block.render()) for block in report.query("MarkdownBlock"))
        assert all(name in shown for name, _ in links) and str(app.settings.knowledge_dir) not in shown
        # "Discuss" answers a question about a grade from the grade itself.
        await pilot.press("d")
        await pilot.press(*"why that score on the business goal?")
        await pilot.press("enter")
        discussion = screen.query_one("#discussion", Markdown)
        await wait_until(pilot, lambda: "Why:" in discussion.source)
        assert "Defines the business goal and a measurable success metric" in discussion.source


async def test_discuss_the_feedback_and_see_the_reply_in_view(app_factory: Callable[..., MlsdApp]) -> None:
    app = app_factory(problem="ad_click_prediction")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: ready(app))
        await take(pilot, app, "f10")
        await wait_until(pilot, lambda: isinstance(app.screen, FeedbackScreen))
        await pilot.press("d")
        await pilot.press(*"how should I have handled calibration?")
        await pilot.press("enter")
        discussion = app.screen.query_one("#discussion", Markdown)
        await wait_until(pilot, lambda: "You asked" in discussion.source and len(discussion.children) > 0)
        report = app.screen.query_one("#feedback", VerticalScroll)

        # The reply lays out over several passes; what matters is that it ends up in view.
        def in_view() -> bool:
            at_end = report.scroll_y == report.max_scroll_y > 0
            return at_end and discussion.region.bottom <= report.region.bottom

        await wait_until(pilot, in_view, timeout=10)
        assert "calibration" in discussion.source.lower()
        # Reading back up is not pulled down again.
        report.focus()
        await pilot.press("home")
        await wait_until(pilot, lambda: report.scroll_y == 0, timeout=10)
        app.screen.refresh(layout=True)  # a still-anchored report would be pulled down on this pass
        await pilot.pause(0.2)
        assert report.scroll_y == 0


async def test_resume_brings_the_history_back(app_factory: Callable[..., MlsdApp]) -> None:
    first = app_factory(problem="ad_click_prediction")
    async with first.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: ready(first))
        await answer(pilot, first, ANSWER)
        session = first.screen.interview.session_id
        turns = len(first.screen.interview.values()["turns"])
    again = app_factory(resume=session)
    async with again.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: ready(again))
        chat = again.screen.query_one(ChatLog)
        assert len(chat.query(InterviewerMessage)) + len(chat.query(CandidateMessage)) == turns
        await answer(pilot, again, "Clicks are the label; conversions arrive days later.")
        assert len(again.screen.interview.values()["turns"]) == turns + 2


async def test_markup_and_escape_sequences_are_shown_not_run(app_factory: Callable[..., MlsdApp]) -> None:
    app = app_factory(problem="video_recommendation")
    hostile = "[bold red]big[/] and \x1b[31mred\x1b[0m and [link=https://example.com]x[/link]\nsecond line"
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: ready(app))
        await answer(pilot, app, hostile)
        message = app.screen.query_one(ChatLog).query(CandidateMessage).first()
        shown = str(message.render())
        assert "[bold red]big[/]" in shown and "\\x1b[31mred" in shown and "\x1b" not in shown
        assert "second line" in shown


async def test_pasted_text_keeps_its_line_breaks_and_ctrl_j_adds_one(
    app_factory: Callable[..., MlsdApp],
) -> None:
    from textual.events import Paste

    app = app_factory(problem="video_recommendation")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: ready(app))
        box = app.screen.query_one(AnswerBox)
        app.post_message(Paste("line one\nline two"))  # as the terminal driver delivers it
        await wait_until(pilot, lambda: box.text == "line one\nline two", timeout=10)
        await pilot.press("ctrl+j")
        await pilot.press(*"three")
        await wait_until(pilot, lambda: box.text == "line one\nline two\nthree", timeout=10)
        turns_before = len(app.screen.interview.values()["turns"])
        await take(pilot, app, "enter")
        sent = app.screen.interview.values()["turns"][turns_before]
        assert sent["text"] == "line one\nline two\nthree"


async def test_a_failing_llm_keeps_the_answer_in_the_box(
    app_factory: Callable[..., MlsdApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent.llm.stub_server import Fault, StubLLMServer

    with StubLLMServer() as server:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("MLSD_LLM_TIMEOUT", "2")
        app = app_factory(problem="video_recommendation", backend="openai", model="stub-model")
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: ready(app))
            server.enqueue(*[Fault(status=500)] * 10)
            box = app.screen.query_one(AnswerBox)
            box.text = ANSWER
            await take(pilot, app, "enter", timeout=120)
            assert box.text == ANSWER
            # A notification is posted as a message: it reaches the app's list a moment later.
            await wait_until(
                pilot, lambda: any("HTTP 500" in n.message and "F5" in n.message for n in app._notifications)
            )
            # The candidate chooses to finish on the offline engine; every turn keeps its engine's label.
            await pilot.press("f5")
            await take(pilot, app, "enter")
            turns = app.screen.interview.values()["turns"]
            assert turns[0]["engine"] == "openai:stub-model" and turns[-1]["engine"] == "offline"
            assert app.screen.interview.values()["grades"][-1]["engine"] == "offline"


async def test_the_theme_and_choices_are_remembered_between_runs(app_factory: Callable[..., MlsdApp]) -> None:
    app = app_factory()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, StartScreen))
        assert app.theme == "textual-dark"
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: app.theme == "textual-light", timeout=10)
    again = app_factory()
    assert again.theme == "textual-light" and again.preferences.theme == "textual-light"
    assert (again.settings.home / "settings.json").is_file()


async def test_an_answer_over_the_limit_is_refused_and_kept(app_factory: Callable[..., MlsdApp]) -> None:
    from agent.cli.inputs import MAX_ANSWER_CHARS

    app = app_factory(problem="video_recommendation")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: ready(app))
        box = app.screen.query_one(AnswerBox)
        huge = "We would log every impression with its features. " * (MAX_ANSWER_CHARS // 40)
        assert len(huge) > MAX_ANSWER_CHARS
        box.text = huge
        await pilot.press("enter")
        await pilot.pause()
        chat = app.screen.query_one(ChatLog)
        assert len(chat.query(CandidateMessage)) == 0  # not sent, not graded
        assert box.text == huge  # and not lost
        assert any("the limit is" in str(n.message) for n in app._notifications)
        box.text = "A short answer: watch time with a satisfaction guardrail."
        await take(pilot, app, "enter")
        assert len(chat.query(CandidateMessage)) == 1
