"""Does the dataset sound like candidates? Words per label, and wording shared with the rubrics.

A grader tuned on answers that reuse the rubric's own sentences learns to reward the rubric's
wording, and a dataset whose strong answers are its longest learns to reward length. This check
reports, per human label, the mean words per answer and the longest run of words any answer
shares with a rubric text, and names every answer that copies a run of COPY_WORDS or more.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from evals.dataset import Case

#: An answer sharing a run of this many words with a rubric text copies its wording.
COPY_WORDS = 8
#: Runs longer than this are reported as this long.
MAX_RUN = 16
_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _grams(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def rubric_texts(rubrics_dir: Path) -> list[str]:
    """The text of every rubric file (phases and overlays)."""
    return [p.read_text(encoding="utf-8") for p in sorted(rubrics_dir.rglob("*.yaml"))]


@dataclass(frozen=True)
class WordingReport:
    """Per label: answers, mean words and the longest run shared with a rubric; and the copies."""

    by_label: dict[int, tuple[int, float, int]]
    copies: list[tuple[str, str, int, str]]  # case, phase, answer index, the shared run


def _longest_run(words: list[str], reference: dict[int, set[tuple[str, ...]]]) -> int:
    """The longest run of words also found in a reference text (0 below the shortest length kept)."""
    longest = 0
    for n, grams in sorted(reference.items()):
        if not _grams(words, n) & grams:
            break
        longest = n
    return longest


def copied_runs(text: str, references: Iterable[str]) -> list[str]:
    """Runs of COPY_WORDS or more words the text shares with any reference text."""
    grams = set().union(set(), *(_grams(_words(t), COPY_WORDS) for t in references))
    return sorted(" ".join(g) for g in _grams(_words(text), COPY_WORDS) & grams)


def wording_report(cases: Iterable[Case], references: Iterable[str]) -> WordingReport:
    """Check every labelled phase's answers against the reference texts."""
    reference_words = [_words(t) for t in references]
    runs = {n: set().union(set(), *(_grams(w, n) for w in reference_words)) for n in range(4, MAX_RUN + 1)}
    stats: dict[int, list[tuple[int, int]]] = {}
    copies = []
    for case in cases:
        for phase, answers in case.answers.items():
            label = case.labels.phases.get(phase)
            for index, answer in enumerate(answers):
                words = _words(answer)
                shared = _grams(words, COPY_WORDS) & runs[COPY_WORDS]
                if shared:
                    copies.append((case.id, phase, index, " ".join(sorted(shared)[0])))
                if label is not None:
                    run = _longest_run(words, runs)
                    stats.setdefault(label, []).append((len(answer.split()), run))
    by_label = {
        label: (len(rows), sum(w for w, _ in rows) / len(rows), max(r for _, r in rows))
        for label, rows in sorted(stats.items())
    }
    return WordingReport(by_label, copies)
