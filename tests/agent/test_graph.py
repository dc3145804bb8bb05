"""The interview graph: phase order, time budgets, resume after a restart, curveball, hints, routing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from langgraph.checkpoint.memory import InMemorySaver

from agent.content.hints import hints_for
from agent.ids import PHASE_MINUTES, PHASES, WRAP_UP
from agent.nodes.routing import route_input
from agent.session import Interview, build_context, open_checkpointer
from agent.state import InterviewState

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "interviews"
DECENT = (
    "I'd optimise long-term watch time per daily user, because clicks alone reward clickbait. "
    "We have about 200M daily users and 1B videos, so retrieval has to be approximate, and the feed "
    "needs to come back in under 200 ms at the 99th percentile."
)


def _scripted(problem: str, kind: str) -> dict[str, list[str]]:
    script: dict[str, list[str]] = yaml.safe_load(
        (FIXTURES / f"{problem}_{kind}.yaml").read_text(encoding="utf-8")
    )
    return script


def _run_script(interview: Interview, script: dict[str, list[str]]) -> None:
    interview.play(script, seconds=lambda text: 60)


def _new(toolkit: Any, tmp_path: Path, problem: str = "video_recommendation", **kwargs: Any) -> Interview:
    context = build_context(toolkit, auto_advance=kwargs.pop("auto_advance", False))
    return Interview.create(context, tmp_path, problem=problem, checkpointer=InMemorySaver(), **kwargs)


def test_phases_run_in_order_and_end_with_a_report(toolkit: Any, tmp_path: Path) -> None:
    interview = _new(toolkit, tmp_path)
    _run_script(interview, _scripted("video_recommendation", "strong"))
    values = interview.values()
    order: list[str] = []
    for turn in values["turns"]:
        if turn["phase"] not in order:
            order.append(turn["phase"])
    assert order == [*PHASES, WRAP_UP]
    assert values["phase"] == "done"
    assert list(values["phase_results"]) == list(PHASES)
    report = interview.report
    assert report is not None and [p.phase for p in report.phases] == list(PHASES)
    assert report.backend == "offline"


def test_first_turn_states_the_problem_and_asks_the_first_question(toolkit: Any, tmp_path: Path) -> None:
    interview = _new(toolkit, tmp_path)
    (first,) = interview.values()["turns"]
    note = toolkit.kb.problem_note("video_recommendation")
    assert first["role"] == "interviewer" and first["kind"] == "opening" and first["phase"] == PHASES[0]
    assert note.prompt in first["text"]
    assert toolkit.kb.phase_note(PHASES[0]).opening_questions[0] in first["text"]


def test_interviewer_moves_on_when_the_phase_budget_is_spent(toolkit: Any, tmp_path: Path) -> None:
    interview = _new(toolkit, tmp_path, auto_advance=True)
    within = interview.send(DECENT, seconds=60)
    assert within[-1]["phase"] == PHASES[0] and within[-1]["kind"] in ("followup", "curveball")
    budget_s = PHASE_MINUTES[45][PHASES[0]] * 60
    spent = interview.send(DECENT + " The hard constraint is freshness.", seconds=budget_s)
    assert spent[-1]["phase"] == PHASES[1] and spent[-1]["kind"] == "opening"
    assert interview.values()["phase_results"][PHASES[0]]["minutes"] == pytest.approx(1 + budget_s / 60)


def test_interviewer_moves_on_after_enough_followups(toolkit: Any, tmp_path: Path) -> None:
    interview = _new(toolkit, tmp_path, problem="payment_fraud_detection", auto_advance=True)
    kinds = []
    for _ in range(6):
        turns = interview.send(DECENT, seconds=5)
        kinds.append((turns[-1]["phase"], turns[-1]["kind"]))
        if turns[-1]["phase"] != PHASES[0]:
            break
    assert kinds[-1] == (PHASES[1], "opening")
    assert sum(1 for phase, kind in kinds if kind == "followup") <= 3


def test_a_session_resumes_after_a_restart(toolkit: Any, tmp_path: Path) -> None:
    context = build_context(toolkit, auto_advance=False)
    first = Interview.create(context, tmp_path, problem="ad_click_prediction", session_id="resume-me")
    first.send(DECENT, seconds=30)
    first.send(action="skip")
    before = first.values()
    first.checkpointer.conn.close()
    del first  # the process "restarts": a new checkpointer on the same file

    again = Interview.resume(build_context(toolkit, auto_advance=False), tmp_path, "resume-me")
    assert again.values()["turns"] == before["turns"]
    assert again.values()["phase"] == PHASES[1]
    new = again.send("Binary classification of click given impression, trained with log loss.", seconds=20)
    assert new[0]["role"] == "candidate" and new[0]["phase"] == PHASES[1]
    events = again.transcript_path.read_text(encoding="utf-8").splitlines()
    assert sum('"event": "resumed"' in e for e in events) == 1
    assert sum('"event": "turn"' in e for e in events) == len(again.values()["turns"])


def test_an_unknown_session_cannot_be_resumed(toolkit: Any, tmp_path: Path) -> None:
    from agent.errors import UsageError

    with pytest.raises(UsageError, match="no session 'nope'"):
        Interview.resume(build_context(toolkit), tmp_path, "nope", checkpointer=open_checkpointer(tmp_path))


@pytest.mark.parametrize(
    "problem", ["video_recommendation", "ad_click_prediction", "payment_fraud_detection"]
)
def test_the_curveball_comes_once_in_its_phase(toolkit: Any, tmp_path: Path, problem: str) -> None:
    interview = _new(toolkit, tmp_path, problem=problem)
    _run_script(interview, _scripted(problem, "strong"))
    turns = interview.values()["turns"]
    curveballs = [i for i, t in enumerate(turns) if t["kind"] == "curveball"]
    note = toolkit.kb.problem_note(problem).curveball
    assert len(curveballs) == 1
    turn = turns[curveballs[0]]
    assert turn["phase"] == note.phase and note.change in turn["text"]
    assert turns[curveballs[0] - 1]["role"] == "candidate" and turns[curveballs[0] - 1]["phase"] == note.phase


def test_followups_cite_their_note_and_never_repeat(toolkit: Any, tmp_path: Path) -> None:
    interview = _new(toolkit, tmp_path, problem="ad_click_prediction")
    _run_script(interview, _scripted("ad_click_prediction", "strong"))
    values = interview.values()
    followups = [t for t in values["turns"] if t["kind"] == "followup"]
    assert len(followups) >= 7
    assert all(t.get("source", "").endswith(".md") and t.get("topic") for t in followups)
    assert len(set(values["asked"])) == len(values["asked"]) == len(followups)


def test_hints_on_request_when_stuck_and_when_used_up(toolkit: Any, tmp_path: Path) -> None:
    interview = _new(toolkit, tmp_path)
    # The opening question is pending: the problem's strong design gives the hints, then the phase note's.
    hints = hints_for(toolkit.kb, "video_recommendation", PHASES[0], None)
    assert hints[-len(toolkit.kb.phase_note(PHASES[0]).hints) :] == toolkit.kb.phase_note(PHASES[0]).hints
    first = interview.send(action="hint")
    assert (
        first[0]["kind"] == "hint_request" and first[-1]["kind"] == "hint" and hints[0] in first[-1]["text"]
    )
    second = interview.send("I don't know, I'm not sure where to start.", seconds=10)
    assert second[-1]["kind"] == "hint" and hints[1] in second[-1]["text"]
    for _ in range(len(hints)):
        last = interview.send(action="hint")
    assert "all the hints" in last[-1]["text"]
    assert interview.values()["hints_used"][PHASES[0]] == len(hints)


def test_clarifying_questions_get_the_problem_notes_answers(toolkit: Any, tmp_path: Path) -> None:
    interview = _new(toolkit, tmp_path)
    note = toolkit.kb.problem_note("video_recommendation")
    turns = interview.send(
        note.clarifications[0].question + " Also, what is the capital of France?", seconds=10
    )
    reply = turns[-1]["text"]
    assert note.clarifications[0].answer in reply
    assert "state an assumption" in reply


def test_ending_early_leaves_the_rest_unassessed(toolkit: Any, tmp_path: Path) -> None:
    interview = _new(toolkit, tmp_path)
    interview.send(DECENT, seconds=120)
    interview.send(action="end")
    report = interview.report
    assert report is not None and interview.finished
    by_phase = {p.phase: p for p in report.phases}
    assert by_phase[PHASES[0]].answers == 1
    assert by_phase[PHASES[0]].assessed and by_phase[PHASES[0]].score is not None
    assert all(
        by_phase[p].score is None and not by_phase[p].assessed and by_phase[p].minutes == 0
        for p in PHASES[1:]
    )
    # One assessed phase: the overall score is that phase's, and the verdict waits for more evidence.
    assert report.score == pytest.approx(by_phase[PHASES[0]].score)
    assert report.verdict == "incomplete"
    from agent.errors import UsageError

    with pytest.raises(UsageError, match="already finished"):
        interview.send("more")


def _state(**overrides: Any) -> InterviewState:
    base: dict[str, Any] = {"phase": PHASES[2], "last_input": {"action": "answer", "text": "x", "seconds": 1}}
    base.update(overrides)
    return base  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("action", "phase", "expected"),
    [
        ("answer", PHASES[2], "grade_answer"),
        ("hint", PHASES[2], "give_hint"),
        ("skip", PHASES[2], "advance_phase"),
        ("end", PHASES[2], "finish"),
        ("answer", WRAP_UP, "finish"),
        ("skip", WRAP_UP, "finish"),
    ],
)
def test_route_input(action: str, phase: str, expected: str) -> None:
    assert (
        route_input(_state(phase=phase, last_input={"action": action, "text": "", "seconds": 0})) == expected
    )


def test_route_input_refuses_an_impossible_state() -> None:
    with pytest.raises(ValueError):
        route_input(_state(last_input=None))


def test_a_finished_session_whose_report_line_was_lost_gets_it_back_on_open(
    toolkit: Any, tmp_path: Path
) -> None:
    """A kill between the final checkpoint and the transcript's report line (issue 15, item 3)."""
    context = build_context(toolkit, auto_advance=False)
    first = Interview.create(context, tmp_path, problem="ad_click_prediction", session_id="lost-report")
    first.send(DECENT, seconds=30)
    first.send(action="end")
    assert first.finished
    path = first.transcript_path
    lines = path.read_text(encoding="utf-8").splitlines()
    assert '"event": "report"' in lines[-1]
    path.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")  # the line the kill cut off
    first.checkpointer.conn.close()
    first.close()

    again = Interview.resume(build_context(toolkit, auto_advance=False), tmp_path, "lost-report")
    events = path.read_text(encoding="utf-8").splitlines()
    assert sum('"event": "report"' in e for e in events) == 1
    assert again.finished and '"event": "resumed"' not in "".join(events)  # finished: read, not resumed
