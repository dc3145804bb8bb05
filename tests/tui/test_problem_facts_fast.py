"""F4 on fakes (fast tier): the problem statement with the facts the candidate has learned so far."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.widgets import Static

from tui.app import MlsdApp
from tui.screens.interview import LEARNED_HEADING, NO_FACTS_YET, InterviewScreen, ProblemModal

from .driving import answer, ready, wait_until

PROBLEM = "payment_fraud_detection"


def _shown(modal: ProblemModal) -> str:
    """Every static text of the modal, in order (the heading, the facts, the closing hint)."""
    return "\n".join(str(widget.render()) for widget in modal.query(Static))


async def test_f4_lists_a_fact_the_interviewer_gave_in_answer_to_a_question(
    fake_app_factory: Callable[..., MlsdApp], fake_toolkit: Any
) -> None:
    clarification = fake_toolkit.kb.problem_note(PROBLEM).clarifications[0]
    app = fake_app_factory(problem=PROBLEM)
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_until(pilot, lambda: ready(app))
        await answer(pilot, app, clarification.question)
        screen = app.screen
        assert isinstance(screen, InterviewScreen) and screen.interview is not None
        assert screen.interview.learned_facts() == [clarification.answer]
        await pilot.press("f4")
        await wait_until(pilot, lambda: isinstance(app.screen, ProblemModal))
        modal = app.screen
        assert isinstance(modal, ProblemModal)
        facts = str(modal.query_one("#learned-facts", Static).render())
        assert clarification.answer in facts
        assert NO_FACTS_YET not in _shown(modal)
        assert LEARNED_HEADING in _shown(modal)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, InterviewScreen))


async def test_f4_says_plainly_that_nothing_has_been_learned_yet(
    fake_app_factory: Callable[..., MlsdApp], fake_toolkit: Any
) -> None:
    title = fake_toolkit.kb.problem_note(PROBLEM).title
    app = fake_app_factory(problem=PROBLEM)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: ready(app))
        await pilot.press("f4")
        await wait_until(pilot, lambda: isinstance(app.screen, ProblemModal))
        modal = app.screen
        assert isinstance(modal, ProblemModal)
        assert str(modal.query_one("#learned-facts", Static).render()) == NO_FACTS_YET
        assert modal.query_one("#learned-facts").region.height > 0  # laid out, not collapsed away
        heading = "\n".join(str(block.render()) for block in modal.query("MarkdownBlock"))
        assert title in heading


def test_facts_are_plain_text_not_markup() -> None:
    from tui.screens.interview import facts_text

    shown = facts_text(["[bold]half[/bold] of labels arrive within 30 days"])
    assert shown.plain == "• [bold]half[/bold] of labels arrive within 30 days"
    assert not shown.spans
