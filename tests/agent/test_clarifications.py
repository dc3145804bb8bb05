"""Clarifying questions find the problem note's facts: the matcher's rule and its labelled accuracy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import yaml

from agent.clarifications import MAX_QUESTIONS, assign, by_fact, load_params, similarities
from agent.content.schemas import Clarification
from agent.engines.base import TurnPlan
from agent.engines.offline import compose_turn, load_templates
from agent.errors import ContentError
from agent.nodes.common import answer_clarifying_questions
from agent.session import build_context
from evals.fit_clarifications import (
    DATASET,
    REPEAT_COSTS,
    THRESHOLDS,
    Combos,
    Message,
    evaluate,
    load_messages,
)


def test_assignment_is_one_to_one_and_not_greedy() -> None:
    # Question 0 is close to both facts but closest to fact 0; question 1 only fits fact 0.
    # Greedy would give fact 0 to question 0 and leave question 1 unanswered.
    scores = np.array([[0.60, 0.55], [0.58, 0.10]])
    assert assign(scores, threshold=0.3) == [1, 0]


def test_one_fact_answers_two_questions_only_when_repeats_are_worth_their_cost() -> None:
    # "How many products? Does each have several photos?": one fact answers both.
    scores = np.array([[0.90, 0.20], [0.80, 0.10]])
    assert assign(scores, threshold=0.3, repeat_cost=0.0) == [0, 0]
    assert assign(scores, threshold=0.3, repeat_cost=0.6) == [0, None]  # 0.5 above the bar < 0.6
    assert assign(scores, threshold=0.3) == [0, None]  # never twice


def test_a_repeat_does_not_crowd_out_the_fact_another_question_asked_for() -> None:
    scores = np.array([[0.60, 0.55], [0.58, 0.10]])
    assert assign(scores, threshold=0.3, repeat_cost=0.1) == [1, 0]


def test_a_fact_answering_two_questions_is_said_once() -> None:
    answers = [("How many products?", "100M."), ("Team size?", ""), ("Several photos each?", "100M.")]
    assert by_fact(answers) == [
        (["How many products?", "Several photos each?"], "100M."),
        (["Team size?"], ""),
    ]


def test_the_offline_interviewer_says_a_fact_answering_two_questions_once() -> None:
    fact = "About 100M active products with 500M images in total."
    plan = TurnPlan(
        kind="followup",
        phase="clarify_requirements",
        phase_title="Clarify requirements and business goal",
        problem_title="Visual search",
        question="What latency do we have?",
        answers_to_questions=[("How many products?", fact), ("Several photos each?", fact), ("Team?", "")],
    )
    text = compose_turn(load_templates(), plan)
    assert text.count(fact) == 1
    assert 'On "How many products?" and "Several photos each?": ' + fact in text
    assert 'On "Team?": that\'s yours to decide' in text


def test_the_fits_grid_chooses_as_assign_does() -> None:
    rng = np.random.default_rng(7)
    for _ in range(40):
        asked, facts = int(rng.integers(1, 4)), int(rng.integers(2, 6))
        scores = rng.uniform(0.0, 0.8, (asked, facts))
        expected = [int(e) if e < facts else None for e in rng.integers(0, facts + 1, asked)]
        message = Message("dev", expected, scores, np.zeros_like(scores), np.zeros_like(scores))
        right, wrong = Combos.of(message).outcomes(scores)
        for t, threshold in enumerate(THRESHOLDS):
            for r, cost in enumerate(REPEAT_COSTS):
                chosen = assign(scores, threshold, cost)
                assert right[t, r] == sum(g == e for g, e in zip(chosen, expected, strict=True))
                assert wrong[t, r] == sum(
                    g is not None and g != e for g, e in zip(chosen, expected, strict=True)
                )


def test_below_the_threshold_there_is_no_fact() -> None:
    assert assign(np.array([[0.2, 0.1], [0.5, 0.29]]), threshold=0.3) == [None, 0]


def test_only_the_first_questions_are_answered() -> None:
    scores = np.full((MAX_QUESTIONS + 2, 8), 0.5) + np.eye(MAX_QUESTIONS + 2, 8) * 0.1
    assert len(assign(scores, threshold=0.3)) == MAX_QUESTIONS


def test_a_question_is_as_close_to_a_clarification_as_its_closest_wording() -> None:
    axes = {"latency": [1.0, 0.0, 0.0], "before publishing": [0.6, 0.8, 0.0], "volume": [0.0, 0.0, 1.0]}

    def vectors(texts: list[str]) -> np.ndarray:
        return np.array([axes[next(k for k in axes if k in t)] for t in texts], dtype=np.float32)

    notes = [
        Clarification(
            question="What are the latency expectations?",
            asked_as=["Must it run before publishing, or after?"],
            answer="Within minutes for most; 200 ms for text at posting (latency).",
        ),
        Clarification(question="How much volume do we get?", answer="500M posts a day (volume)."),
    ]
    asked = ["Do we block it before publishing?"]
    found = similarities(asked, vectors(asked), notes, vectors)
    # The question itself is 0.6 from "latency" and the wording 1.0: the closest counts.
    assert found.to_questions[0].tolist() == pytest.approx([1.0, 0.0])
    assert found.to_answers[0].tolist() == pytest.approx([0.6, 0.0])
    assert found.words.shape == (1, 2)


@pytest.fixture(scope="module")
def messages(toolkit: Any) -> list[Any]:
    return load_messages(toolkit)


def test_labelled_questions_get_the_right_fact_on_held_out_messages(messages: list[Any]) -> None:
    """The held-out test split of evals/clarifications.yaml (132 questions): measured 0.871 accuracy and
    4.1% wrong facts among the answers given. On the 81 older test questions alone 0.926 and 4.5%; on
    the 51 added on 2026-12-04, worded from other angles, 0.784 and 3.2% (the matcher of the day before: 0.914
    and 7.0% on the older, 0.647 and 40% on the newer)."""
    score = evaluate(messages, load_params(), "test")
    print(f"test: accuracy {score.accuracy:.3f}, wrong facts {score.wrong_facts:.3f}")
    assert score.questions >= 130
    assert score.accuracy >= 0.85
    assert score.wrong_facts <= 0.06


def test_whole_held_out_messages_get_their_facts_in_the_interviewers_turn(toolkit: Any) -> None:
    """From the raw message, split into questions by the app itself, as the next turn answers it:
    measured 83 of the test split's 99 expected facts given, and 4 facts given that nobody asked for
    (on the 70 of the older messages 62 and 3; the matcher before the added messages gave 65 and 5
    there). Two questions in one sentence ("do we get X, and if so how much?") count as one here."""
    context = build_context(toolkit)
    expected_total = given_right = given_wrong = 0
    for item in yaml.safe_load(DATASET.read_text(encoding="utf-8"))["messages"]:
        if item["split"] != "test":
            continue
        note = toolkit.kb.problem_note(item["problem"])
        turn = {"role": "candidate", "kind": "answer", "text": item["message"], "phase": item["phase"]}
        state: Any = {"problem": item["problem"], "turns": [turn]}
        given = {fact for _, fact in answer_clarifying_questions(context, state) if fact}
        expected = {
            note.clarifications[q["expect"]].answer for q in item["questions"] if q["expect"] is not None
        }
        expected_total += len(expected)
        given_right += len(given & expected)
        given_wrong += len(given - expected)
    print(f"test: {given_right} of {expected_total} facts given, {given_wrong} wrong")
    assert expected_total >= 95
    assert given_right >= 0.80 * expected_total
    assert given_wrong <= 6


def test_the_parameters_file_is_what_the_fit_wrote(messages: list[Any]) -> None:
    params = load_params()
    assert params.fitted.get("command") == "python -m evals.fit_clarifications"
    assert evaluate(messages, params, "dev").accuracy == pytest.approx(
        params.fitted["dev_accuracy"], abs=1e-3
    )


def test_a_label_past_the_notes_clarifications_names_the_file_and_message(
    toolkit: Any, tmp_path: Any
) -> None:
    path = tmp_path / "clarifications.yaml"
    question = {"text": "How many users?", "expect": 99}
    item = {"problem": "visual_search", "phase": "clarify_requirements", "split": "dev"}
    path.write_text(
        yaml.safe_dump({"messages": [{**item, "message": "How many users?", "questions": [question]}]})
    )
    where = r"clarifications.yaml: messages.0.questions.0.expect: clarification 99 .*relabel"
    with pytest.raises(ContentError, match=where) as raised:
        load_messages(toolkit, path)
    assert raised.value.exit_code == 2  # a bad input file, as SPEC says
