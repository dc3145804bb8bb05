"""Which of a problem's known facts answers each clarifying question in a candidate's message.

A question is compared with each clarification's question (and the other wordings the note gives for
it, `asked_as`: the closest counts) *and* its answer (the answer carries the facts a candidate asks
about in their own words: "how long until we learn it was fraud" shares little with "where do the
labels come from" but much with "half arrive within about 30 days"). The questions
of one message are then matched to clarifications jointly, choosing the assignment with the most
total similarity above the threshold, so that a compound message does not hand the best-matching fact
to the first question that comes close to it; a fact may answer two questions at a cost. The blend,
the contrast, the threshold and that cost are fitted on the dev split of `evals/clarifications.yaml`
by `python -m evals.fit_clarifications` and live in `clarification_params.json`.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from agent.content.schemas import Clarification
from agent.grading.negation import content_stems

PARAMS_PATH = Path(__file__).with_name("clarification_params.json")
#: Questions of one message that get an answer; more are left for the next turn.
MAX_QUESTIONS = 4


class MatchParams(BaseModel):
    """How questions are matched to clarifications. Written by `python -m evals.fit_clarifications`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    answer_weight: float = Field(
        ge=0, le=1, description="weight of the answer's similarity (vs the question's)"
    )
    word_weight: float = Field(
        default=0.0,
        ge=0,
        description="weight of the content words the question shares with the clarification (0-1)",
    )
    contrast: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="share of the question's mean score on the problem's other clarifications taken off",
    )
    threshold: float = Field(description="blended similarity a match needs")
    repeat_cost: float | None = Field(
        default=None,
        ge=0,
        description="what a fact answering a second question of one message costs (null: never twice)",
    )
    fitted: dict[str, object] = Field(default_factory=dict, description="how and on what it was fitted")


def load_params(path: Path = PARAMS_PATH) -> MatchParams:
    """The committed matching parameters."""
    return MatchParams.model_validate(json.loads(path.read_text(encoding="utf-8")))


def word_overlap(asked: Sequence[str], clarifications: Sequence[str]) -> np.ndarray:
    """Per asked question (rows) and clarification (columns), the share of the shorter text's content
    word stems the two have in common: "peak QPS?" and "... 40k queries per second at peak" share
    "peak" where a small embedding model sees little in common."""
    known = [set(content_stems(text)) for text in clarifications]
    rows = []
    for question in asked:
        words = set(content_stems(question))
        rows.append([len(words & k) / min(len(words), len(k)) if words and k else 0.0 for k in known])
    return np.array(rows, dtype=np.float32).reshape(len(asked), len(clarifications))


@dataclass(frozen=True)
class Similarities:
    """Per asked question (rows) and clarification (columns): how close the question is to the
    clarification's closest wording, to its answer, and how many content words they share."""

    to_questions: np.ndarray
    to_answers: np.ndarray
    words: np.ndarray


def similarities(
    asked: Sequence[str],
    asked_vectors: np.ndarray,
    clarifications: Sequence[Clarification],
    vectors: Callable[[list[str]], np.ndarray],
) -> Similarities:
    """The similarities `blend` scores, for the questions `asked` (embedded as `asked_vectors`) and a
    problem's clarifications; `vectors` embeds fixed texts (cached by the grader)."""
    wordings = [[c.question, *c.asked_as] for c in clarifications]
    flat = [w for ws in wordings for w in ws]
    to_wordings = asked_vectors @ vectors(flat).T if flat else np.zeros((len(asked), 0))
    columns, start = [], 0
    for ws in wordings:
        columns.append(to_wordings[:, start : start + len(ws)].max(axis=1))
        start += len(ws)
    to_questions = np.stack(columns, axis=1) if columns else np.zeros((len(asked), 0))
    return Similarities(
        to_questions=to_questions,
        to_answers=asked_vectors @ vectors([c.answer for c in clarifications]).T,
        words=word_overlap(asked, [f"{c.question} {c.answer}" for c in clarifications]),
    )


def blend(
    to_questions: np.ndarray, to_answers: np.ndarray, params: MatchParams, overlap: np.ndarray | None = None
) -> np.ndarray:
    """The one matching score: meaning (similarity to the clarification's question and to its answer)
    plus the words the two share (`word_overlap`), less a share of how well the question matches the
    problem's other clarifications on average: a question outside the note ("how many engineers are
    on the team?") sits moderately close to many facts, while one the note answers stands out."""
    w = params.answer_weight
    blended: np.ndarray = (1 - w) * to_questions + w * to_answers
    if overlap is not None and params.word_weight:
        blended = blended + params.word_weight * overlap
    columns = blended.shape[1] if blended.ndim == 2 else 0
    if params.contrast and columns > 1:
        others = (blended.sum(axis=1, keepdims=True) - blended) / (columns - 1)
        blended = blended - params.contrast * others
    return blended


def assign(scores: np.ndarray, threshold: float, repeat_cost: float | None = None) -> list[int | None]:
    """The assignment of questions (rows) to clarifications (columns) with the most total similarity
    above the threshold; None where no clarification answers a question.

    One fact may answer two questions of a message ("how many products, and does each have several
    photos?"), but each further question it answers costs `repeat_cost` of its similarity, so that a
    fact close to every question does not crowd out the one another question asked for; None allows
    no repeats. Exhaustive over at most MAX_QUESTIONS questions: a few thousand combinations at most,
    well under a millisecond, and exact where a greedy pass is not.
    """
    rows = scores[:MAX_QUESTIONS]
    options = [
        [None, *(j for j in range(rows.shape[1]) if rows[i, j] >= threshold)] for i in range(len(rows))
    ]
    best: tuple[float, list[int | None]] = (-1.0, [None] * len(rows))
    for choice in itertools.product(*options):
        used = [j for j in choice if j is not None]
        repeats = len(used) - len(set(used))
        if repeats and repeat_cost is None:
            continue
        gain = sum(float(rows[i, j]) - threshold for i, j in enumerate(choice) if j is not None)
        gain -= repeats * (repeat_cost or 0.0)
        if gain > best[0]:
            best = (gain, list(choice))
    return best[1]


def match(
    asked: Sequence[str],
    asked_vectors: np.ndarray,
    clarifications: Sequence[Clarification],
    vectors: Callable[[list[str]], np.ndarray],
    params: MatchParams,
) -> list[int | None]:
    """For each asked question, the index of the clarification answering it, or None."""
    if not len(asked) or not clarifications:
        return [None] * min(len(asked), MAX_QUESTIONS)
    found = similarities(asked, asked_vectors, clarifications, vectors)
    scores = blend(found.to_questions, found.to_answers, params, found.words)
    return assign(scores, params.threshold, params.repeat_cost)


def by_fact(answers: Sequence[tuple[str, str]]) -> list[tuple[list[str], str]]:
    """A message's answered questions grouped by the fact that answers them, in the order asked, so
    that a fact answering two questions is said once; each question without a fact stands alone."""
    groups: list[tuple[list[str], str]] = []
    for question, answer in answers:
        same = next((g for g in groups if answer and g[1] == answer), None)
        if same is None:
            groups.append(([question], answer))
        else:
            same[0].append(question)
    return groups


def learned_facts(turns: Iterable[Mapping[str, object]]) -> list[str]:
    """The problem's facts the interviewer has stated so far, in the order given, each once."""
    facts: dict[str, None] = {}
    for turn in turns:
        given = turn.get("facts")
        if isinstance(given, list):
            facts.update(dict.fromkeys(f for f in given if isinstance(f, str)))
    return list(facts)
