"""The offline grader against a human-labelled set of answers: ordering, agreement and robustness.

The grader's thresholds were tuned on the dev split only; both splits are checked and reported.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
import yaml
from scipy.stats import spearmanr

from agent.content.loader import KnowledgeBase
from agent.grading.offline import OfflineGrader

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "graded_answers.yaml"
ANSWERS: list[dict[str, Any]] = yaml.safe_load(FIXTURES.read_text(encoding="utf-8"))["answers"]
#: (problem, phase) pairs whose answers the thresholds were tuned on; the other five are held out.
DEV_PAIRS = {
    ("video_recommendation", "data_preparation"),
    ("ad_click_prediction", "model_development"),
    ("payment_fraud_detection", "evaluation"),
    ("video_recommendation", "frame_problem"),
    ("ad_click_prediction", "deployment_serving"),
}
ADVERSARIAL = ("stuffed", "verbose", "offtopic", "injection", "hint_request")
LEVELS = ("strong", "solid", "weak", "poor")


def split_of(answer: dict[str, Any]) -> str:
    return "dev" if (answer["problem"], answer["phase"]) in DEV_PAIRS else "test"


@pytest.fixture(scope="module")
def graded(toolkit: Any) -> list[tuple[dict[str, Any], float, Any]]:
    kb: KnowledgeBase = toolkit.kb
    grader: OfflineGrader = toolkit.grader
    rows = []
    for answer in ANSWERS:
        criteria = kb.rubric_for(answer["problem"], answer["phase"])
        grade = grader.grade(answer["phase"], criteria, answer["text"], answer["problem"])
        rows.append((answer, grade.score({c.id: c.weight for c in criteria}), grade))
    return rows


def test_the_labelled_set_is_big_and_varied() -> None:
    assert len(ANSWERS) >= 40
    kinds = {a["kind"] for a in ANSWERS}
    assert set(LEVELS) | {"stuffed", "verbose", "offtopic", "injection"} <= kinds
    assert len({a["id"] for a in ANSWERS}) == len(ANSWERS)


def _pairwise(rows: list[tuple[dict[str, Any], float, Any]]) -> float:
    right = total = 0
    for (a, sa, _), (b, sb, _) in itertools.combinations(rows, 2):
        if (a["problem"], a["phase"]) != (b["problem"], b["phase"]) or a["label"] == b["label"]:
            continue
        total += 1
        right += (sa - sb) * (a["label"] - b["label"]) > 0
    return right / total


@pytest.mark.parametrize("split", ["dev", "test"])
def test_agreement_with_human_labels(graded: list[tuple[dict[str, Any], float, Any]], split: str) -> None:
    rows = [r for r in graded if split_of(r[0]) == split]
    labels = [a["label"] for a, _, _ in rows]
    scores = [s for _, s, _ in rows]
    rho = spearmanr(labels, scores).statistic
    pairwise = _pairwise(rows)
    within_one = sum(abs(round(s) - label) <= 1 for s, label in zip(scores, labels, strict=True)) / len(rows)
    print(f"{split}: n={len(rows)} spearman={rho:.3f} pairwise={pairwise:.3f} within-one={within_one:.3f}")
    assert rho >= 0.75
    assert pairwise >= 0.85
    assert within_one >= 0.8


@pytest.mark.parametrize(
    ("problem", "phase"),
    sorted({(a["problem"], a["phase"]) for a in ANSWERS if a["kind"] in LEVELS}),
)
def test_better_answers_score_higher_on_the_same_question(
    graded: list[tuple[dict[str, Any], float, Any]], problem: str, phase: str
) -> None:
    by_kind = {a["kind"]: s for a, s, _ in graded if (a["problem"], a["phase"]) == (problem, phase)}
    assert by_kind["strong"] > by_kind["poor"] and by_kind["solid"] > by_kind["poor"]
    assert max(by_kind["strong"], by_kind["solid"]) > by_kind["weak"]


def test_most_questions_order_all_four_levels_strictly(
    graded: list[tuple[dict[str, Any], float, Any]],
) -> None:
    """strong > solid > weak > poor on the same question: at least 4 of the 10 questions.

    Measured: 6 with the old length-driven grader, 4 with the fitted scorer (issue 11): two pairs tie
    strong and solid at the 4.0 ceiling, two rank the weak answer above the solid one, one the poor
    above the weak. A ratchet: raise it as the grader improves.
    """
    pairs = sorted({(a["problem"], a["phase"]) for a in ANSWERS if a["kind"] in LEVELS})
    ordered = 0
    for pair in pairs:
        by_kind = {a["kind"]: s for a, s, _ in graded if (a["problem"], a["phase"]) == pair}
        scores = [by_kind[level] for level in LEVELS]
        ordered += all(x > y for x, y in itertools.pairwise(scores))
        print(pair, [round(x, 2) for x in scores])
    print(f"strictly ordered: {ordered} of {len(pairs)}")
    assert ordered >= 4


def test_mean_score_falls_with_each_level(graded: list[tuple[dict[str, Any], float, Any]]) -> None:
    means = []
    for level in LEVELS:
        scores = [s for a, s, _ in graded if a["kind"] == level]
        means.append(sum(scores) / len(scores))
    assert means == sorted(means, reverse=True), means
    assert means[0] - means[-1] >= 1.5


@pytest.mark.parametrize("kind", ADVERSARIAL)
def test_adversarial_answers_score_at_most_2(
    graded: list[tuple[dict[str, Any], float, Any]], kind: str
) -> None:
    rows = [(a, s, g) for a, s, g in graded if a["kind"] == kind]
    assert rows
    for answer, score, grade in rows:
        assert score <= 2.0, answer["id"]
        assert all(c.score is None or c.score <= 2 for c in grade.criteria), answer["id"]


def test_injection_and_stuffing_are_flagged(graded: list[tuple[dict[str, Any], float, Any]]) -> None:
    for answer, _, grade in graded:
        if answer["kind"] == "injection":
            assert "injection" in grade.flags, answer["id"]
        if answer["kind"] == "stuffed":
            assert "stuffing" in grade.flags, answer["id"]
        if answer["kind"] in LEVELS:
            assert "injection" not in grade.flags, answer["id"]


def test_every_quote_is_a_verbatim_span(graded: list[tuple[dict[str, Any], float, Any]]) -> None:
    quotes = 0
    for answer, _, grade in graded:
        for criterion in grade.criteria:
            for quote in criterion.evidence:
                assert quote in answer["text"], (answer["id"], quote)
                quotes += 1
            assert criterion.rationale.endswith(".")
            assert (criterion.score is None) == (not criterion.evidence), (answer["id"], criterion.id)
    assert quotes > 100


def test_text_addressed_to_the_grader_is_never_quoted(
    graded: list[tuple[dict[str, Any], float, Any]],
) -> None:
    for answer, _, grade in graded:
        if answer["kind"] != "injection":
            continue
        for criterion in grade.criteria:
            for quote in criterion.evidence:
                lowered = quote.lower()
                assert "ignore" not in lowered and "score 4" not in lowered and "</answer>" not in lowered
