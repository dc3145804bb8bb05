"""Whether an interviewer's reply counts as a challenge of a labelled wrong claim."""

from __future__ import annotations

from typing import Any

from evals.replay import challenged

ANSWER = (
    "Offline, I'd check the classification accuracy of the model on a test set of product images, "
    "and if it's above 90% the features should be good. Then we ship it to everyone."
)
CLAIM = "if it's above 90% the features should be good"
CUT = "I'd check the classification accuracy of the model on a test set of product images, and if it's ..."


def _challenge(*quotes: str, kind: str = "challenge") -> Any:
    return {"role": "interviewer", "kind": kind, "text": "...", "quotes": list(quotes)}


def test_a_challenge_quoting_the_claims_words_counts() -> None:
    assert challenged(CLAIM, _challenge("if it's above 90% the features should be good"), ANSWER)


def test_an_excerpt_cut_short_stands_for_the_rest_of_its_sentence() -> None:
    assert challenged(CLAIM, _challenge(CUT), ANSWER)
    # Without the answer there is no sentence to extend into: the excerpt alone misses the claim.
    assert not challenged(CLAIM, _challenge(CUT), "")


def test_a_cut_excerpt_does_not_reach_into_the_next_sentence() -> None:
    assert not challenged("Then we ship it to everyone", _challenge(CUT), ANSWER)


def test_a_whole_quote_of_another_sentence_or_a_follow_up_does_not_count() -> None:
    assert not challenged(CLAIM, _challenge("Then we ship it to everyone"), ANSWER)
    assert not challenged(CLAIM, _challenge(CLAIM, kind="followup"), ANSWER)
    assert not challenged(CLAIM, None, ANSWER)
