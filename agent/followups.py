"""Choosing follow-up questions, and noticing which topics a candidate has covered.

Both work on vectors already in the index, scored in memory: the candidate's sentences against
the follow-up questions that fit the phase and problem (to dig into what they raised) and against
the topics' notes (to see what they covered); the rubric's uncovered criteria and the problem's
critical topics they skipped turn into gaps worth probing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from agent.content.applicability import applicable, mentioned_elements
from agent.content.loader import Applicability, KnowledgeBase
from agent.grading.sentences import Sentence
from agent.search.index import KnowledgeIndex, SearchHit
from agent.state import Turn

Reason = Literal["dig_deeper", "gap", "critical_topic"]

#: A candidate sentence this close to a topic's note shows the topic was covered.
TOPIC_SEEN = 0.55
#: Relevance below which a follow-up is chosen for a gap rather than to dig deeper.
DIG_DEEPER = 0.45


@dataclass(frozen=True)
class FollowUpChoice:
    """A follow-up question chosen for the candidate, with why and where it came from."""

    unit_id: str
    question: str
    topic: str
    source: str
    look_for: str
    reason: Reason
    score: float

    def as_json(self) -> dict[str, object]:
        """The follow-up shape of docs/interfaces.md (`followup`)."""
        return {
            "question": self.question,
            "topic": self.topic,
            "source": self.source,
            "reason": self.reason,
            "look_for": self.look_for,
            "score": round(self.score, 4),
        }


def _normalise(text: str) -> str:
    return " " + re.sub(r"[-_\s]+", " ", text.lower()) + " "


class TopicMatcher:
    """Which topics a piece of candidate text covers: by meaning, or by naming the topic in prose."""

    def __init__(self, index: KnowledgeIndex, kb: KnowledgeBase) -> None:
        self._index = index
        self._topics: list[str | None] = []
        self._vectors: np.ndarray | None = None  # loaded on first use: opening Chroma takes ~1 s
        self._terms = {
            topic: re.compile("|".join(r"(?<![a-z0-9])" + re.escape(_normalise(t).strip()) for t in terms))
            for topic in kb.topics
            if (terms := kb.topic_note(topic).terms)
        }

    def seen(
        self, sentences: Sequence[Sentence], sentence_vectors: np.ndarray, threshold: float = TOPIC_SEEN
    ) -> list[str]:
        """Topics that some sentence comes close to in meaning, or names outside a bare list of terms."""
        if self._vectors is None:
            hits, self._vectors = self._index.vectors(kinds=["topic"])
            self._topics = [h.topic for h in hits]
        topics: list[str] = []
        if len(sentence_vectors) and len(self._vectors):
            best = (sentence_vectors @ self._vectors.T).max(axis=0)
            for i in np.argsort(-best):
                if best[i] < threshold:
                    break
                topic = self._topics[i]
                if topic and topic not in topics:
                    topics.append(topic)
        prose = " ".join(_normalise(s.text) for s in sentences if not s.list_like)
        topics += [t for t, pattern in self._terms.items() if t not in topics and pattern.search(prose)]
        return topics


def interview_answers(turns: Sequence[Turn]) -> list[str]:
    """Every answer the candidate has given in the interview, oldest first."""
    return [t["text"] for t in turns if t["role"] == "candidate" and t["kind"] == "answer"]


def curveball_applies(kb: KnowledgeBase, problem: str, answers: Sequence[str]) -> bool:
    """The problem's curveball may be sprung: every element it presupposes was mentioned in an answer."""
    return set(kb.problem_note(problem).curveball.presupposes) <= mentioned_elements(answers)


class FollowUpSelector:
    """Picks the next follow-ups for a phase and problem from the knowledge base."""

    def __init__(self, index: KnowledgeIndex, kb: KnowledgeBase) -> None:
        self.index = index
        self.kb = kb
        self._rules: dict[str, Applicability] = kb.applicability()
        self._pools: dict[tuple[str, str], tuple[list[SearchHit], np.ndarray]] = {}

    def applicable(self, unit_id: str, problem: str, mentioned: set[str]) -> bool:
        """The follow-up fits the problem's kinds and the interview mentioned all it presupposes."""
        rule = self._rules.get(unit_id)
        if rule is None:  # not in this knowledge base (a stale index): never ask it
            return False
        return applicable(rule.kinds, rule.presupposes, self.kb.problem_kinds(problem), mentioned)

    def _pool(self, phase: str, problem: str) -> tuple[list[SearchHit], np.ndarray]:
        key = (phase, problem)
        if key not in self._pools:
            self._pools[key] = self.index.vectors(phase=phase, problem=problem, kinds=["followup"])
        return self._pools[key]

    def choose(
        self,
        *,
        problem: str,
        phase: str,
        sentence_vectors: np.ndarray,
        gap_topics: Iterable[str] = (),
        critical_unseen: Iterable[str] = (),
        asked: Iterable[str] = (),
        probed_topics: Sequence[str] = (),
        answers: Sequence[str] = (),
        k: int = 3,
    ) -> list[FollowUpChoice]:
        """The k best applicable follow-ups, each on a different topic, never one already asked.

        `answers` are the interview's answers so far: a follow-up that presupposes a design element
        (embeddings, a candidate generator ...) is only asked once one of them mentioned it.
        """
        hits, vectors = self._pool(phase, problem)
        mentioned = mentioned_elements(answers)
        keep = [i for i, hit in enumerate(hits) if self.applicable(hit.id, problem, mentioned)]
        hits, vectors = [hits[i] for i in keep], vectors[keep]
        if not hits:
            return []
        if len(sentence_vectors):
            relevance = (sentence_vectors @ vectors.T).max(axis=0)
        else:
            relevance = np.zeros(len(hits), dtype=np.float32)
        gaps, critical, done = set(gap_topics), set(critical_unseen), set(asked)
        scored: list[FollowUpChoice] = []
        for hit, rel in zip(hits, relevance, strict=True):
            if hit.id in done or not hit.topic:
                continue
            score = 0.6 * float(rel)
            reason: Reason = "dig_deeper"
            if hit.topic in critical:
                score += 0.25
                reason = "critical_topic" if rel < DIG_DEEPER else reason
            if hit.topic in gaps:
                score += 0.2
                reason = "gap" if rel < DIG_DEEPER and reason == "dig_deeper" else reason
            if hit.owner == problem:
                score += 0.08  # a problem-specific question beats a generic one of equal fit
            score -= 0.3 * probed_topics.count(hit.topic)
            scored.append(
                FollowUpChoice(hit.id, hit.text, hit.topic, hit.source, hit.look_for or "", reason, score)
            )
        scored.sort(key=lambda c: (-c.score, c.unit_id))
        chosen: list[FollowUpChoice] = []
        for choice in scored:
            if all(choice.topic != c.topic for c in chosen):
                chosen.append(choice)
            if len(chosen) == k:
                break
        return chosen
