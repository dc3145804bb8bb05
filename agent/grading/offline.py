"""The offline grader: rubric evidence signals matched by meaning, plus checks for substance.

For each criterion of the phase rubric, every evidence statement is compared with every sentence
of the answer (cosine similarity of MiniLM embeddings). A statement counts as covered when some
sentence is close enough to it; that sentence becomes the verbatim evidence quote. Coverage earns
the score only when the covering sentences carry substance (numbers, reasons, trade-offs), so a
string of buzzwords, a long vague answer, an off-topic answer and text addressed to the grader
all stay low. Thresholds live in :class:`GraderSettings` and are tuned on the dev split only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from agent.content.schemas import Criterion
from agent.grading.models import AnswerGrade, CriterionGrade
from agent.grading.sentences import Sentence, clause_spans, split_sentences, word_count
from agent.search.embedding import Embedder

_VAGUE = (
    "best practices",
    "make sure",
    "it depends",
    "various",
    "appropriate",
    "robust",
    "leverage",
    "state-of-the-art",
    "state of the art",
    "optimal",
    "as needed",
    "relevant",
    "ensure",
    "high quality",
    "high-quality",
    "scalable",
    "holistic",
    "comprehensive",
    "cutting-edge",
    "industry standard",
    "all the important",
    "the right",
    "good enough",
    "and so on",
    "etc",
)


@dataclass(frozen=True)
class GraderSettings:
    """The offline grader's thresholds (cosine similarities and counts)."""

    # Tuned on the dev split of tests/fixtures/graded_answers.yaml only (see tests/grading).
    match: float = 0.44  # a sentence covers an evidence statement
    red_flag: float = 0.62  # a sentence says what a red flag describes
    max_quotes: int = 3
    mention_credit: float = 0.4  # credit for a covering sentence with no number, reason or trade-off
    solid_credit: float = 1.8  # credit for a 3 ...
    strong_credit: float = 2.0  # ... and for a 4, which also needs two kinds of substance
    strong_ideas: int = 2  # distinct evidence statements a 4 must cover
    stuffing_share: float = 0.5  # share of the answer's words in term lists that marks keyword stuffing
    vague_min_words: int = 90  # answers shorter than this are never called vague
    vague_max_substance: float = 0.3  # ... and are vague when at most this share of sentences has substance


@dataclass
class _Bank:
    """Embeddings of rubric statements, computed once per text."""

    embedder: Embedder
    cache: dict[str, np.ndarray] = field(default_factory=dict)

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            for text, vector in zip(missing, self.embedder.embed(missing), strict=True):
                self.cache[text] = vector
        return np.stack([self.cache[t] for t in texts]) if texts else np.zeros((0, 384), dtype=np.float32)


def _label(statement: str, words: int = 8) -> str:
    """A short label for an evidence statement, for the one-line rationale."""
    parts = statement.rstrip(".").split()
    return " ".join(parts[:words]) + ("..." if len(parts) > words else "")


class OfflineGrader:
    """Grades answers against rubric criteria with the embedding model and substance checks."""

    engine = "offline"

    def __init__(self, embedder: Embedder, settings: GraderSettings | None = None) -> None:
        self.embedder = embedder
        self.settings = settings or GraderSettings()
        self._bank = _Bank(embedder)

    def grade(self, phase: str, criteria: Sequence[Criterion], answer: str) -> AnswerGrade:
        """Grade one answer against the criteria of a phase rubric (with any problem overlay applied)."""
        sentences = split_sentences(answer)
        usable = [s for s in sentences if not s.injection and not s.question]
        flags = self._answer_flags(answer, sentences, usable)
        vectors = self._span_vectors(usable) if usable else None
        grades = [self._grade_criterion(c, usable, vectors, flags) for c in criteria]
        return AnswerGrade(phase=phase, criteria=grades, engine=self.engine, flags=sorted(flags))

    def _span_vectors(self, usable: list[Sentence]) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings of each sentence and of its clause_spans, with where each sentence's spans start.

        A dense sentence carries several ideas; its clauses are matched on their own too, and a
        sentence's similarity to a statement is the best of its spans.
        """
        per_sentence = self._sentence_rows(usable)
        starts = np.cumsum([0] + [len(r) for r in per_sentence[:-1]])
        return np.concatenate(per_sentence), starts

    def _sentence_rows(self, usable: list[Sentence]) -> list[np.ndarray]:
        """For each sentence, its vector and its clauses' vectors (rows), one model pass per sentence.

        Sharing a pass between neighbouring sentences would be cheaper, but the pooled vectors then
        carry their neighbours' meaning: on the eval suite, windows of 60 words cost 0.04 of QWK and
        windows of 120 words 0.15, so each sentence is embedded on its own.
        """
        texts = [s.text for s in usable]
        return self.embedder.embed_with_parts(texts, [clause_spans(t) for t in texts])

    def statement_vectors(self, statements: Sequence[str]) -> np.ndarray:
        """Embeddings of fixed statements (rubric signals, clarifying questions), cached per text."""
        return self._bank.vectors(statements)

    def sentence_vectors(self, answer: str) -> tuple[list[Sentence], np.ndarray]:
        """The answer's usable sentences and their embeddings (for topic and follow-up matching)."""
        usable = [s for s in split_sentences(answer) if not s.injection]
        if not usable:
            return usable, np.zeros((0, 384), dtype=np.float32)
        return usable, np.stack([rows[0] for rows in self._sentence_rows(usable)])

    # ------------------------------------------------------------------ answer-level checks

    def _answer_flags(self, answer: str, sentences: list[Sentence], usable: list[Sentence]) -> set[str]:
        flags: set[str] = set()
        if any(s.injection for s in sentences):
            flags.add("injection")
        words = max(word_count(answer), 1)
        listed = sum(s.words for s in usable if s.list_like)
        reasoned = sum(1 for s in usable if s.has_reason or s.has_tradeoff)
        if listed / words >= self.settings.stuffing_share and reasoned < 2:
            flags.add("stuffing")
        if words >= self.settings.vague_min_words and usable:
            substance = sum(1 for s in usable if s.substantive) / len(usable)
            filler = sum(answer.lower().count(v) for v in _VAGUE)
            if substance <= self.settings.vague_max_substance or filler >= max(3, len(usable) // 2):
                flags.add("vague")
        return flags

    # ------------------------------------------------------------------ per criterion

    def _grade_criterion(
        self,
        criterion: Criterion,
        usable: list[Sentence],
        vectors: tuple[np.ndarray, np.ndarray] | None,
        flags: set[str],
    ) -> CriterionGrade:
        settings = self.settings
        if vectors is None or not usable:
            return CriterionGrade(
                id=criterion.id, score=None, evidence=[], rationale="No usable answer text."
            )
        span_vectors, starts = vectors
        # Per statement and sentence: the best similarity over the sentence's spans.
        evidence_sim = np.maximum.reduceat(
            self._bank.vectors(criterion.evidence) @ span_vectors.T, starts, axis=1
        )
        red_sim = np.maximum.reduceat(
            self._bank.vectors(criterion.red_flags) @ span_vectors.T, starts, axis=1
        )

        covered: list[tuple[str, int, float]] = []  # (statement, sentence index, similarity)
        for statement, row in zip(criterion.evidence, evidence_sim, strict=True):
            best = int(np.argmax(row))
            if row[best] >= settings.match:
                covered.append((statement, best, float(row[best])))
        red_hits = [
            (statement, int(np.argmax(row)))
            for statement, row in zip(criterion.red_flags, red_sim, strict=True)
            if float(np.max(row)) >= settings.red_flag
        ]
        if not covered and not red_hits:
            return CriterionGrade(
                id=criterion.id, score=None, evidence=[], rationale="Insufficient evidence: not addressed."
            )

        # Each supporting sentence counts once; substance turns a mention into credit.
        supporting = sorted(
            {i for _, i, _ in covered}, key=lambda i: -max(s for _, j, s in covered if j == i)
        )
        credit = 0.0
        for i in supporting:
            ideas = sum(1 for _, j, _ in covered if j == i)
            weight = 1.0 if usable[i].substantive else settings.mention_credit
            credit += weight * min(ideas, 2) * (0.75 if ideas > 1 else 1.0)
        kinds = {
            kind
            for i in supporting
            for kind, present in (
                ("numbers", usable[i].has_number),
                ("reasons", usable[i].has_reason),
                ("trade-offs", usable[i].has_tradeoff),
            )
            if present
        }
        distinct = len(covered)
        if distinct >= settings.strong_ideas and credit >= settings.strong_credit and len(kinds) >= 2:
            score = 4
        elif credit >= settings.solid_credit or (credit >= 1 and len(kinds) >= 2):
            score = 3
        elif covered:
            score = 2
        else:
            score = 1

        caps: list[str] = []
        if red_hits:
            caps.append(f"red flag: {_label(red_hits[0][0], 10)}")
        for flag, why in (
            ("injection", "text addressed to the grader"),
            ("stuffing", "terms listed without reasoning"),
            ("vague", "long but unspecific"),
        ):
            if flag in flags:
                caps.append(why)
        if caps:
            score = min(score, 2)

        quotes = [usable[i].text for i in supporting[: settings.max_quotes]]
        if red_hits and not quotes:
            quotes = [usable[red_hits[0][1]].text]
        covers = "; ".join(_label(s) for s, _, _ in sorted(covered, key=lambda c: -c[2])[:3])
        detail = f"with {', '.join(sorted(kinds))}" if kinds else "without numbers, reasons or trade-offs"
        rationale = (
            f"Covers {distinct} of {len(criterion.evidence)} signals ({covers}) {detail}" if covered else ""
        )
        rationale = "; ".join(p for p in [rationale, *(f"capped: {c}" for c in caps)] if p) + "."
        return CriterionGrade(id=criterion.id, score=float(score), evidence=quotes, rationale=rationale)
