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


@dataclass(frozen=True)
class Candidate:
    """An applicable follow-up not asked yet, and what its rank depends on (agent.policy ranks it)."""

    unit_id: str
    question: str
    topic: str
    source: str
    look_for: str
    relevance: float  # closest similarity of the latest answer's sentences to the question
    problem_specific: bool  # written for this problem, not a generic phase or topic question
    phase_note: bool  # one of the phase note's own questions: the phase's staple probes


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

    def candidates(
        self,
        *,
        problem: str,
        phase: str,
        sentence_vectors: np.ndarray,
        asked: Iterable[str] = (),
        answers: Sequence[str] = (),
    ) -> list[Candidate]:
        """Every applicable follow-up of the phase and problem not asked yet, with its relevance to
        the latest answer; agent.policy decides which to ask.

        `answers` are the interview's answers so far: a follow-up that presupposes a design element
        (embeddings, a candidate generator ...) is only offered once one of them mentioned it.
        """
        hits, vectors = self._pool(phase, problem)
        mentioned = mentioned_elements(answers)
        done = set(asked)
        keep = [
            i
            for i, hit in enumerate(hits)
            if hit.topic and hit.id not in done and self.applicable(hit.id, problem, mentioned)
        ]
        if not keep:
            return []
        if len(sentence_vectors):
            relevance = (sentence_vectors @ vectors[keep].T).max(axis=0)
        else:
            relevance = np.zeros(len(keep), dtype=np.float32)
        phase_note = f"phases/{phase}.md"
        return [
            Candidate(
                unit_id=hits[i].id,
                question=hits[i].text,
                topic=hits[i].topic or "",
                source=hits[i].source,
                look_for=hits[i].look_for or "",
                relevance=float(rel),
                problem_specific=hits[i].owner == problem,
                phase_note=hits[i].source == phase_note,
            )
            for i, rel in zip(keep, relevance, strict=True)
        ]
