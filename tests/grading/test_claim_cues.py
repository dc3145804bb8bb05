"""Claim cues: the usual wordings of a red flag that meaning alone misses, read with their negations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.grading.offline import stated_by_cue
from agent.grading.sentences import split_sentences

PAIRS = Path(__file__).resolve().parents[1] / "fixtures" / "claim_cue_pairs.yaml"


def _cases() -> list[tuple[str, str, str, str, bool]]:
    rows = []
    for item in yaml.safe_load(PAIRS.read_text(encoding="utf-8")):
        for kind in ("asserts", "rejects"):
            for text in item.get(kind, []):
                rows.append((item["problem"], item["phase"], item["flag"], text, kind == "asserts"))
    return rows


def _stated(kb: Any, problem: str, phase: str, text: str) -> list[str]:
    found = [stated_by_cue(c, text) for c in kb.rubric_for(problem, phase)]
    return [flag for flag, _ in filter(None, found)]


@pytest.mark.parametrize(("problem", "phase", "flag", "text", "asserted"), _cases())
def test_a_cued_claim_is_found_only_when_the_sentence_states_it(
    kb: Any, problem: str, phase: str, flag: str, text: str, asserted: bool
) -> None:
    assert (flag in _stated(kb, problem, phase, text)) == asserted


def test_every_fixture_flag_has_cues_in_its_rubric(kb: Any) -> None:
    for item in yaml.safe_load(PAIRS.read_text(encoding="utf-8")):
        cued = {f for c in kb.rubric_for(item["problem"], item["phase"]) for f in c.claim_cues}
        assert item["flag"] in cued, item["flag"]


def test_the_claim_is_quoted_from_its_own_clause(kb: Any) -> None:
    text = "With this much traffic it evens out, so I'd take clicks as the labels: not clicked is negative."
    stated = [s for c in kb.rubric_for("video_search", "data_preparation") if (s := stated_by_cue(c, text))]
    assert stated, "the clause states the claim; the 'not' of the next clause does not reject it"
    _, at = stated[0]
    assert text[at:].startswith("so I'd take clicks as the labels")


def test_a_question_or_a_rejection_in_the_same_clause_is_no_claim(kb: Any) -> None:
    assert not _stated(kb, "payment_fraud_detection", "evaluation", "We will not split randomly.")
    assert _stated(kb, "payment_fraud_detection", "evaluation", "We will split randomly.")


def test_no_cue_fires_on_the_knowledge_bases_own_strong_answers(kb: Any) -> None:
    """A cued claim caps a criterion, so a cue that matches sound text would cap a strong candidate:
    every sentence of each problem's strong design and model answers must pass every cue."""
    hits = []
    for problem in kb.problems:
        note = kb.problem_note(problem)
        for phase in kb.rubrics:
            texts = [*note.strong_design.get(phase, []), *filter(None, [note.model_answers.get(phase)])]
            criteria = kb.rubric_for(problem, phase)
            for text in texts:
                for sentence in split_sentences(text):
                    hits += [
                        (problem, phase, s[0]) for c in criteria if (s := stated_by_cue(c, sentence.text))
                    ]
    assert hits == []
