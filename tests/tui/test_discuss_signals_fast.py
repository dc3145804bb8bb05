"""Discuss about a grade names the criterion's signals the answer matched and some it missed,
from the stored grade, through the feedback screen."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Markdown

from agent.discuss import criterion_signals
from agent.export import escape_markdown
from tui.app import MlsdApp
from tui.screens.feedback import FeedbackScreen
from tui.screens.interview import InterviewScreen

from .driving import answer, ready, take, wait_until

FRAUD = "payment_fraud_detection"


async def test_discussing_a_grade_names_the_signals_matched_and_missing(
    fake_app_factory: Callable[..., MlsdApp],
) -> None:
    app = fake_app_factory(problem=FRAUD)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: ready(app))
        screen = app.screen
        assert isinstance(screen, InterviewScreen) and screen.interview is not None
        kb = screen.interview.context.kb
        goal = next(c for c in kb.rubric_for(FRAUD, "clarify_requirements") if c.id == "business_goal")
        said = next(e for e in goal.evidence if "fraud" in e.lower())  # one of its signals, in so many words
        await answer(pilot, app, said.rstrip(".") + ", <b>in dollars</b>.")
        await take(pilot, app, "f10")
        assert isinstance(app.screen, FeedbackScreen)
        await pilot.press("d")
        await pilot.press(*"why that score on the business goal?")
        await pilot.press("enter")
        discussion = app.screen.query_one("#discussion", Markdown)
        await wait_until(pilot, lambda: "Why:" in discussion.source)
        reply = discussion.source
    matched = listed(reply, "The signals those words match:")
    missing = listed(reply, "What was missing (signals not matched):")
    # Named as the rubric states them, trimmed to a line: the one said first, none said also missing.
    assert matched and said.startswith(matched[0].rstrip("…")) and len(matched[0]) <= 90
    signals = criterion_signals(kb, FRAUD, "clarify_requirements", goal)
    assert 0 < len(missing) <= 3 and not any(said.startswith(m.rstrip("…")) for m in missing)
    assert all(any(s.startswith(m.rstrip("…")) for s in signals) for m in missing)
    assert escape_markdown("<b>in dollars</b>") in reply and "<b>" not in reply  # the quote stays text


def listed(reply: str, heading: str) -> list[str]:
    """The quoted statements of the bullet list under `heading` in a discuss reply."""
    if heading not in reply:
        return []
    block = reply.split(heading, 1)[1].lstrip("\n").split("\n\n", 1)[0]
    return [line[3:-1] for line in block.splitlines() if line.startswith('- "') and line.endswith('"')]
