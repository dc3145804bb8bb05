"""The report's shapes: as stored (checkpoint and transcript) and as shown (titled, docs/interfaces.md).

Both are frozen pydantic models. They become JSON only at the edges, through :func:`to_json` (the
transcript's report line, the checkpoint, `mlsd interview --json`) and come back through
`model_validate` (the history, a resumed session). `to_json` writes the keys that were set, in the
order the fields are declared here, so a report read back is written exactly as it was read, and
the order below is the order of the JSON every earlier version wrote: change it and saved reports,
the eval transcripts and the CLI's JSON change with it.

Older transcripts are still read: reports written before phases could go unassessed have no
`assessed_phases` and no per-phase `assessed` (both follow from the scores), and study notes saved
before sources were stored carry the note's absolute path (`note`) instead of `source`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, model_validator

from agent.grading.models import CriterionGrade
from agent.grading.scale import Verdict
from agent.ids import Level
from agent.state import JSONObject


class _Frozen(BaseModel):
    # Unknown keys are refused: every shape any version has written is declared here, so a key
    # that is not is a bug (or a transcript from a newer version), never something to drop silently.
    model_config = ConfigDict(extra="forbid", frozen=True)


def to_json(model: BaseModel) -> JSONObject:
    """The JSON of a report model: the keys that were set (read or built), in declaration order."""
    return model.model_dump(exclude_unset=True)


class CriterionView(_Frozen):
    """A criterion as shown (docs/interfaces.md): insufficient evidence is reported as score 1, flagged."""

    id: str
    score: float
    evidence: list[str]
    rationale: str
    insufficient_evidence: bool
    title: str | None = None  # absent when the rubric in use no longer has the criterion
    weight: float | None = None

    @classmethod
    def of(
        cls, grade: CriterionGrade, title: str | None = None, weight: float | None = None
    ) -> CriterionView:
        """A graded criterion as shown; the title and weight only when the rubric in use has it."""
        fields: JSONObject = {
            "id": grade.id,
            "score": 1.0 if grade.score is None else grade.score,
            "evidence": grade.evidence,
            "rationale": grade.rationale,
            "insufficient_evidence": grade.score is None,
        }
        # Only what is known is set, and so written: the JSON has no null title or weight.
        if title is not None:
            fields["title"] = title
        if weight is not None:
            fields["weight"] = round(weight, 4)
        return cls.model_validate(fields)


CriterionT = TypeVar("CriterionT", CriterionGrade, CriterionView)


class PhaseEntry(_Frozen, Generic[CriterionT]):
    """One phase of the report: its score, time and criteria."""

    phase: str
    title: str
    score: float | None  # None: not assessed
    assessed: bool
    minutes: float
    budget_minutes: float
    answers: int
    engine: str
    criteria: list[CriterionT]

    @model_validator(mode="before")
    @classmethod
    def _assessed_from_score(cls, data: object) -> object:
        # Reports written before phases could be unassessed have no "assessed": the score says it.
        if isinstance(data, dict) and "assessed" not in data:
            return {**data, "assessed": data.get("score") is not None}
        return data


class Strength(_Frozen):
    """A criterion the candidate showed solidly, with the quote that counted."""

    phase: str
    criterion: str
    title: str
    score: float
    evidence: list[str]


class Gap(_Frozen):
    """A criterion short of solid, with what a solid answer does for this problem."""

    phase: str
    criterion: str
    title: str
    score: float | None
    what_solid_looks_like: str


class StudyNote(_Frozen):
    """A missed critical topic and the knowledge note to read about it."""

    topic: str
    title: str
    summary: str
    # Knowledge-relative, so a saved report names no path of the machine it was made on.
    source: str | None = None
    # Reports saved before sources were stored carry the note's absolute path instead; a shown
    # report carries the note's file resolved in the knowledge folder in use.
    note: str | None = None


class _Report(_Frozen, Generic[CriterionT]):
    """The fields of both report shapes, in the order the JSON has them."""

    score: float | None
    verdict: Verdict
    assessed_phases: int
    level: Level
    phases: list[PhaseEntry[CriterionT]]
    strengths: list[Strength]
    gaps: list[Gap]
    missed_topics: list[str]
    study: list[StudyNote]
    topics_covered: list[str]
    backend: str
    engines: list[str]
    usage: dict[str, int | float]

    @model_validator(mode="before")
    @classmethod
    def _assessed_phases_from_phases(cls, data: object) -> object:
        # Reports written before phases could be unassessed have no count: the phases give it.
        if isinstance(data, dict) and "assessed_phases" not in data:
            phases = data.get("phases") or []
            assessed = sum(
                bool(p.get("assessed", p.get("score") is not None)) for p in phases if isinstance(p, dict)
            )
            return {**data, "assessed_phases": assessed}
        return data


class Report(_Report[CriterionGrade]):
    """The final report as built and stored: criteria as graded (insufficient evidence is None)."""

    @classmethod
    def from_event(cls, event: Mapping[str, object]) -> Report:
        """The report of a transcript's report line (its event name and time are the line's own)."""
        return cls.model_validate({k: v for k, v in event.items() if k not in _EVENT_FIELDS})


#: What a transcript line carries besides its event's fields (agent.transcript writes them).
_EVENT_FIELDS = frozenset({"event", "time"})


class ShownReport(_Report[CriterionView]):
    """The report as shown and printed: criteria titled (docs/interfaces.md), study notes resolved."""
