"""How many precise things an answer names, the vague rule built on it, and the grader's reference
from the knowledge base (fast tier: hashed vectors, no model)."""

from __future__ import annotations

from typing import Any

from agent.grading.offline import GradingReference, OfflineGrader
from agent.grading.sentences import specifics, term_pattern
from tests.fakes import HashingEmbedder

FILLER = (
    "Data is really the foundation of everything here, so I'd put a lot of care into it and make sure "
    "the whole team trusts what goes in. We'd bring together the signals that tell us how people use "
    "the product and what they care about, and I'd be thoughtful about quality because a model trained "
    "on messy inputs will just learn the mess. I'd work closely with the teams who know the product "
    "and keep everything well documented, so we can iterate without surprises and stand behind it. "
    "Overall the goal is something the whole team genuinely understands and can rely on later."
)
DENSE = (
    "Chargebacks arrive 30 to 90 days late, so I'd train only on transactions older than 60 days and "
    "use issuer fraud reports as an early label. Features: card velocity over 1 h and 24 h, "
    "merchant-category risk, device fingerprint, distance from the billing address. I'd split by "
    "time, because a random split leaks fraud rings across folds, and downsample legitimate "
    "transactions to 1:20 with importance weights so the scores stay calibrated for the 0.5% decline "
    "threshold. PR-AUC and recall at that threshold decide between models, not ROC-AUC. Labels from "
    "manual review cover about 2% of traffic, so I'd weight them by the inverse of the review rate."
)


def test_specifics_counts_distinct_numbers_acronyms_and_terms_once() -> None:
    terms = term_pattern(["calibrat", "cold start"])
    text = "Calibrated scores, calibration again, cold start, 30 days and 30 days."
    # "calibration" (a precise word), the topic terms "calibrat" and "cold start", and "30": once each.
    assert specifics([text], terms) == 4
    assert specifics(["We would make sure the data is good and the team is aligned."], terms) == 0
    assert specifics(["PR-AUC beats ROC-AUC at 0.1%"]) == 3  # AUC, ROC and 0.1


def test_term_pattern_matches_word_prefixes_only() -> None:
    pattern = term_pattern(["drift"])
    assert pattern is not None
    assert pattern.search("feature drifting") and not pattern.search("adrift")
    assert term_pattern([]) is None


def test_a_long_answer_naming_few_precise_things_is_vague() -> None:
    grader = OfflineGrader(HashingEmbedder())
    rate = grader.specifics_rate(FILLER)
    assert rate is not None and rate < grader.params.vague_max_specifics
    dense = grader.specifics_rate(DENSE)
    assert dense is not None and dense > 3 * grader.params.vague_max_specifics


def test_short_answers_and_question_lists_are_not_judged_by_density() -> None:
    grader = OfflineGrader(HashingEmbedder())
    assert grader.specifics_rate("I'd split by time and use PR-AUC.") is None
    questions = " ".join(
        f"What does the team expect from the {thing}, and who decides it?"
        for thing in ("launch", "carousel", "feed", "email", "review queue", "pilot", "rollout", "budget")
    )
    assert grader.specifics_rate(questions) is None


def test_filler_is_capped_and_the_dense_answer_is_not(fake_toolkit: Any) -> None:
    criteria = fake_toolkit.kb.rubric_for("payment_fraud_detection", "data_preparation")
    filler = fake_toolkit.grader.grade("data_preparation", criteria, FILLER, "payment_fraud_detection")
    dense = fake_toolkit.grader.grade("data_preparation", criteria, DENSE, "payment_fraud_detection")
    assert "vague" in filler.flags
    assert "vague" not in dense.flags
    assert all(c.score is None or c.score <= 2 for c in filler.criteria)


def test_the_reference_holds_every_problem_phase_from_the_notes(fake_toolkit: Any) -> None:
    kb = fake_toolkit.kb
    reference = GradingReference.from_kb(kb)
    bullets = kb.problem_note("similar_listings").strong_design["data_preparation"]
    design = reference.design("similar_listings", "data_preparation")
    assert len(design) >= len(bullets)
    assert all(any(statement in b for b in bullets) for statement in design)
    assert reference.design(None, "data_preparation") == ()
    assert reference.design("no_such_problem", "data_preparation") == ()
    assert reference.terms is not None and reference.terms.search("cold start")


def test_an_answer_like_the_strong_design_covers_more_of_it(fake_toolkit: Any) -> None:
    kb = fake_toolkit.kb
    problem, phase = "similar_listings", "data_preparation"
    criteria = kb.rubric_for(problem, phase)
    close = " ".join(kb.problem_note(problem).strong_design[phase][:2])
    far = "We would gather the logs and build some features, then train the model on them."
    near = fake_toolkit.grader.features(phase, criteria, close, problem).criteria[0].reference
    distant = fake_toolkit.grader.features(phase, criteria, far, problem).criteria[0].reference
    assert near > distant
    # Without a problem there is no reference to cover.
    assert fake_toolkit.grader.features(phase, criteria, close).criteria[0].reference == 0.0
