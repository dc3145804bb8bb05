"""Applicability (problem kinds, presupposed elements) and hints tied to the pending question (issue 12)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import get_args

import numpy as np
import pytest

from agent.cli.main import main
from agent.content.applicability import (
    ELEMENTS,
    PROBLEM_KINDS,
    fits,
    foreign_terms,
    mentioned_elements,
    unmarked_presuppositions,
)
from agent.content.hints import CURVEBALL, hints_for, hints_given, lint, nudges, pending_question
from agent.content.loader import KnowledgeBase
from agent.content.schemas import ProblemKind
from agent.followups import FollowUpSelector, curveball_applies
from agent.ids import PHASES
from agent.search.index import KnowledgeIndex
from agent.state import Turn

from ..conftest import REPO

#: One answer that mentions every design element of the vocabulary.
EVERYTHING = (
    "A multi-stage funnel: candidate generation with a two-tower model whose embeddings go into an "
    "ANN index, then a deep neural ranker with multi-task heads, streaming velocity counters, nightly "
    "precomputed features, a human review queue and an exploration slice."
)
NO_VECTORS = np.zeros((0, 384), dtype=np.float32)


def test_the_vocabularies_agree_and_every_problem_has_kinds(kb: KnowledgeBase) -> None:
    assert set(get_args(ProblemKind)) == set(PROBLEM_KINDS)
    assert mentioned_elements([EVERYTHING]) == set(ELEMENTS)
    for problem in kb.problems:
        kinds = kb.problem_kinds(problem)
        assert kinds and ("ranking" in kinds or "classification" in kinds), problem
    assert kb.problem_kinds("payment_fraud_detection") == ["classification", "fraud"]


def _walk(selector: FollowUpSelector, problem: str, phase: str, answers: list[str]) -> set[str]:
    """Ask follow-ups until the pool is empty; every one the selector returns, in order."""
    asked: list[str] = []
    while True:
        offered = selector.candidates(
            problem=problem, phase=phase, sentence_vectors=NO_VECTORS, asked=asked, answers=answers
        )
        if not offered:
            return set(asked)
        assert not {c.unit_id for c in offered} & set(asked)  # an asked follow-up is never offered again
        asked += [offered[0].unit_id]


def test_the_selector_walks_every_followup_and_never_returns_an_inapplicable_one(
    kb: KnowledgeBase, index: KnowledgeIndex
) -> None:
    selector = FollowUpSelector(index, kb)
    rules = kb.applicability()
    for problem in kb.problems:
        kinds = kb.problem_kinds(problem)
        for phase in PHASES:
            pool = {hit.id for hit in index.vectors(phase=phase, problem=problem, kinds=["followup"])[0]}
            for answers in ([], ["We would start with a simple baseline."], [EVERYTHING]):
                mentioned = mentioned_elements(answers)
                expected = {
                    unit
                    for unit in pool
                    if fits(rules[unit].kinds, kinds) and set(rules[unit].presupposes) <= mentioned
                }
                assert _walk(selector, problem, phase, answers) == expected, (problem, phase, answers)


def test_every_curveball_waits_for_what_it_presupposes(kb: KnowledgeBase) -> None:
    for problem in kb.problems:
        curveball = kb.problem_note(problem).curveball
        assert curveball_applies(kb, problem, []) == (not curveball.presupposes)
        assert curveball_applies(kb, problem, [EVERYTHING])
    assert kb.problem_note("video_recommendation").curveball.presupposes == ["embeddings"]
    assert not curveball_applies(kb, "video_recommendation", ["I would rank by a GBDT on watch history."])
    assert curveball_applies(kb, "video_recommendation", ["Users and videos get learned embeddings."])


def _questions(selector: FollowUpSelector, problem: str, answers: list[str]) -> set[str]:
    questions: set[str] = set()
    for phase in PHASES:
        questions |= {
            c.question
            for c in selector.candidates(
                problem=problem, phase=phase, sentence_vectors=NO_VECTORS, answers=answers
            )
        }
        questions |= {
            hit.text
            for hit in selector.index.vectors(phase=phase, problem=problem, kinds=["followup"])[0]
            if selector.applicable(hit.id, problem, mentioned_elements(answers))
        }
    return questions


def test_fraud_is_never_asked_about_candidate_generators(kb: KnowledgeBase, index: KnowledgeIndex) -> None:
    selector = FollowUpSelector(index, kb)
    fraud = _questions(selector, "payment_fraud_detection", [EVERYTHING])
    assert not [q for q in fraud if re.search(r"candidate generator|ranker|re-rank", q)]
    feed = _questions(selector, "video_recommendation", [])
    assert any("candidate generator and a ranker" in q for q in feed)


def test_presupposing_questions_wait_for_the_element(kb: KnowledgeBase, index: KnowledgeIndex) -> None:
    selector = FollowUpSelector(index, kb)
    best_model = "Your best model is three times over the latency budget"
    plain = _questions(selector, "harmful_content_detection", ["Logistic regression on text features."])
    assert not any(q.startswith(best_model) for q in plain)
    deep = _questions(selector, "harmful_content_detection", ["A fine-tuned transformer over the post text."])
    assert any(q.startswith(best_model) for q in deep)
    id_embeddings = "Your model relies heavily on learned id embeddings"
    assert not any(q.startswith(id_embeddings) for q in _questions(selector, "video_recommendation", []))


def test_no_question_takes_an_element_for_granted_without_saying_so(kb: KnowledgeBase) -> None:
    assert unmarked_presuppositions("Your user embeddings are recomputed nightly.", []) == ["embeddings"]
    assert unmarked_presuppositions("Your user embeddings are stale.", ["embeddings"]) == []
    assert lint(kb) == []


def test_foreign_vocabulary_is_found() -> None:
    assert foreign_terms("Group features by user, item and context.", ["classification", "fraud"]) == []
    assert foreign_terms("Watch the chargeback rate per merchant.", ["ranking", "ads"]) == [
        "'chargeback' (fraud)",
        "'merchant' (fraud)",
    ]
    assert foreign_terms("The ranker's re-ranking stage.", ["classification", "moderation"])


def _shown_hints(kb: KnowledgeBase, index: KnowledgeIndex, problem: str, phase: str) -> list[str]:
    selector = FollowUpSelector(index, kb)
    pending: list[str | None] = [None, CURVEBALL]
    pending += [
        hit.id
        for hit in index.vectors(phase=phase, problem=problem, kinds=["followup"])[0]
        if selector.applicable(hit.id, problem, set(ELEMENTS))
    ]
    return [h for p in pending for h in hints_for(kb, problem, phase, p)]


def test_every_hint_on_every_problem_uses_only_its_own_kinds_vocabulary(
    kb: KnowledgeBase, index: KnowledgeIndex
) -> None:
    for problem in kb.problems:
        kinds = kb.problem_kinds(problem)
        for phase in PHASES:
            for hint in _shown_hints(kb, index, problem, phase):
                assert not foreign_terms(hint, kinds), (problem, phase, hint)
    fraud = " ".join(_shown_hints(kb, index, "payment_fraud_detection", "data_preparation"))
    assert "user, item, context" not in fraud


def test_hints_follow_the_pending_question_mildest_first(kb: KnowledgeBase) -> None:
    fraud = kb.problems["payment_fraud_detection"]
    question = kb.problem_note("payment_fraud_detection").followups[2]  # card testing
    unit = f"{fraud.source}#followup-2"
    mild, specific = nudges(question.look_for)
    assert len(mild) < len(specific) and "strong answer" in mild
    hints = hints_for(kb, "payment_fraud_detection", "monitoring", unit)
    assert hints[:2] == [mild, specific]
    design = kb.problem_note("payment_fraud_detection").strong_design["monitoring"][0]
    assert hints[2:4] == nudges(design)
    assert hints[-4:] == kb.phase_note("monitoring").hints
    curveball = hints_for(kb, "payment_fraud_detection", "model_development", CURVEBALL)
    assert curveball[0] == nudges(kb.problem_note("payment_fraud_detection").curveball.look_for)[0]


def _turn(role: str, kind: str) -> Turn:
    return Turn(role=role, phase="monitoring", text="...", kind=kind, at_s=0.0)  # type: ignore[typeddict-item]


def test_the_pending_question_and_the_hints_given_for_it() -> None:
    turns = [_turn("interviewer", "opening"), _turn("candidate", "answer"), _turn("interviewer", "followup")]
    assert pending_question(turns, ["a#followup-1"]) == "a#followup-1"
    assert hints_given(turns) == 0
    turns += [_turn("candidate", "hint_request"), _turn("interviewer", "hint")]
    assert pending_question(turns, ["a#followup-1"]) == "a#followup-1" and hints_given(turns) == 1
    assert pending_question([_turn("interviewer", "curveball")], []) == CURVEBALL
    assert pending_question([_turn("interviewer", "opening")], ["a#followup-1"]) is None


# --------------------------------------------------------------------------- broken content


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A private copy of the bundled knowledge and rubrics."""
    shutil.copytree(REPO / "knowledge", tmp_path / "knowledge")
    shutil.copytree(REPO / "rubrics", tmp_path / "rubrics")
    return tmp_path


def _sub(content: Path, relative: str, pattern: str, replacement: str) -> None:
    path = content / "knowledge" / relative
    text, count = re.subn(pattern, replacement, path.read_text(encoding="utf-8"), count=1, flags=re.M)
    assert count == 1
    path.write_text(text, encoding="utf-8")


BROKEN = [
    ("problems/payment_fraud_detection.md", r"^kinds: \[classification", "kinds: [scoring", "kinds.0"),
    ("topics/cold_start.md", r"^kinds: \[ranking\]", "kinds: []", "kinds"),
    (
        "phases/deployment_serving.md",
        r"presupposes: \[deep_model\]",
        "presupposes: [big_model]",
        "followups.2.presupposes.0",
    ),
    ("phases/monitoring.md", r"^    kinds: \[ranking, classification\]\n", "", "followups.0.kinds"),
    ("problems/video_recommendation.md", r"^  presupposes: \[embeddings\]\n", "", "curveball.presupposes"),
    ("topics/feedback_loop.md", r"^    kinds: \[ranking\]\n", "", "followups.2.question"),
    (
        "problems/payment_fraud_detection.md",
        r"^    topic: privacy",
        "    topic: privacy\n    kinds: [ads]",
        "followups.0.kinds",
    ),
]


@pytest.mark.parametrize(("relative", "pattern", "replacement", "field"), BROKEN)
def test_kb_check_names_the_file_and_field_of_bad_applicability(
    content: Path,
    capsys: pytest.CaptureFixture[str],
    relative: str,
    pattern: str,
    replacement: str,
    field: str,
) -> None:
    _sub(content, relative, pattern, replacement)
    code = main(
        ["kb", "check", "--knowledge", str(content / "knowledge"), "--rubrics", str(content / "rubrics")]
    )
    _, err = capsys.readouterr()
    assert code == 2
    last = err.strip().splitlines()[-1]
    assert f"{content / 'knowledge' / relative}: {field}:" in last, err
