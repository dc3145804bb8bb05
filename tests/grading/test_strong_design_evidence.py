"""The problem note's strong design as evidence for the criterion it is closest to (fast tier:
hashed vectors, no model)."""

from __future__ import annotations

from agent.content.schemas import Criterion
from agent.grading.offline import GradingReference, OfflineGrader, load_params
from tests.fakes import HashingEmbedder


def _criterion(id: str, title: str, evidence: list[str], red_flag: str) -> Criterion:
    return Criterion(
        id=id,
        title=title,
        weight=0.5,
        description=f"{title}.",
        levels={1: "Nothing.", 2: "Some of it.", 3: "Most of it.", 4: "All of it, with numbers."},
        evidence=evidence,
        red_flags=[red_flag],
    )


LABELS = _criterion(
    "labeling_strategy",
    "Labels and negatives",
    [
        "Positive pairs come from purchases that followed a search.",
        "Negatives are sampled from the same category as the positive.",
        "Labels are audited by hand on a small sample every week.",
    ],
    "Treats every unclicked result as a negative.",
)
SERVING = _criterion(
    "serving_latency",
    "Serving",
    [
        "The service answers within 100 ms at p99.",
        "Embeddings are cached on every replica.",
        "The index is sharded across machines.",
    ],
    "Ignores the latency budget.",
)
DESIGN = "Hard negatives come from the same category, with near duplicate listings of the positive removed."
ANSWER = DESIGN  # the candidate says what the note says, in one sentence


def _grader(owners: int = 1, bars: tuple[float, float] | None = None) -> OfflineGrader:
    """The committed scorer; `bars` sets the rubric's and the strong design's coverage bars, for the
    tests of the difference between them (the fitted rubric bar moves with every refit)."""
    reference = GradingReference(strong_design={("visual_search", "data_preparation"): (DESIGN,)})
    update: dict[str, float] = {"design_owners": owners}
    if bars is not None:
        update |= {"match": bars[0], "reference_match": bars[1]}
    params = load_params().model_copy(update=update)
    return OfflineGrader(HashingEmbedder(), params, reference)


def test_a_design_statement_is_evidence_for_the_criterion_it_is_closest_to() -> None:
    grader = _grader()
    with_design = grader.features("data_preparation", [LABELS, SERVING], ANSWER, "visual_search")
    generic = grader.features("data_preparation", [LABELS, SERVING], ANSWER, None)
    labels, serving = with_design.criteria
    assert labels.signals == len(LABELS.evidence) + 1 and serving.signals == len(SERVING.evidence)
    assert labels.covered == generic.criteria[0].covered + 1
    assert serving.covered == generic.criteria[1].covered
    grade = grader.grade("data_preparation", [LABELS, SERVING], ANSWER, "visual_search")
    assert f"of the criterion's {len(LABELS.evidence) + 1} signals" in grade.criteria[0].rationale


def test_no_owner_keeps_the_rubric_alone_and_another_problem_gets_nothing() -> None:
    off = _grader(owners=0).features("data_preparation", [LABELS, SERVING], ANSWER, "visual_search")
    other = _grader().features("data_preparation", [LABELS, SERVING], ANSWER, "payment_fraud_detection")
    for features in (off, other):
        assert [f.signals for f in features.criteria] == [len(LABELS.evidence), len(SERVING.evidence)]


def test_a_design_statement_needs_the_strong_design_bar_not_the_rubric_one() -> None:
    grader = _grader(bars=(0.40, 0.50))
    # Shares a few of the statement's words: enough for a rubric statement's bar, not for the note's.
    loose = "Hard negatives help with listings."
    sims = grader.statement_vectors([DESIGN]) @ grader.sentence_vectors(loose)[1].T
    assert grader.params.match <= float(sims.max()) < grader.params.reference_match
    with_design = grader.features("data_preparation", [LABELS, SERVING], loose, "visual_search")
    generic = grader.features("data_preparation", [LABELS, SERVING], loose, None)
    assert with_design.criteria[0].covered == generic.criteria[0].covered


# ---------------------------------------------------------------------- a problem overlay's evidence

PROBLEM_SAYS = "Each authorisation is scored as fraud or not with features known at that instant."
TASK = LABELS.model_copy(update={"id": "task_formulation", "problem_evidence": [PROBLEM_SAYS]})


def test_a_problem_overlays_evidence_is_matched_for_its_own_criterion() -> None:
    grader = _grader()
    features = grader.features("frame_problem", [TASK, SERVING], PROBLEM_SAYS, "payment_fraud_detection")
    task, serving = features.criteria
    assert task.signals == len(TASK.evidence) + 1 and serving.signals == len(SERVING.evidence)
    without = grader.features("frame_problem", [LABELS, SERVING], PROBLEM_SAYS, "payment_fraud_detection")
    assert task.covered == without.criteria[0].covered + 1


def test_a_problem_overlays_evidence_needs_the_strong_design_bar() -> None:
    # Like the note's design, it names the problem's own nouns, which an off-topic answer uses too.
    grader = _grader(bars=(0.40, 0.50))
    loose = "We see features at that instant."
    sims = grader.statement_vectors([PROBLEM_SAYS]) @ grader.sentence_vectors(loose)[1].T
    assert grader.params.match <= float(sims.max()) < grader.params.reference_match
    with_overlay = grader.features("frame_problem", [TASK, SERVING], loose, "payment_fraud_detection")
    without = grader.features("frame_problem", [LABELS, SERVING], loose, "payment_fraud_detection")
    assert with_overlay.criteria[0].covered == without.criteria[0].covered
