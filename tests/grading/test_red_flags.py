"""A red flag caps only when the candidate asserts the pitfall, not when they name it to reject it.

Two fixtures of assert/reject pairs, one per red flag of three phase rubrics each. The held-out one was
written before the rules in agent/grading/negation.py were tuned.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.grading.sentences import rejects

REPO = Path(__file__).resolve().parents[2]
FIXTURES = {
    "red_flag_pairs": ("evaluation", "data_preparation", "model_development"),
    "red_flag_pairs_heldout": ("clarify_requirements", "deployment_serving", "monitoring"),
}


def _pairs(fixture: str) -> list[dict[str, Any]]:
    path = REPO / "tests" / "fixtures" / f"{fixture}.yaml"
    pairs: list[dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8"))["pairs"]
    return pairs


@pytest.mark.parametrize("fixture", sorted(FIXTURES))
def test_every_red_flag_of_three_rubrics_has_a_pair(fixture: str) -> None:
    pairs = _pairs(fixture)
    for rubric in FIXTURES[fixture]:
        criteria = yaml.safe_load((REPO / "rubrics" / "phases" / f"{rubric}.yaml").read_text())["criteria"]
        flags = {flag for criterion in criteria for flag in criterion["red_flags"]}
        assert flags == {p["red_flag"] for p in pairs if p["rubric"] == rubric}, rubric


def _wrong(pair: dict[str, Any]) -> list[str]:
    """The sentences of one pair that `rejects` judges the wrong way."""
    flag = pair["red_flag"]
    return [
        f"{kind}, judged the other way: {pair[kind]!r} (red flag: {flag!r})"
        for kind in ("asserts", "rejects")
        if rejects(pair[kind], flag) != (kind == "rejects")
    ]


@pytest.mark.parametrize("fixture", sorted(FIXTURES))
def test_every_assert_and_reject_pair_is_right(fixture: str) -> None:
    pairs = _pairs(fixture)
    wrong = [w for p in pairs for w in _wrong(p)]
    right = sum(not _wrong(p) for p in pairs)
    print(f"{fixture}: {right} of {len(pairs)} assert/reject pairs right")
    assert not wrong, "\n".join(wrong)


ACCURACY = "Reports accuracy on a dataset with a 0.1 percent positive rate."
FALLBACK = "Has no fallback when the model or feature store is unavailable."
RETRIEVAL = "Evaluates the retrieval stage with the ranker's metric without looking at recall."
UNCONNECTED = "Treats every pair of members who are not connected as a negative example."
RECOMPUTED = "Recomputes features for training with different code than the serving path."
BM25 = "Replaces BM25 entirely with an embedding model."
ALL_AT_ONCE = "Replaces the production model for all users at once."
FEW_INTERACTIONS = (
    "Drops items with few interactions as noise, although new items are exactly the ones with few."
)
FIRST_MODEL = "Proposes a large transformer or graph neural network as the first model without any baseline."


@pytest.mark.parametrize(
    ("sentence", "red_flag", "rejected"),
    [
        # The side of a contrast decides, not its presence.
        ("I'd report accuracy rather than PR-AUC, since it's easier to explain.", ACCURACY, False),
        ("I'd report PR-AUC rather than accuracy.", ACCURACY, True),
        # A negation counts where it reaches the pitfall, not anywhere in the sentence.
        ("We can't afford a big model, so we'll just report accuracy.", ACCURACY, False),
        ("Since positives are rare, accuracy isn't informative.", ACCURACY, True),
        ("It would be a mistake not to report accuracy.", ACCURACY, False),
        # Describing words are not verdicts unless they are predicated.
        (
            "I'd start with a large graph neural network as the first model, naive Bayes is too weak.",
            FIRST_MODEL,
            False,
        ),
        (
            "Going straight to a transformer is premature, I'd start with logistic regression.",
            FIRST_MODEL,
            True,
        ),
        # An absence is rejected by stating the good practice, asserted by denying or deferring it.
        ("If the model is unavailable we serve a cached popularity list.", FALLBACK, True),
        ("We don't have a fallback, if the model is down the request errors out.", FALLBACK, False),
        ("Not having a fallback for a feature store outage would be a mistake.", FALLBACK, True),
        (
            "I won't worry about latency for now.",
            "Ignores latency for a system that answers users in real time.",
            False,
        ),
        (
            "Beyond CPU, memory and uptime, I'd watch the score distribution.",
            "Monitors only CPU, memory and uptime.",
            True,
        ),
        # The issue's own example: "never" denies its subject's predicate.
        (
            "Declined payments never get an outcome, so each model learns from what the last let through.",
            "Assumes declined transactions were fraud and adds them to the positives.",
            True,
        ),
        # Naming the practice a qualifier says is missing rejects; negating the red flag's own
        # circumstances agrees with it.
        ("Retrieval is judged by recall at 1000.", RETRIEVAL, True),
        ("I'd report NDCG at 10 for both the retrieval stage and the ranker.", RETRIEVAL, False),
        ("For negatives I'd randomly pick pairs of users who aren't connected.", UNCONNECTED, False),
        ("I'd train on the feature values logged at serving time, not recomputed ones.", RECOMPUTED, True),
        # Keeping what a red flag takes away rejects it, unless the sentence also takes something away
        # or negates the keeping (found on the test case video_search_concise_1, whose "BM25 stays"
        # was capped as replacing BM25).
        ("BM25 stays, since dense vectors blur rare tokens: channel names, new slang.", BM25, True),
        ("We keep BM25 for exact matches and add a dense retriever next to it.", BM25, True),
        ("We replace BM25 with a dense retriever and keep the old index as a cache.", BM25, False),
        ("BM25 doesn't stay; the embedding model handles every query.", BM25, False),
        ("The old model stays on 95% of traffic while the new one gets 5%.", ALL_AT_ONCE, True),
        ("We keep the popular items and drop the ones with few interactions.", FEW_INTERACTIONS, False),
        ("I'd keep items with few interactions, since those are the new ones.", FEW_INTERACTIONS, True),
    ],
)
def test_rules_beyond_the_fixtures(sentence: str, red_flag: str, rejected: bool) -> None:
    assert rejects(sentence, red_flag) is rejected
