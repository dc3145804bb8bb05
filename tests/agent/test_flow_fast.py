"""The interview's flow on fakes (fast tier): routing, the moving-on rule, hints, the report, export.

The engine's grades are scripted (tests/fakes.py), so each test decides what the grader "thought"
and checks what the interview does with it; the embeddings are hashed words, so no model loads.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from agent.content.hints import hints_for
from agent.export import escape_markdown, export_report
from agent.grading.scale import INCOMPLETE, verdict_for
from agent.ids import PHASE_MINUTES, PHASES, WRAP_UP
from agent.report import report_with_titles
from agent.session import Interview, build_context, open_checkpointer
from agent.study import study_guide
from tests.fakes import ScriptedEngine

PROBLEM = "payment_fraud_detection"
ANSWER = (
    "We care about fraud losses in dollars, at a false-decline rate the business accepts, since "
    "declining a good customer costs the margin and often the customer."
)


def _new(toolkit: Any, home: Path, engine: ScriptedEngine, **kwargs: Any) -> Interview:
    context = build_context(toolkit, engine, auto_advance=kwargs.pop("auto_advance", True))
    checkpointer = kwargs.pop("checkpointer", None) or InMemorySaver()
    return Interview.create(context, home, problem=PROBLEM, checkpointer=checkpointer, **kwargs)


def test_a_phase_graded_solid_throughout_is_left_for_the_next(fake_toolkit: Any, tmp_path: Path) -> None:
    interview = _new(fake_toolkit, tmp_path, ScriptedEngine(score=3))
    turns = interview.send(ANSWER, seconds=60)
    assert turns[-1]["phase"] == PHASES[1] and turns[-1]["kind"] == "opening"
    assert interview.values()["phase_results"][PHASES[0]]["score"] == 3


def test_weak_answers_are_probed_up_to_the_follow_up_limit_then_moved_on(
    fake_toolkit: Any, tmp_path: Path
) -> None:
    interview = _new(fake_toolkit, tmp_path, ScriptedEngine(score=2))
    kinds = []
    while interview.values()["phase"] == PHASES[0]:
        kinds.append(interview.send(f"{ANSWER} ({len(kinds)})", seconds=20)[-1]["kind"])
    limit = interview.context.max_followups
    assert kinds[:limit] == ["followup"] * limit
    assert kinds[limit] == "opening" and len(kinds) == limit + 1


def test_the_phase_budget_ends_the_phase_whatever_the_grades(fake_toolkit: Any, tmp_path: Path) -> None:
    interview = _new(fake_toolkit, tmp_path, ScriptedEngine(score=1))
    budget_s = PHASE_MINUTES[45][PHASES[0]] * 60
    turns = interview.send(ANSWER, seconds=budget_s)
    assert turns[-1]["phase"] == PHASES[1]
    assert interview.values()["phase_results"][PHASES[0]]["minutes"] == budget_s / 60


def test_a_stuck_candidate_gets_a_hint_from_the_phase_note(fake_toolkit: Any, tmp_path: Path) -> None:
    interview = _new(fake_toolkit, tmp_path, ScriptedEngine(score=1))
    (hint,) = interview.send("I'm not sure where to start, honestly.", seconds=30)[-1:]
    assert hint["kind"] == "hint"
    pending = interview.values()["turns"][0]["text"]
    hints = hints_for(fake_toolkit.kb, PROBLEM, PHASES[0], None) + hints_for(
        fake_toolkit.kb, PROBLEM, PHASES[0], pending
    )
    assert any(h in hint["text"] for h in hints)
    asked = interview.send(action="hint")[-1]
    assert asked["kind"] == "hint" and asked["text"] != hint["text"]


def test_skip_and_end_are_routed_without_grading(fake_toolkit: Any, tmp_path: Path) -> None:
    engine = ScriptedEngine(score=3)
    interview = _new(fake_toolkit, tmp_path, engine)
    interview.send(action="skip")
    assert interview.values()["phase"] == PHASES[1] and engine.graded == []
    interview.send(action="end")
    assert interview.finished and engine.graded == []


def test_a_whole_interview_reports_the_scripted_level_and_its_verdict(
    fake_toolkit: Any, tmp_path: Path
) -> None:
    for score in (2, 4):
        interview = _new(fake_toolkit, tmp_path / str(score), ScriptedEngine(score=score))
        interview.play({phase: [ANSWER] for phase in PHASES}, seconds=lambda text: 60)
        report = interview.report
        assert report is not None
        assert [p.phase for p in report.phases] == list(PHASES)
        assert all(p.assessed and p.score == score for p in report.phases)
        assert report.score == score
        assert report.verdict == verdict_for(score, "senior", len(PHASES))
        assert [t["phase"] for t in interview.values()["turns"]][-1] == WRAP_UP


def test_ending_early_leaves_the_rest_unassessed_and_the_verdict_incomplete(
    fake_toolkit: Any, tmp_path: Path
) -> None:
    interview = _new(fake_toolkit, tmp_path, ScriptedEngine(score=4))
    interview.send(ANSWER, seconds=60)  # solid: on to the next phase
    interview.send(action="end")
    report = interview.report
    assert report is not None
    assessed = {p.phase: p.assessed for p in report.phases}
    assert assessed[PHASES[0]] and not any(assessed[p] for p in PHASES[1:])
    assert report.verdict == INCOMPLETE


def test_an_interview_resumes_from_its_checkpoint_file(fake_toolkit: Any, tmp_path: Path) -> None:
    first = _new(fake_toolkit, tmp_path, ScriptedEngine(score=2), checkpointer=open_checkpointer(tmp_path))
    first.send(ANSWER, seconds=45)
    before = first.values()
    first.close()
    context = build_context(fake_toolkit, ScriptedEngine(score=2), auto_advance=True)
    again = Interview.resume(context, tmp_path, first.session_id)
    assert again.values()["turns"] == before["turns"]
    again.send(ANSWER + " Also chargebacks.", seconds=30)
    assert len(again.values()["turns"]) == len(before["turns"]) + 2


def test_the_exports_carry_the_conversation_and_escape_the_candidates_text(
    fake_toolkit: Any, tmp_path: Path
) -> None:
    hostile = "We'd use **[click here](http://x.test)** and <script>alert(1)</script> as # features."
    interview = _new(fake_toolkit, tmp_path, ScriptedEngine(score=3))
    interview.send(hostile, seconds=60)
    interview.send(action="end")
    raw = interview.report
    assert raw is not None
    kb = fake_toolkit.kb
    values = interview.values()
    study = study_guide(kb, PROBLEM, raw, values["turns"], values["grades"])
    markdown, page = export_report(
        report_with_titles(raw, kb, PROBLEM),
        tmp_path / "out",
        problem_title=kb.problem_note(PROBLEM).title,
        session_id=interview.session_id,
        study=study,
    )
    text, html = markdown.read_text(encoding="utf-8"), page.read_text(encoding="utf-8")
    # Markdown: every special character of the answer is escaped (no live link, tag or heading).
    assert not re.search(r"(?<!\\)<script>|(?<!\\)\]\(http", text)
    assert "<script>" not in html and 'href="http://x.test"' not in html
    assert escape_markdown(hostile) in text  # the answer, in the annotated conversation
    assert "&lt;script&gt;" in html
    assert kb.phase_note(PHASES[0]).title in text
    assert values["turns"][1]["text"] == hostile


def test_facts_given_in_answer_to_questions_are_recorded_for_the_problem_panel(
    fake_toolkit: Any, tmp_path: Path
) -> None:
    from agent.clarifications import learned_facts

    interview = _new(fake_toolkit, tmp_path, ScriptedEngine(score=2))
    clarifications = fake_toolkit.kb.problem_note(PROBLEM).clarifications
    first, second = clarifications[0], clarifications[1]
    interview.send(f"{first.question} And {second.question[0].lower()}{second.question[1:]}", seconds=30)
    reply = interview.values()["turns"][-1]
    assert reply["role"] == "interviewer"
    assert set(reply.get("facts", [])) == {first.answer, second.answer}
    interview.send(first.question, seconds=30)  # asked again: still listed once
    facts = learned_facts(interview.values()["turns"])
    assert sorted(facts) == sorted({first.answer, second.answer})
    assert learned_facts([{"role": "candidate", "text": "hi"}]) == []
