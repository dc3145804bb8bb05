"""The session's methods the app reads it through (fast tier): state, coverage, the problem, the facts
learned, note search, feedback and discussion, and switching to the offline engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from agent.errors import UsageError
from agent.ids import PHASES, WRAP_UP
from agent.session import Interview, build_context
from agent.snapshot import CriterionCoverage
from agent.transcript import read_transcript
from tests.fakes import ScriptedEngine

PROBLEM = "payment_fraud_detection"
ANSWER = (
    "We care about fraud losses in dollars, at a false-decline rate the business accepts, since "
    "declining a good customer costs the margin and often the customer."
)


class StubLLMEngine(ScriptedEngine):
    """A scripted engine that passes for an LLM one, so the app would offer to go on offline."""

    @property
    def name(self) -> str:
        """An LLM engine's label."""
        return "openai:stub-model"


def _new(toolkit: Any, home: Path, engine: ScriptedEngine | None = None) -> Interview:
    context = build_context(toolkit, engine or ScriptedEngine(score=2))
    return Interview.create(context, home, problem=PROBLEM, level="staff", checkpointer=InMemorySaver())


def test_state_is_a_typed_snapshot_that_follows_the_interview(fake_toolkit: Any, tmp_path: Path) -> None:
    interview = _new(fake_toolkit, tmp_path)
    start = interview.state()
    assert (start.problem, start.level, start.length, start.phase) == (PROBLEM, "staff", 45, PHASES[0])
    assert start.session_id == interview.session_id
    assert [t["kind"] for t in start.turns] == ["opening"]
    assert (start.clock_s, start.phase_started_s, start.finished) == (0.0, 0.0, False)
    interview.send(ANSWER, seconds=40)
    later = interview.state()
    assert later.clock_s == 40.0 and len(later.turns) == 3
    assert len(start.turns) == 1  # a snapshot: later turns do not change it
    interview.send(action="end")
    assert interview.state().finished and interview.state().phase == "done"


def test_coverage_is_the_current_phases_rubric_and_its_grades_so_far(
    fake_toolkit: Any, tmp_path: Path
) -> None:
    interview = _new(fake_toolkit, tmp_path)
    rubric = fake_toolkit.kb.rubric_for(PROBLEM, PHASES[0])
    before = interview.coverage()
    assert before == {c.id: CriterionCoverage(c.title, None) for c in rubric}
    interview.send(ANSWER, seconds=30)  # graded 2 throughout: a follow-up, still the first phase
    assert interview.state().phase == PHASES[0]
    after = interview.coverage()
    assert list(after) == [c.id for c in rubric]
    assert {row.score for row in after.values()} == {2.0}
    while interview.state().phase != WRAP_UP:
        interview.send(action="skip")
    assert interview.coverage() == {}  # the wrap-up has no rubric


def test_the_problem_and_the_facts_learned_so_far(fake_toolkit: Any, tmp_path: Path) -> None:
    interview = _new(fake_toolkit, tmp_path)
    note = fake_toolkit.kb.problem_note(PROBLEM)
    assert interview.problem_note().title == note.title
    assert interview.problem_note().prompt == note.prompt
    assert interview.learned_facts() == []
    fact = note.clarifications[0]
    interview.send(fact.question, seconds=20)
    assert interview.learned_facts() == [fact.answer]


def test_search_notes_finds_passages_of_the_notes(fake_toolkit: Any, tmp_path: Path) -> None:
    interview = _new(fake_toolkit, tmp_path)
    hits = interview.search_notes("labels arrive late: chargebacks take weeks", k=3)
    assert 0 < len(hits) <= 3
    assert all(hit.text.strip() and hit.source.endswith(".md") for hit in hits)


def test_feedback_and_discussion_once_the_interview_is_over(fake_toolkit: Any, tmp_path: Path) -> None:
    interview = _new(fake_toolkit, tmp_path)
    with pytest.raises(UsageError, match="no report yet"):
        interview.feedback()
    interview.send(ANSWER, seconds=30)
    interview.send(action="end")
    feedback = interview.feedback()
    title = fake_toolkit.kb.problem_note(PROBLEM).title
    assert feedback.problem_title == title
    assert title in feedback.markdown.splitlines()[0]
    assert feedback.report.phases[0].assessed and not feedback.report.phases[1].assessed
    reply = interview.discuss("how should I have handled label delay?", feedback)
    assert reply.startswith("**You asked:**") and "label delay" in reply


def test_going_offline_switches_the_engine_and_records_why(fake_toolkit: Any, tmp_path: Path) -> None:
    interview = _new(fake_toolkit, tmp_path, StubLLMEngine(score=2))
    assert interview.uses_llm() and interview.engine_name == "openai:stub-model"
    assert interview.go_offline(reason="the LLM failed") == "offline"
    assert not interview.uses_llm() and interview.engine_name == "offline"
    changed = [e for e in read_transcript(interview.transcript_path) if e["event"] == "engine_changed"]
    assert [(e["engine"], e["reason"]) for e in changed] == [("offline", "the LLM failed")]
    reply = interview.send(ANSWER, seconds=30)[-1]
    assert reply["role"] == "interviewer" and reply["engine"] == "offline"
