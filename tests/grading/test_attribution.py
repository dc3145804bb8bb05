"""Which criteria a sentence is evidence for: each sentence, clause or list for at most its number of
criteria, and the quote is the part that made the point (fast tier: hashed vectors, no model)."""

from __future__ import annotations

from agent.content.schemas import Criterion
from agent.grading.offline import OfflineGrader, load_params
from tests.fakes import HashingEmbedder


def _criterion(id: str, evidence: str) -> Criterion:
    return Criterion(
        id=id,
        title=id.replace("_", " ").capitalize(),
        weight=0.25,
        description=f"{id}.",
        levels={1: "Nothing.", 2: "Some of it.", 3: "Most of it.", 4: "All of it, with numbers."},
        # Two more statements in words no answer here uses: a criterion needs three.
        evidence=[evidence, f"Writes the {id} runbook in a wiki.", f"Holds a weekly {id} review meeting."],
        red_flags=[f"Says nothing about {id.replace('_', ' ')}."],
    )


# Four criteria whose evidence each shares its words with one clause of DENSE and nothing else.
TASK = _criterion("task_formulation", "score each card authorisation with a calibrated fraud probability")
POLICY = _criterion("decision_policy", "a decision layer maps score and amount to approve or decline")
LABELS = _criterion("label_definition", "labels are chargebacks confirmed within ninety days")
METRIC = _criterion("offline_metric", "optimise precision recall because positives are rare")
CRITERIA = [TASK, POLICY, LABELS, METRIC]
DENSE = (
    "I'd score each card authorisation with a calibrated fraud probability, "
    "then a decision layer maps score and amount to approve or decline, "
    "labels are chargebacks confirmed within ninety days, "
    "and I'd optimise precision recall because positives are rare."
)


def _grader() -> OfflineGrader:
    # A low bar, fixed here: the fitted one moves with every refit, and hashed vectors of a clause
    # against its own words sit well above it while the whole sentence sits below it.
    params = load_params().model_copy(update={"match": 0.4, "max_criteria_per_sentence": 2})
    return OfflineGrader(HashingEmbedder(), params)


def test_a_dense_sentence_is_evidence_for_each_criterion_its_clauses_address() -> None:
    grade = _grader().grade("frame_problem", CRITERIA, DENSE)
    assert all(c.score is not None for c in grade.criteria), [c.rationale for c in grade.criteria]


def test_a_sentence_is_quoted_whole_under_at_most_two_criteria_and_clauses_elsewhere() -> None:
    grade = _grader().grade("frame_problem", CRITERIA, DENSE)
    quotes = [q for c in grade.criteria for q in c.evidence]
    assert sum(q == DENSE for q in quotes) <= 2
    clauses = [q for q in quotes if q != DENSE]
    assert clauses and all(q in DENSE for q in clauses)
    by_criterion = {c.id: c.evidence for c in grade.criteria}
    assert any("ninety days" in q and q != DENSE for q in by_criterion["label_definition"])


def test_one_clause_is_evidence_for_at_most_two_criteria() -> None:
    params = load_params().model_copy(update={"match": 0.4, "max_criteria_per_sentence": 1})
    grade = OfflineGrader(HashingEmbedder(), params).grade("frame_problem", CRITERIA, DENSE)
    quotes = [q for c in grade.criteria for q in c.evidence]
    assert len(quotes) == len(set(quotes)), "with one criterion per span, no span is quoted twice"


def test_a_list_of_terms_is_evidence_for_one_criterion_only() -> None:
    listed = (
        "Calibrated fraud probability, decision layer, approve or decline, chargebacks, ninety days, "
        "precision recall, rare positives."
    )
    grader = _grader()
    features = grader.features("frame_problem", CRITERIA, listed)
    assert features.sentences[0].list_like
    assert sum(f.covered > 0 for f in features.criteria) == 1
    prose = grader.features("frame_problem", CRITERIA, DENSE)
    assert sum(f.covered > 0 for f in prose.criteria) == len(CRITERIA)
