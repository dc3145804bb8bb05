"""The shapes of grades, shared by both engines, the transcript and the report."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class CriterionGrade(BaseModel):
    """One rubric criterion's grade for an answer or a phase."""

    model_config = ConfigDict(extra="forbid")

    id: str
    score: float | None = Field(description="1-4, or None for insufficient evidence")
    evidence: list[str] = Field(default_factory=list, description="verbatim quotes of the candidate")
    rationale: str

    @property
    def insufficient(self) -> bool:
        """True when the answer gave no evidence for this criterion."""
        return self.score is None


class AnswerGrade(BaseModel):
    """An answer graded against the phase rubric by one engine."""

    model_config = ConfigDict(extra="forbid")

    phase: str
    criteria: list[CriterionGrade]
    engine: str = Field(description="offline, or openai:<model>")
    flags: list[str] = Field(default_factory=list, description="e.g. injection, stuffing, vague, off_topic")
    topics_seen: list[str] = Field(default_factory=list, description="topics the answer covered")

    def score(self, weights: dict[str, float]) -> float:
        """The answer's score by agent.grading.scale's rule (weighted mean, calibrated for the engine)."""
        from agent.grading.scale import phase_score  # scale imports this module

        return phase_score(self.criteria, weights, self.engine)
