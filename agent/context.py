"""The run-time context handed to the interview graph: content, engine and retrieval tools.

Built once per process by :func:`agent.session.build_context`; nodes never read the environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from agent.clarifications import MatchParams, load_params
from agent.content.loader import KnowledgeBase
from agent.engines.base import Engine
from agent.followups import FollowUpSelector, TopicMatcher
from agent.grading.offline import OfflineGrader
from agent.grading.sentences import Sentence
from agent.policy import FollowupWeights, load_followup_weights


@dataclass(frozen=True, kw_only=True)
class InterviewContext:
    """Everything the graph's nodes need besides the state."""

    kb: KnowledgeBase = field(metadata={"help": "notes and rubrics"})
    engine: Engine = field(metadata={"help": "writes interviewer turns and grades answers"})
    grader: OfflineGrader = field(metadata={"help": "sentence splitting and embeddings for retrieval"})
    selector: FollowUpSelector = field(metadata={"help": "chooses follow-ups from the knowledge base"})
    topics: TopicMatcher = field(metadata={"help": "which topics an answer covered"})
    auto_advance: bool = field(
        default=True,
        metadata={"help": "the interviewer moves on by itself (time, exit criteria); off for scripted runs"},
    )
    max_followups: int = field(default=3, metadata={"help": "follow-ups per phase before moving on"})
    clarify: MatchParams = field(
        default_factory=load_params, metadata={"help": "how clarifying questions find the note's facts"}
    )
    probing: FollowupWeights = field(
        default_factory=load_followup_weights, metadata={"help": "how follow-ups are ranked"}
    )
    _vectors: dict[str, tuple[list[Sentence], np.ndarray]] = field(default_factory=dict, repr=False)

    def sentences(self, text: str) -> tuple[list[Sentence], np.ndarray]:
        """The text's sentences and their embeddings, computed once per text."""
        if text not in self._vectors:
            if len(self._vectors) > 64:
                self._vectors.clear()
            self._vectors[text] = self.grader.sentence_vectors(text)
        return self._vectors[text]
