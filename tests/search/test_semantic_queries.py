"""Search finds topics by meaning, not by words: paraphrases that avoid each topic's own words."""

from __future__ import annotations

import re

import pytest

from agent.ids import TOPICS
from agent.search.index import KnowledgeIndex

pytestmark = pytest.mark.real

# (query in plain words, the topic it is about). None of the queries uses the words of its topic id.
PARAPHRASES: list[tuple[str, str]] = [
    ("someone who signed up five minutes ago and has watched nothing", "cold_start"),
    ("a listing that was published this morning has no bookings or views yet", "cold_start"),
    ("items shown at the top of the page get clicked more no matter how good they are", "position_bias"),
    ("only one transaction in a thousand turns out to be bad, the rest are fine", "class_imbalance"),
    ("we only find out that a purchase was disputed weeks after it happened", "delayed_labels"),
    ("a column in the training table was filled in after the outcome was already known", "data_leakage"),
    (
        "the nightly batch job computes a number one way and the request path computes it another way",
        "training_serving_skew",
    ),
    ("the model says five percent will click but in reality twelve percent of them did", "calibration"),
    (
        "we only learn from what we chose to show, so today's choices shape tomorrow's training examples",
        "feedback_loop",
    ),
    (
        "occasionally show something we are unsure about so we find out whether people like it",
        "exploration_exploitation",
    ),
    ("scammers change their tactics as soon as they notice they are being blocked", "adversarial_actors"),
    (
        "user behaviour changed after the holiday season and predictions got steadily worse",
        "distribution_shift",
    ),
    (
        "the network is too big to answer within the time limit on a phone, how do we shrink it",
        "model_compression",
    ),
    ("send a random half of users to the new version and compare them with the old one", "ab_testing"),
    (
        "the new version looked better on held-out logs but people engaged less after launch",
        "offline_online_metrics",
    ),
    (
        "which items count as the ones the user did not want when we train the retrieval step",
        "negative_sampling",
    ),
    (
        "narrow billions of items down to a few hundred cheaply, then score those few carefully",
        "multi_stage_ranking",
    ),
    ("human annotators disagree with each other on a third of the examples", "label_noise"),
    ("our training examples only come from users who opted in to the survey", "sampling_bias"),
    (
        "people can ask us to delete their personal information and we must not store their messages",
        "privacy",
    ),
    ("it works noticeably worse for users from some countries or age groups", "fairness"),
    ("the merchant wants to know why their customer's card payment was declined", "explainability"),
    ("how often should we refresh the model with newer examples, daily or weekly", "retraining"),
    ("the whole response must come back in under 100 milliseconds at the 99th percentile", "latency_budget"),
    ("how many requests per second at peak and how many terabytes of storage do we need", "scale_estimation"),
    (
        "what the company actually wants this product to grow, like revenue or time spent",
        "business_objective",
    ),
    (
        "could a few hand-written if-then heuristics capture most of the value before we train anything",
        "no_ml_baseline",
    ),
    ("turn the product goal into the exact quantity the system is trained to predict", "ml_objective"),
    ("which signals about the user, the item and the context should we feed in", "feature_engineering"),
    ("should we use gradient boosted trees or a deep neural network here, and why", "model_selection"),
]


# A second set, written before the notes' plain-language `symptoms` existed, kept as a held-out check
# that the search generalises beyond the phrasings the content was written with.
HELD_OUT: list[tuple[str, str]] = [
    ("we just opened in Brazil and have zero interaction logs there", "cold_start"),
    (
        "the first result gets ten times the clicks of the fifth even when both are equally relevant",
        "position_bias",
    ),
    ("harmful posts are maybe 0.05% of everything that gets uploaded", "class_imbalance"),
    ("we learn whether the conversion happened only up to 30 days after the ad was shown", "delayed_labels"),
    ("validation accuracy is 99% because one input is derived from the answer itself", "data_leakage"),
    (
        "online we compute the user's 30-day purchase count in real time, "
        "but offline it came from a warehouse snapshot",
        "training_serving_skew",
    ),
    (
        "we kept only a tenth of the non-clicks for training so now the scores are too high for the auction",
        "calibration",
    ),
    (
        "recommending popular items makes them more popular, and niche items never get a chance",
        "feedback_loop",
    ),
    (
        "reserve a small share of traffic to try items the system has low confidence in",
        "exploration_exploitation",
    ),
    ("fraud rings test stolen cards with tiny purchases to probe our rules", "adversarial_actors"),
    (
        "after the pandemic began, travel searches collapsed and the inputs looked nothing like last year",
        "distribution_shift",
    ),
    (
        "make the ranking network four times smaller with little loss so it fits on the device",
        "model_compression",
    ),
    ("how long should the experiment run and how many users do we need to detect a 1% lift", "ab_testing"),
    (
        "which numbers do we check before launch and which after launch, and do they agree",
        "offline_online_metrics",
    ),
    (
        "users only give us clicks, so what do we use as examples of things they did not like",
        "negative_sampling",
    ),
    (
        "a cheap first pass over the whole catalogue followed by a heavier scorer on the shortlist",
        "multi_stage_ranking",
    ),
    ("crowd workers get about one in ten images wrong", "label_noise"),
    ("we only observe outcomes for loans we approved, never for the ones we rejected", "sampling_bias"),
    (
        "we may not read people's direct messages, and personal records must be deleted after 90 days",
        "privacy",
    ),
    ("creators from smaller countries get far less exposure than similar creators from the US", "fairness"),
    ("moderators need to see why a post was flagged before they can take it down", "explainability"),
    ("the system was trained once last year and has never been updated since", "retraining"),
    ("each stage of the pipeline gets only a slice of the 200 millisecond total", "latency_budget"),
    ("back of the envelope: 500 million users each open the app five times a day", "scale_estimation"),
    ("leadership cares about subscription renewals, not clicks", "business_objective"),
    ("start by sorting by most recent or most popular and see how far that gets us", "no_ml_baseline"),
    ("should we predict the click, the watch time, or a weighted mix of likes and shares", "ml_objective"),
    (
        "turn raw timestamps and prices into useful inputs, "
        "like hour of day or price relative to the neighbourhood",
        "feature_engineering",
    ),
    (
        "logistic regression first, then try a deep cross network if we have enough examples",
        "model_selection",
    ),
]
ALL_QUERIES = PARAPHRASES + HELD_OUT


def _topic_words(topic: str) -> list[str]:
    return [w[:5] for w in topic.split("_") if len(w) >= 3]


@pytest.mark.parametrize(("query", "topic"), ALL_QUERIES)
def test_query_avoids_the_topic_words(query: str, topic: str) -> None:
    """Guard the test itself: a query that names its topic would test word matching, not meaning."""
    words = re.findall(r"[a-z]+", query.lower())
    for stem in _topic_words(topic):
        assert not any(w.startswith(stem) for w in words), f"{query!r} uses a word of {topic!r}"


def test_paraphrases_cover_enough_topics() -> None:
    assert len(PARAPHRASES) >= 20 and len(HELD_OUT) >= 20
    assert {t for _, t in PARAPHRASES} == set(TOPICS) == {t for _, t in HELD_OUT}


@pytest.mark.parametrize("queries", [PARAPHRASES, HELD_OUT], ids=["paraphrases", "held-out"])
def test_hit_at_3_over_paraphrased_queries(index: KnowledgeIndex, queries: list[tuple[str, str]]) -> None:
    """At least 80% of the queries have their topic among the top 3 results of a plain search."""
    misses = []
    for query, topic in queries:
        top = [hit.topic for hit in index.search(query, k=3)]
        if topic not in top:
            misses.append(f"{topic}: {query!r} -> {top}")
    hit_rate = 1 - len(misses) / len(queries)
    print(f"hit@3 = {hit_rate:.3f} over {len(queries)} queries; misses: {misses}")
    assert hit_rate >= 0.8, "\n".join(misses)
