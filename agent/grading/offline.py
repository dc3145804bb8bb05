"""The offline grader: rubric evidence matched by meaning, turned into a level by a fitted scorer.

For each criterion of the phase rubric, every evidence statement is compared with every sentence (and
clause) of the answer by cosine similarity of MiniLM embeddings; the problem note's strong-design
statements for the phase count as evidence too, each for the criterion it is closest to. From those
similarities and the covering sentences' substance (numbers, reasons, trade-offs; pointed questions
where asking is the skill) come a few features that do not grow with the answer's length: the best
similarity, the mean of the three best statements, the count and share of statements covered, the
kinds of substance, how many distinct precise things the answer names (numbers, named methods, the
knowledge base's topic terms; capped, so length alone cannot buy it) and how much of the problem
note's strong design for the phase it covers (the knowledge base's picture of strong practice on this
problem, which the generic rubric cannot hold). A small monotone linear scorer maps them to a level
1-4 with cut points; its parameters are fitted on the eval dataset's dev split by `python -m
evals.fit` and live in `offline_params.json` beside this file. Caps (agent.grading.scale) are applied
after the scorer: a red flag the answer asserts (not one it rejects), text addressed to the grader,
keyword stuffing, or long filler (including a long answer that names few precise things per 100
words).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from agent.content.schemas import Criterion
from agent.grading.models import AnswerGrade, CriterionGrade
from agent.grading.scale import CAPPING_FLAGS, capped
from agent.grading.sentences import (
    Sentence,
    clause_spans,
    full_sentences,
    rejects,
    specifics,
    split_sentences,
    term_pattern,
    word_count,
)
from agent.search.embedding import Embedder

if TYPE_CHECKING:
    from agent.content.loader import KnowledgeBase

PARAMS_PATH = Path(__file__).with_name("offline_params.json")
#: Phases where a pointed question is evidence: asking is the skill being graded.
ASKING_PHASES = frozenset({"clarify_requirements"})
#: Names of the scorer's features, in the order of `CriterionFeatures.vector`.
FEATURES = ("best", "top3", "covered", "share", "substance", "support", "density", "specifics", "reference")

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


class ScorerParams(BaseModel):
    """The fitted scorer: thresholds, feature weights (all >= 0, so more evidence never lowers a
    level) and three cut points on the weighted sum. Written by `python -m evals.fit`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    match: float = Field(description="similarity at which a sentence covers an evidence statement")
    red_flag: float = Field(description="similarity at which a sentence states a red flag")
    weights: dict[str, float] = Field(description="per feature, its weight (>= 0)")
    cuts: tuple[float, float, float] = Field(description="weighted sums at which levels 2, 3 and 4 begin")
    max_quotes: int = 3
    max_criteria_per_sentence: int = 2
    stuffing_share: float = 0.5
    vague_min_words: int = 90
    vague_max_substance: float = 0.3
    vague_max_specifics: float = Field(
        default=2.0, description="precise things per 100 words below which a long answer is vague"
    )
    specifics_cap: int = Field(default=16, description="distinct precise things that earn the full feature")
    challenge: float = Field(
        default=0.66, description="similarity at which a stated red flag is challenged (at most `red_flag`)"
    )
    reference_match: float = Field(
        default=0.5, description="similarity at which a sentence covers a strong-design statement"
    )
    design_owners: int = Field(
        default=1, ge=0, description="criteria each strong-design statement is also evidence for"
    )
    fitted: dict[str, object] = Field(default_factory=dict, description="how and on what it was fitted")


def load_params(path: Path = PARAMS_PATH) -> ScorerParams:
    """The committed scorer parameters."""
    return ScorerParams.model_validate(json.loads(path.read_text(encoding="utf-8")))


@lru_cache(maxsize=512)
def _cue(pattern: str) -> re.Pattern[str]:
    """A rubric's claim cue, compiled once."""
    return re.compile(pattern, re.IGNORECASE)


#: Starts a claim cue whose own words carry a negation ("legitimate if no chargeback", "BM25 doesn't
#: add anything"): the match states the claim as written, and no rejection check applies to it.
NEGATED_CUE = "(?#negated)"
_CLAUSE_END = re.compile(r"[.,;:!?()\u2014]")


def stated_by_cue(criterion: Criterion, sentence: str) -> tuple[str, int] | None:
    """The criterion's first red flag that the sentence states in one of its cued wordings, and where
    in the sentence the claim starts; None when no cue matches or its clause rejects the pitfall."""
    for statement in criterion.red_flags:
        for pattern in criterion.claim_cues.get(statement, ()):
            found = _cue(pattern).search(sentence)
            at = None if found is None else cue_claim(sentence, found, pattern, statement)
            if at is not None:
                return statement, at
    return None


def cue_claim(sentence: str, found: re.Match[str], pattern: str, red_flag: str) -> int | None:
    """Where a claim cue's match states the pitfall (the start of its clause), or None when the
    clause rejects it.

    Only the clause where the match ends is read for a rejection, so "not clicked is negative" later
    in the sentence does not excuse "I'd take raw clicks as relevance labels".
    """
    end = max(found.end(), found.start() + 1)
    start = max((m.end() for m in _CLAUSE_END.finditer(sentence, 0, end - 1)), default=0)
    after = _CLAUSE_END.search(sentence, end)
    clause = sentence[start : after.start() if after else len(sentence)]
    if pattern.startswith(NEGATED_CUE) or not rejects(clause, red_flag):
        return start + len(clause) - len(clause.lstrip())
    return None


@dataclass(frozen=True)
class CriterionFeatures:
    """What the scorer sees of one criterion in one answer."""

    criterion: str
    best: float
    top3: float
    covered: int
    share: float
    substance: float
    support: float  # substantive supporting sentences, up to 3, scaled to 0-1
    density: float  # share of the answer's sentences that give a number, a reason or a trade-off
    specifics: float  # distinct precise things the answer names, up to the cap, scaled to 0-1
    reference: float  # share of the problem's strong-design statements for the phase covered
    signals: int  # statements matched against: the rubric's evidence and the strong design's share
    supporting: tuple[int, ...]  # usable-sentence indices, best first
    quotes: tuple[str, ...]  # per supporting sentence, the sentence or the clause of it that is evidence
    kinds: tuple[str, ...]  # kinds of substance in the supporting sentences
    red_flag: str | None  # the red flag the answer asserts, if any (it caps the criterion)
    red_sentence: int | None
    # The closest red flag stated at the challenge threshold or above: (similarity, statement, sentence).
    suspect: tuple[float, str, int] | None = None
    suspect_at: int = 0  # where in the suspect sentence the claim starts (the clause a cue matched)

    @property
    def vector(self) -> np.ndarray:
        """The features in FEATURES order, each scaled to about 0-1."""
        return np.array(
            [
                self.best,
                self.top3,
                min(self.covered, 3) / 3,
                self.share,
                self.substance,
                self.support,
                self.density,
                self.specifics,
                self.reference,
            ],
            dtype=np.float64,
        )

    @property
    def addressed(self) -> bool:
        """The answer covered at least one evidence statement or asserted a red flag."""
        return self.covered > 0 or self.red_flag is not None


@dataclass(frozen=True)
class AnswerFeatures:
    """The features of every criterion for one answer, and the answer-level flags."""

    sentences: list[Sentence]
    criteria: list[CriterionFeatures]
    flags: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class GradingReference:
    """What the knowledge base tells the grader beyond the rubric: the topic notes' precise terms, and
    per problem and phase the note's strong design (statements of strong practice on that problem)."""

    terms: re.Pattern[str] | None = None
    strong_design: Mapping[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_kb(cls, kb: KnowledgeBase) -> GradingReference:
        """The reference of a loaded knowledge base."""
        terms = [t for topic in kb.topics for t in kb.topic_note(topic).terms]
        designs: dict[tuple[str, str], tuple[str, ...]] = {}
        for problem in kb.problems:
            for phase, bullets in kb.problem_note(problem).strong_design.items():
                # One idea per statement: the bullets' sentences, as the answer's are matched.
                designs[(problem, phase)] = tuple(s.text for b in bullets for s in split_sentences(b))
        return cls(term_pattern(terms), designs)

    def design(self, problem: str | None, phase: str) -> tuple[str, ...]:
        """The strong-design statements of a problem's phase (none for an unknown problem)."""
        return self.strong_design.get((problem, phase), ()) if problem else ()


def level(vector: np.ndarray, params: ScorerParams) -> int:
    """The scorer: weighted sum of features against the cut points."""
    weights = np.array([params.weights.get(f, 0.0) for f in FEATURES])
    total = float(vector @ weights)
    return 1 + sum(total >= cut for cut in params.cuts)


class OfflineGrader:
    """Grades answers against rubric criteria with the embedding model and the fitted scorer."""

    engine = "offline"

    def __init__(
        self,
        embedder: Embedder,
        params: ScorerParams | None = None,
        reference: GradingReference | None = None,
    ) -> None:
        self.embedder = embedder
        self.params = params or load_params()
        self.reference = reference or GradingReference()
        self._statements: dict[str, np.ndarray] = {}
        # The last answers' features: a turn grades an answer and then looks for the red flags it
        # asserts (agent.policy), and both need the same features.
        self._features: dict[tuple[str | None, str, tuple[str, ...], str], AnswerFeatures] = {}
        self._signals: dict[tuple[str | None, str, tuple[str, ...]], list[tuple[str, ...]]] = {}

    def grade(
        self, phase: str, criteria: Sequence[Criterion], answer: str, problem: str | None = None
    ) -> AnswerGrade:
        """Grade one answer against the criteria of a phase rubric (with any problem overlay applied);
        with `problem`, the problem note's strong design for the phase counts as a reference too."""
        features = self.features(phase, criteria, answer, problem)
        grades = [self._grade(c, f, features) for c, f in zip(criteria, features.criteria, strict=True)]
        return AnswerGrade(phase=phase, criteria=grades, engine=self.engine, flags=sorted(features.flags))

    def statement_vectors(self, statements: Sequence[str]) -> np.ndarray:
        """Embeddings of fixed statements (rubric signals, clarifying questions), cached per text."""
        missing = [t for t in dict.fromkeys(statements) if t not in self._statements]
        if missing:
            for text, vector in zip(missing, self.embedder.embed(missing), strict=True):
                self._statements[text] = vector
        if not statements:
            return np.zeros((0, self.embedder.dimension), dtype=np.float32)
        return np.stack([self._statements[t] for t in statements])

    def sentence_vectors(self, answer: str) -> tuple[list[Sentence], np.ndarray]:
        """The answer's usable sentences and their embeddings (for topic and follow-up matching)."""
        usable = [s for s in split_sentences(answer) if not s.injection]
        if not usable:
            return usable, np.zeros((0, self.embedder.dimension), dtype=np.float32)
        return usable, np.stack([rows[0] for rows in self._sentence_rows(usable)[0]])

    def _sentence_rows(self, usable: list[Sentence]) -> tuple[list[np.ndarray], list[str]]:
        """For each sentence, its vector and its clauses' vectors (rows), one model pass per sentence;
        and the text of every row in order (each sentence, then its clauses), for quoting.

        Sharing a pass between neighbouring sentences would be cheaper, but the pooled vectors then
        carry their neighbours' meaning: on the eval suite, windows of 60 words cost 0.04 of QWK and
        windows of 120 words 0.15, so each sentence is embedded on its own.
        """
        texts = [s.text for s in usable]
        parts = [clause_spans(t) for t in texts]
        excerpts = [
            e for t, spans in zip(texts, parts, strict=True) for e in (t, *(t[b:e].strip() for b, e in spans))
        ]
        return self.embedder.embed_with_parts(texts, parts), excerpts

    # ------------------------------------------------------------------ features

    def features(
        self, phase: str, criteria: Sequence[Criterion], answer: str, problem: str | None = None
    ) -> AnswerFeatures:
        """Per criterion, the scorer's features for this answer (what `python -m evals.fit` fits on)."""
        # Keyed by the criteria's content: a test or a coach's edit may change a rubric in place.
        rubric = tuple(
            repr((c.id, c.evidence, c.problem_evidence, c.red_flags, c.claim_cues)) for c in criteria
        )
        key = (problem, phase, rubric, answer)
        if key not in self._features:
            if len(self._features) >= 16:
                self._features.clear()
            self._features[key] = self._compute_features(phase, criteria, answer, problem, rubric)
        return self._features[key]

    def _signals_for(
        self, phase: str, criteria: Sequence[Criterion], problem: str | None, rubric: tuple[str, ...]
    ) -> list[tuple[str, ...]]:
        """Per criterion, the statements an answer is matched against: the rubric's evidence, then
        the problem's strong-design statements for the phase that are closest to that criterion."""
        key = (problem, phase, rubric)
        if key not in self._signals:
            signals = [(*c.evidence, *c.problem_evidence) for c in criteria]
            design = self.reference.design(problem, phase)
            if design and criteria:
                # Each strong-design statement joins the criterion (`design_owners` of them) whose
                # evidence it is closest to: the rubric is generic, the note says what strong
                # practice looks like on this problem ("budget-split A/B tests" for ads evaluation),
                # and a concise expert answer in its own words often matches the latter far better.
                # One owner, not two: dev QWK was 0.82 either way, and a second owner credited the
                # note's sizing statement to scope and data availability, so one three-sentence
                # answer ended the clarify phase (tests/agent/test_graph.py).
                vectors = self.statement_vectors(design)
                closeness = np.stack(
                    [(self.statement_vectors(c.evidence) @ vectors.T).max(axis=0) for c in criteria]
                )  # criteria x design statements
                owners = np.argsort(-closeness, axis=0)[: self.params.design_owners]
                for j, statement in enumerate(design):
                    for i in dict.fromkeys(int(o) for o in owners[:, j]):
                        signals[i] = (*signals[i], statement)
            if len(self._signals) >= 64:
                self._signals.clear()
            self._signals[key] = signals
        return self._signals[key]

    def _compute_features(
        self,
        phase: str,
        criteria: Sequence[Criterion],
        answer: str,
        problem: str | None,
        rubric: tuple[str, ...],
    ) -> AnswerFeatures:
        asking = phase in ASKING_PHASES
        sentences = split_sentences(answer)
        usable = [s for s in sentences if not s.injection and (asking or not s.question)]
        named = self._named(sentences)
        flags = self._answer_flags(answer, sentences, usable, named, asking)
        if not usable:
            empty = [_nothing(c.id) for c in criteria]
            return AnswerFeatures(usable, empty, frozenset(flags))
        rows, excerpts = self._sentence_rows(usable)
        starts = np.cumsum([0] + [len(r) for r in rows[:-1]])
        spans = np.concatenate(rows)
        answer_level = (
            min(named, self.params.specifics_cap) / self.params.specifics_cap,
            self._reference_share(problem, phase, spans),
        )
        # Per criterion: statements x spans (each sentence and its clauses), kept only where the span
        # is evidence for that criterion.
        signals = self._signals_for(phase, criteria, problem, rubric)
        by_span = [self.statement_vectors(statements) @ spans.T for statements in signals]
        allowed = self._attribution(by_span, self._units(usable, starts, len(excerpts)))
        found = []
        for criterion, sims, mask in zip(criteria, by_span, allowed, strict=True):
            red = np.maximum.reduceat(self.statement_vectors(criterion.red_flags) @ spans.T, starts, axis=1)
            evidence = _SpanEvidence(sims * mask, mask[0] > 0, starts, excerpts)
            found.append(self._criterion_features(criterion, evidence, red, usable, asking, answer_level))
        return AnswerFeatures(usable, found, frozenset(flags))

    def _cued_claim(
        self, criterion: Criterion, red: np.ndarray, usable: list[Sentence]
    ) -> tuple[tuple[float, str, int], int] | None:
        """A red flag stated in one of its usual wordings (the rubric's `claim_cues`) that meaning
        alone missed, and where in its sentence the claim starts. It counts as stated at the cap's
        bar: a coach wrote the cue as a way of asserting the pitfall, and the clause was read for a
        rejection, so it caps the criterion and is challenged like any stated red flag."""
        for i, sentence in enumerate(usable):
            stated = None if sentence.question else stated_by_cue(criterion, sentence.text)
            if stated is not None:
                statement, at = stated
                sim = float(red[criterion.red_flags.index(statement)][i])
                return (max(sim, self.params.red_flag), statement, i), at
        return None

    def _reference_share(self, problem: str | None, phase: str, spans: np.ndarray) -> float:
        """Share of the problem's strong-design statements for the phase that some sentence covers."""
        design = self.reference.design(problem, phase)
        if not design:
            return 0.0
        best = (self.statement_vectors(design) @ spans.T).max(axis=1)
        return float((best >= self.params.reference_match).mean())

    def _units(self, usable: list[Sentence], starts: np.ndarray, rows: int) -> list[tuple[range, int]]:
        """The groups of spans that are evidence for the same criteria, and for how many: each span
        of a sentence on its own, for up to `max_criteria_per_sentence`; a list-like sentence's
        spans together, for one. A list of terms cut at its commas is not a row of claims: a list
        of features is evidence of feature design, and keyword stuffing must not earn a criterion
        per comma (dev QWK 0.840 -> 0.847, the stuffing cases' phase maxima 1.55 -> 1.30)."""
        keep = max(1, self.params.max_criteria_per_sentence)
        ends = [*starts[1:], rows]
        units: list[tuple[range, int]] = []
        for sentence, begin, end in zip(usable, starts, ends, strict=True):
            if sentence.list_like:
                units.append((range(int(begin), int(end)), 1))
            else:
                units.extend((range(i, i + 1), keep) for i in range(int(begin), int(end)))
        return units

    def _attribution(self, evidence: list[np.ndarray], units: list[tuple[range, int]]) -> list[np.ndarray]:
        """Masks (criteria x spans) keeping each unit of spans (a sentence, one of its clauses, or a
        whole list) as evidence for at most its number of criteria, the ones it matches best. A
        sentence close to everything is not evidence for everything, but a dense one ("a calibrated
        fraud probability, then a decision layer by expected cost") can make a point for each
        criterion in its own clause, and that clause is then what is quoted."""
        best = np.stack([sims.max(axis=0) for sims in evidence])  # criteria x spans
        mask = np.zeros_like(best)
        for unit, keep in units:
            order = np.argsort(-best[:, unit.start : unit.stop].max(axis=1))
            mask[order[:keep], unit.start : unit.stop] = 1.0
        return [np.broadcast_to(mask[i], sims.shape) for i, sims in enumerate(evidence)]

    def _criterion_features(
        self,
        criterion: Criterion,
        evidence: _SpanEvidence,
        red: np.ndarray,
        usable: list[Sentence],
        asking: bool,
        answer_level: tuple[float, float],
    ) -> CriterionFeatures:
        p = self.params
        sims = evidence.per_sentence
        per_statement = sims.max(axis=1)
        best_sentence = sims.argmax(axis=1)
        covered = [(float(per_statement[i]), int(best_sentence[i])) for i in range(len(per_statement))]
        # The rubric's evidence is covered at `match`; the strong design's statements that follow it
        # at `reference_match`, the bar they have in the reference feature: they are longer and name
        # the problem's own nouns, which an off-topic answer about the same product also uses.
        bars = [p.match if i < len(criterion.evidence) else p.reference_match for i in range(len(covered))]
        covered = [c for c, bar in zip(covered, bars, strict=True) if c[0] >= bar]
        supporting = tuple(dict.fromkeys(i for _, i in sorted(covered, reverse=True)))
        quotes = tuple(evidence.excerpt(i) for i in supporting)
        kinds = tuple(
            sorted(
                {
                    kind
                    for i in supporting
                    for kind, present in (
                        ("numbers", usable[i].has_number),
                        ("reasons", usable[i].has_reason),
                        ("trade-offs", usable[i].has_tradeoff),
                        ("questions", asking and usable[i].question),
                    )
                    if present
                }
            )
        )
        # The closest red flag the answer states without rejecting it: at `red_flag` it caps the
        # criterion; from the lower `challenge` on, the interviewer asks the candidate to defend it.
        suspect: tuple[float, str, int] | None = None
        for statement, row in zip(criterion.red_flags, red, strict=True):
            i = int(np.argmax(row))
            if row[i] < p.challenge or (suspect is not None and row[i] <= suspect[0]):
                continue
            if not rejects(usable[i].text, statement):
                suspect = (float(row[i]), statement, i)
        suspect_at = 0
        stated = suspect is not None and suspect[0] >= p.red_flag
        if not stated and (cued := self._cued_claim(criterion, red, usable)) is not None:
            suspect, suspect_at = cued
        red_flag, red_sentence = None, None
        if suspect is not None and suspect[0] >= p.red_flag:
            red_flag, red_sentence = suspect[1], suspect[2]
        top = np.sort(per_statement)[::-1][:3]
        substantive = sum(1 for i in supporting if usable[i].substantive or (asking and usable[i].question))
        return CriterionFeatures(
            criterion=criterion.id,
            best=float(per_statement.max()),
            top3=float(top.mean()),
            covered=len(covered),
            share=len(covered) / len(sims),
            substance=min(len(kinds), 3) / 3,
            support=min(substantive, 3) / 3,
            density=sum(1 for s in usable if s.substantive) / len(usable),
            specifics=answer_level[0],
            reference=answer_level[1],
            signals=len(sims),
            supporting=supporting,
            quotes=quotes,
            kinds=kinds,
            red_flag=red_flag,
            red_sentence=red_sentence,
            suspect=suspect,
            suspect_at=suspect_at,
        )

    def _named(self, sentences: list[Sentence]) -> int:
        return specifics([s.text for s in sentences if not s.injection], self.reference.terms)

    def specifics_rate(self, answer: str) -> float | None:
        """Precise things named per 100 words, for the vague rule; None where the rule does not apply
        (an answer under `vague_min_words`, or one made mostly of questions: asking is its substance)."""
        whole = [s for s in full_sentences(answer) if not s.injection]
        return self._rate(word_count(answer), whole, self._named(split_sentences(answer)))

    def _rate(self, words: int, whole: list[Sentence], named: int) -> float | None:
        """specifics_rate from what a grading pass has already computed."""
        if words < self.params.vague_min_words or not whole:
            return None
        if sum(1 for s in whole if s.question) >= len(whole) / 2:
            return None
        return 100 * named / words

    def _concrete(self, sentence: Sentence, asking: bool) -> bool:
        """A sentence filler would not write: a number or precise term, one of the knowledge base's
        topic terms ("feedback loop", "retraining"), or, where asking is the skill, a question."""
        if sentence.concrete or (asking and sentence.question):
            return True
        terms = self.reference.terms
        return terms is not None and terms.search(sentence.text) is not None

    def _answer_flags(
        self, answer: str, sentences: list[Sentence], usable: list[Sentence], named: int, asking: bool
    ) -> set[str]:
        p = self.params
        flags: set[str] = set()
        if any(s.injection for s in sentences):
            flags.add("injection")
        words = max(word_count(answer), 1)
        listed = sum(s.words for s in usable if s.list_like)
        reasoned = sum(1 for s in usable if s.has_reason or s.has_tradeoff)
        if listed / words >= p.stuffing_share and reasoned < 2:
            flags.add("stuffing")
        # Vagueness is judged on whole sentences (a list cut at semicolons is not a row of empty ones)
        # and on concreteness: filler gives reasons freely, but never a number or a precise term, and
        # names few precise things per 100 words.
        whole = [s for s in full_sentences(answer) if not s.injection]
        if words >= p.vague_min_words and whole:
            substance = sum(1 for s in whole if self._concrete(s, asking)) / len(whole)
            filler = sum(answer.lower().count(v) for v in _VAGUE)
            rate = self._rate(words, whole, named)  # the answer is split once per grading pass
            sparse = rate is not None and rate < p.vague_max_specifics
            if substance <= p.vague_max_substance or filler >= max(3, len(whole) // 2) or sparse:
                flags.add("vague")
        return flags

    # ------------------------------------------------------------------ levels

    def _grade(self, criterion: Criterion, f: CriterionFeatures, answer: AnswerFeatures) -> CriterionGrade:
        if not f.addressed:
            return CriterionGrade(id=criterion.id, score=None, evidence=[], rationale="Not addressed.")
        usable = answer.sentences
        score = float(level(f.vector, self.params)) if f.covered else 1.0
        caps = [f"red flag: the answer {_lower_first(f.red_flag)}"] if f.red_flag else []
        caps += [why for flag, why in CAPPING_FLAGS.items() if flag in answer.flags]
        score = capped(score, caps)
        quotes = list(f.quotes[: self.params.max_quotes])
        if f.red_sentence is not None and usable[f.red_sentence].text not in quotes:
            quotes = [*quotes, usable[f.red_sentence].text][: self.params.max_quotes]
        detail = f"with {', '.join(f.kinds)}" if f.kinds else "without a number, a reason or a trade-off"
        parts = [f"Addressed {detail} ({f.covered} of the criterion's {f.signals} signals)"]
        if not f.covered:
            parts = ["Only a red flag was found"]
        parts += [f"capped at 2: {c}" for c in caps]
        return CriterionGrade(id=criterion.id, score=score, evidence=quotes, rationale="; ".join(parts) + ".")


def _nothing(criterion: str) -> CriterionFeatures:
    return CriterionFeatures(criterion, 0.0, 0.0, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, (), (), (), None, None)


@dataclass(frozen=True)
class _SpanEvidence:
    """One criterion's similarities to an answer's spans (statements x spans, zero where the span is
    not evidence for it), which spans are, where each sentence's spans start and each span's text."""

    sims: np.ndarray
    allowed: np.ndarray
    starts: np.ndarray
    excerpts: list[str]

    @property
    def per_sentence(self) -> np.ndarray:
        """Statements x sentences: the best similarity over each sentence's spans."""
        return np.maximum.reduceat(self.sims, self.starts, axis=1)

    def excerpt(self, sentence: int) -> str:
        """What to quote of a sentence: the whole of it when it is evidence for the criterion, else
        its clause that matches the criterion best (a sentence is quoted whole under at most two)."""
        begin = int(self.starts[sentence])
        if self.allowed[begin]:
            return self.excerpts[begin]
        end = int(self.starts[sentence + 1]) if sentence + 1 < len(self.starts) else self.sims.shape[1]
        best = begin + 1 + int(np.argmax(self.sims[:, begin + 1 : end].max(axis=0)))
        return self.excerpts[best]


def _lower_first(text: str | None) -> str:
    text = (text or "").rstrip(".")
    return text[:1].lower() + text[1:]
