"""Fit how clarifying questions are matched to a problem's facts, on the dev split, and report test.

    python -m evals.fit_clarifications

Reads `evals/clarifications.yaml` (candidate messages whose questions are labelled with the
clarification that answers each, or null), grid-searches the blend of question and answer similarity,
the weight of the words a question shares with a clarification, the contrast with the problem's
other clarifications, the threshold and the cost of one fact answering two questions on the dev
messages, and writes `agent/clarification_params.json`. The criterion
counts a right outcome (the right fact, or none where the note has none) as +1 and a wrong fact as -1:
a wrong fact misleads the candidate, while "state an assumption" for a fact the note has only costs
a moment (0).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from agent.clarifications import (
    MAX_QUESTIONS,
    PARAMS_PATH,
    MatchParams,
    assign,
    blend,
    load_params,
    similarities,
)
from agent.config import Settings
from agent.errors import ContentError
from agent.session import Toolkit
from evals.results import ClarificationMetrics

DATASET = Path(__file__).resolve().parent / "clarifications.yaml"
WEIGHTS = (0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
WORD_WEIGHTS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8)
CONTRASTS = (0.0, 0.25, 0.5, 0.75, 1.0)
# Low enough for the contrasted scores, which sit below the raw ones.
THRESHOLDS = tuple(round(0.05 + 0.025 * i, 3) for i in range(19))
REPEAT_COSTS = (None, 0.2, 0.1, 0.05, 0.0)  # None: one fact never answers two questions of a message
GRID = (WEIGHTS, WORD_WEIGHTS, CONTRASTS, THRESHOLDS, REPEAT_COSTS)


@dataclass(frozen=True)
class Message:
    """One labelled message: its split, the expected clarification per question, the similarities."""

    split: str
    expected: list[int | None]
    to_questions: np.ndarray  # asked x clarifications (the closest wording of each)
    to_answers: np.ndarray
    words: np.ndarray  # asked x clarifications: shared content words


@dataclass(frozen=True)
class Score:
    """How a matcher did on a set of messages."""

    questions: int
    accuracy: float
    wrong_facts: float  # of the answers given, the share that were the wrong fact
    utility: float  # (right outcomes - wrong facts) / questions


def load_messages(toolkit: Toolkit, path: Path = DATASET) -> list[Message]:
    """The labelled messages with their similarities under the toolkit's embedding model."""
    vectors = toolkit.grader.statement_vectors
    messages = []
    for i, item in enumerate(yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]):
        asked = [q["text"] for q in item["questions"]]
        if item["problem"] not in toolkit.kb.problems:
            raise ContentError(path, f"messages.{i}.problem", f"{item['problem']!r} has no problem note")
        clarifications = toolkit.kb.problem_note(item["problem"]).clarifications
        for j, q in enumerate(item["questions"]):
            if q["expect"] is not None and not 0 <= q["expect"] < len(clarifications):
                raise ContentError(
                    path,
                    f"messages.{i}.questions.{j}.expect",
                    f"clarification {q['expect']} of {item['problem']}, whose note has "
                    f"{len(clarifications)}; relabel it after adding or removing one",
                )
        found = similarities(asked, vectors(asked), clarifications, vectors)
        messages.append(
            Message(
                split=item["split"],
                expected=[q["expect"] for q in item["questions"]],
                to_questions=found.to_questions,
                to_answers=found.to_answers,
                words=found.words,
            )
        )
    return messages


def evaluate(messages: list[Message], params: MatchParams, split: str) -> Score:
    """Accuracy and wrong-fact rate of a matcher on one split."""
    right = total = given = wrong = 0
    for m in (m for m in messages if m.split == split):
        scores = blend(m.to_questions, m.to_answers, params, m.words)
        chosen = assign(scores, params.threshold, params.repeat_cost)
        for got, want in zip(chosen, m.expected, strict=False):
            total += 1
            right += got == want
            given += got is not None
            wrong += got is not None and got != want
    if not total:
        return Score(0, float("nan"), 0.0, float("nan"))
    return Score(total, right / total, wrong / given if given else 0.0, (right - wrong) / total)


def clarification_metrics(toolkit: Toolkit, path: Path = DATASET) -> dict[str, ClarificationMetrics]:
    """The committed matcher's accuracy and wrong-fact rate per split, for `mlsd eval` and its gate."""
    messages = load_messages(toolkit, path)
    params = load_params()
    metrics = {}
    for split in ("dev", "test"):
        score = evaluate(messages, params, split)
        metrics[split] = ClarificationMetrics(
            questions=score.questions, accuracy=score.accuracy, wrong_facts=score.wrong_facts
        )
    return metrics


def fit(messages: list[Message]) -> MatchParams:
    """The matcher with the best dev utility; among ties (many settings tie), the one whose grid
    neighbours do best too, so that the choice sits inside a good region rather than on its edge;
    then higher accuracy."""
    shape = [len(axis) for axis in GRID]
    right = np.zeros(shape)
    wrong = np.zeros(shape)
    dev = [m for m in messages if m.split == "dev"]
    total = sum(len(m.expected) for m in dev)
    for m in dev:
        combos = Combos.of(m)
        for w, ww, c in np.ndindex(*shape[:3]):
            scores = blend(m.to_questions, m.to_answers, _params_at((w, ww, c, 0, 0)), m.words)
            got_right, got_wrong = combos.outcomes(scores[:MAX_QUESTIONS])
            right[w, ww, c] += got_right
            wrong[w, ww, c] += got_wrong
    utility = np.round((right - wrong) / total, 6)
    accuracy = right / total
    best = max(
        np.ndindex(utility.shape),
        key=lambda i: (utility[i], _neighbourhood(utility, i), accuracy[i]),
    )
    return _params_at(best)


@dataclass(frozen=True)
class Combos:
    """Every way to answer one message's questions (a clarification or none each), in the order
    `assign` tries them, to score the whole threshold and repeat-cost grid at once."""

    choice: np.ndarray  # combos x questions: a clarification's index, -1 for none
    repeats: np.ndarray  # combos: questions answered by a fact that answers an earlier one too
    correct: np.ndarray  # combos: questions given their expected outcome
    mistaken: np.ndarray  # combos: questions given a fact that is not theirs

    @staticmethod
    def of(message: Message) -> Combos:
        """All the combos of a labelled message."""
        asked, facts = message.to_questions[:MAX_QUESTIONS].shape
        choice = np.array(list(itertools.product(range(-1, facts), repeat=asked)), dtype=int)
        chosen = choice >= 0
        used = [[j for j in row if j >= 0] for row in choice]
        expected = np.array([-1 if e is None else e for e in message.expected[:asked]])
        return Combos(
            choice=choice,
            repeats=np.array([len(u) - len(set(u)) for u in used]),
            correct=(choice == expected).sum(axis=1),
            mistaken=(chosen & (choice != expected)).sum(axis=1),
        )

    def outcomes(self, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Right and wrong answers per (threshold, repeat cost) of the grid, as `assign` chooses
        (argmax takes the first best combo, as `assign` keeps the first)."""
        chosen = self.choice >= 0
        rows = np.arange(scores.shape[0])
        values = np.where(chosen, scores[rows, np.maximum(self.choice, 0)], 0.0)
        thresholds = np.array(THRESHOLDS)[:, None, None]
        valid = np.all(~chosen | (values >= thresholds), axis=2)  # thresholds x combos
        gain = np.where(chosen, values - thresholds, 0.0).sum(axis=2)
        costs = np.array([np.inf if c is None else c for c in REPEAT_COSTS])[None, :, None]
        penalty = np.where(self.repeats > 0, costs, 0.0) * np.maximum(self.repeats, 1)  # 1 x costs x combos
        total = np.where(valid[:, None, :], gain[:, None, :] - penalty, -np.inf)
        best = np.argmax(total, axis=2)
        return self.correct[best], self.mistaken[best]


def _params_at(index: tuple[int, ...]) -> MatchParams:
    """The matcher at a point of the grid."""
    weight, words, contrast, threshold, repeat = index
    return MatchParams(
        answer_weight=WEIGHTS[weight],
        word_weight=WORD_WEIGHTS[words],
        contrast=CONTRASTS[contrast],
        threshold=THRESHOLDS[threshold],
        repeat_cost=REPEAT_COSTS[repeat],
    )


def _neighbourhood(values: np.ndarray, index: tuple[int, ...]) -> float:
    """The mean of `values` over the grid points at most one step from `index` on every axis."""
    window = tuple(slice(max(i - 1, 0), i + 2) for i in index)
    return float(values[window].mean())


def main(argv: list[str] | None = None) -> int:
    """`python -m evals.fit_clarifications [--home H]`: refit, write the parameters, print dev and test."""
    parser = argparse.ArgumentParser(
        prog="python -m evals.fit_clarifications", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--home", type=Path, help="MLSD_HOME to use (for the embedding cache)")
    args = parser.parse_args(argv)
    from agent.session import load_toolkit

    messages = load_messages(load_toolkit(Settings.from_env(home=args.home)))
    params = fit(messages)
    dev, test = (evaluate(messages, params, s) for s in ("dev", "test"))
    fitted = params.model_copy(
        update={
            "fitted": {
                "command": "python -m evals.fit_clarifications",
                "split": "dev",
                "questions": dev.questions,
                "dev_accuracy": round(dev.accuracy, 4),
                "dev_wrong_facts": round(dev.wrong_facts, 4),
                "dev_utility": round(dev.utility, 4),
            }
        }
    )
    PARAMS_PATH.write_text(json.dumps(fitted.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8")
    for name, score in (("dev", dev), ("test", test)):
        print(
            f"{name}: {score.questions} questions, accuracy {score.accuracy:.3f}, "
            f"wrong facts {score.wrong_facts:.3f} of those answered, utility {score.utility:.3f}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
