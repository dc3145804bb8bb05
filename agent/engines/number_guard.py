"""The number guard: a model's wording of a turn that gives facts may not bring numbers of its own.

A clarifying question is answered from the problem note's facts. A model asked to word that answer
may still "helpfully" add a figure (a user count, a latency, a fraud rate) the note never gave, and
the candidate would design against it. Numbers are the facts that matter most and the easiest to
check, so every number in the reply must appear in the text the turn was given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from agent.engines.base import TurnPlan

# Digits with thousands separators or decimals: "2,000", "0.1", "30". Words ("thirty") are not
# checked: models write figures as digits, and the note's facts do too.
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")


def numbers(text: str) -> set[str]:
    """The numbers written in digits in `text`, without thousands separators or trailing zeros."""
    found = set()
    for raw in _NUMBER.findall(text):
        value = raw.replace(",", "")
        if "." in value:
            value = value.rstrip("0").rstrip(".")
        found.add(value)
    return found


def allowed_numbers(plan: TurnPlan) -> set[str]:
    """Numbers the turn may state: those of its facts, its question and the problem statement."""
    given: Iterable[str] = (
        plan.question,
        plan.problem_prompt or "",
        plan.phase_title,
        *(answer for _, answer in plan.answers_to_questions),
    )
    return set().union(*(numbers(text) for text in given))


def invented_numbers(reply: str, plan: TurnPlan) -> list[str]:
    """Numbers in the reply that the plan never gave, sorted; empty when the reply is clean."""
    return sorted(numbers(reply) - allowed_numbers(plan))


def needs_guard(plan: TurnPlan) -> bool:
    """The turn answers clarifying questions, so its numbers must come from the problem's facts."""
    return bool(plan.answers_to_questions)
