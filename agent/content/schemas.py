"""Pydantic schemas for knowledge notes, problems and rubrics.

Every model forbids unknown fields so that a typo in a content file is an error
that names the file and the field, not a silently ignored key.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from agent.content.applicability import ELEMENTS
from agent.ids import PHASES, TOPICS

_SLUG = re.compile(r"^[a-z][a-z0-9_]*$")


def _check_phase(value: str) -> str:
    if value not in PHASES:
        raise ValueError(f"{value!r} is not a phase id (expected one of: {', '.join(PHASES)})")
    return value


def _check_topic(value: str) -> str:
    if value not in TOPICS:
        raise ValueError(f"{value!r} is not a topic id (see the topic list in docs/interfaces.md)")
    return value


def _check_element(value: str) -> str:
    if value not in ELEMENTS:
        raise ValueError(
            f"{value!r} is not a design element id (expected one of: {', '.join(ELEMENTS)}; "
            "see agent/content/applicability.py)"
        )
    return value


def _check_slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(f"{value!r} is not a valid id (lower-case letters, digits and '_')")
    return value


def _check_question(value: str) -> str:
    if not value.endswith("?"):
        raise ValueError("a question must end with '?'")
    return value


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3)]


def _check_model_answer(value: str) -> str:
    words = len(value.split())
    if not 80 <= words <= 200:
        raise ValueError(f"a model answer has 80-200 words, this one has {words}")
    return value


ModelAnswer = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_check_model_answer)]
PhaseRef = Annotated[str, AfterValidator(_check_phase)]
TopicRef = Annotated[str, AfterValidator(_check_topic)]
Slug = Annotated[str, AfterValidator(_check_slug)]
ElementRef = Annotated[str, AfterValidator(_check_element)]
#: Problem kinds; the meanings are in agent/content/applicability.py (PROBLEM_KINDS).
ProblemKind = Literal["ranking", "recommendation", "search", "ads", "classification", "fraud", "moderation"]
Question = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=15), AfterValidator(_check_question)
]


class Strict(BaseModel):
    """Base model: unknown fields are errors and loaded content is immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _unique(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"duplicate {what} {value!r}")
        seen.add(value)


# --------------------------------------------------------------------------- notes


class FollowUp(Strict):
    """A follow-up question an interviewer can ask, with where it fits."""

    question: Question
    phases: list[PhaseRef] = Field(min_length=1, description="phases in which the question fits")
    problems: list[Slug] = Field(
        default_factory=list, description="problems it is specific to; empty inherits from the note"
    )
    look_for: Text = Field(description="what a strong answer to this question contains")
    kinds: list[ProblemKind] = Field(
        default_factory=list, description="problem kinds it fits; empty inherits the note's kinds"
    )
    presupposes: list[ElementRef] = Field(
        default_factory=list, description="design elements the candidate must have mentioned first"
    )


class TopicFollowUp(FollowUp):
    """A follow-up in a phase or problem note, which must say which topic it probes."""

    topic: TopicRef


class PhaseFollowUp(TopicFollowUp):
    """A follow-up in a phase note: phase notes fit every problem, so the follow-up must state its kinds."""

    kinds: list[ProblemKind] = Field(min_length=1, description="problem kinds it fits")


class TopicNote(Strict):
    """Front matter of a note on one follow-up topic (knowledge/topics/<id>.md)."""

    kind: Literal["topic"]
    id: TopicRef
    title: Text
    summary: Text = Field(description="one sentence: what the topic is and why it matters")
    terms: list[Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=2)]] = (
        Field(
            default_factory=list,
            description="words that name the topic, matched as word prefixes (e.g. 'calibrat', 'cold start')",
        )
    )
    symptoms: list[Text] = Field(
        min_length=4,
        description="the situation in plain words, as a candidate would describe it, without jargon",
    )
    phases: list[PhaseRef] = Field(min_length=1, description="phases where the topic usually comes up")
    problems: list[Slug] = Field(description="problems where it bites hardest; empty means every problem")
    kinds: list[ProblemKind] = Field(min_length=1, description="problem kinds its follow-ups fit by default")
    followups: list[FollowUp] = Field(min_length=4)

    @model_validator(mode="after")
    def _no_duplicate_questions(self) -> TopicNote:
        _unique([f.question for f in self.followups], "follow-up question")
        return self


class PhaseNote(Strict):
    """Front matter of a note on one interview phase (knowledge/phases/<id>.md)."""

    kind: Literal["phase"]
    id: PhaseRef
    title: Text
    goal: Text = Field(description="one sentence: what the phase must establish")
    opening_questions: list[Question] = Field(min_length=2)
    exit_criteria: list[Text] = Field(min_length=2)
    hints: list[Text] = Field(min_length=2, description="nudges for a stuck candidate, mildest first")
    followups: list[PhaseFollowUp] = Field(default_factory=list)


class Clarification(Strict):
    """A question a strong candidate asks up front, and the interviewer's answer."""

    question: Question
    asked_as: list[Question] = Field(
        default_factory=list,
        description="other ways a candidate asks for the same fact, in their own words",
    )
    answer: Text


class Curveball(Strict):
    """A mid-interview requirement change and what a strong adaptation looks like."""

    phase: PhaseRef = Field(description="the phase in which the interviewer springs it")
    change: Text = Field(description="the change, as the interviewer states it")
    look_for: Text
    topics: list[TopicRef] = Field(min_length=1)
    presupposes: list[ElementRef] = Field(
        default_factory=list, description="design elements the candidate must have mentioned first"
    )


class ProblemNote(Strict):
    """Front matter of a note on one interview problem (knowledge/problems/<id>.md)."""

    kind: Literal["problem"]
    id: Slug
    title: Text
    difficulty: Literal["medium", "hard"]
    kinds: list[ProblemKind] = Field(min_length=1, description="what sort of system the problem is")
    prompt: Text = Field(description="the problem as the interviewer states it")
    clarifications: list[Clarification] = Field(min_length=4)
    strong_design: dict[PhaseRef, list[Text]] = Field(description="per phase, what a strong design covers")
    model_answers: dict[PhaseRef, ModelAnswer] = Field(
        description="per phase, what a strong candidate would say, in the first person (80-200 words)",
    )
    critical_topics: list[TopicRef] = Field(min_length=3)
    followups: list[TopicFollowUp] = Field(min_length=3)
    curveball: Curveball

    @model_validator(mode="after")
    def _all_phases_designed(self) -> ProblemNote:
        missing = [p for p in PHASES if not self.strong_design.get(p)]
        if missing:
            raise ValueError(f"strong_design has no bullets for: {', '.join(missing)}")
        unanswered = [p for p in PHASES if p not in self.model_answers]
        if unanswered:
            raise ValueError(f"model_answers has no answer for: {', '.join(unanswered)}")
        _unique(self.critical_topics, "critical topic")
        return self


# --------------------------------------------------------------------------- rubrics


class Criterion(Strict):
    """One graded criterion of a phase rubric, with level anchors and evidence signals."""

    id: Slug
    title: Text
    weight: float = Field(gt=0, le=1)
    description: Text
    levels: dict[int, Text] = Field(description="what an answer at each level 1-4 looks like")
    evidence: list[Text] = Field(min_length=3, description="statements a grader looks for")
    problem_evidence: list[Text] = Field(
        default_factory=list,
        description="set from a problem overlay's `evidence`: how strong practice sounds on the problem",
    )
    red_flags: list[Text] = Field(min_length=1)
    claim_cues: dict[Text, list[Text]] = Field(
        default_factory=dict,
        description=(
            "per red flag, regular expressions (case-insensitive) for the usual wordings of it that"
            " meaning alone misses; a sentence matching one and not rejecting the pitfall states the red flag"
        ),
    )
    topics: list[TopicRef] = Field(default_factory=list, description="topics this criterion covers")

    @model_validator(mode="after")
    def _four_levels(self) -> Criterion:
        if sorted(self.levels) != [1, 2, 3, 4]:
            raise ValueError("levels must have exactly the anchors 1, 2, 3 and 4")
        return self

    @model_validator(mode="after")
    def _cues(self) -> Criterion:
        for flag, patterns in self.claim_cues.items():
            if flag not in self.red_flags:
                raise ValueError(f"claim_cues: {flag!r} is not one of this criterion's red_flags")
            for pattern in patterns:
                try:
                    compiled = re.compile(pattern, re.IGNORECASE)
                except re.error as exc:
                    raise ValueError(f"claim_cues: {pattern!r} is not a valid expression: {exc}") from exc
                if compiled.search(""):
                    raise ValueError(f"claim_cues: {pattern!r} matches an empty sentence")
        return self


class PhaseRubric(Strict):
    """The rubric of one phase (rubrics/phases/<phase>.yaml)."""

    phase: PhaseRef
    criteria: list[Criterion] = Field(min_length=3, max_length=6)

    @model_validator(mode="after")
    def _weights(self) -> PhaseRubric:
        _unique([c.id for c in self.criteria], "criterion id")
        total = sum(c.weight for c in self.criteria)
        if abs(total - 1.0) > 0.01:
            raise ValueError(f"criterion weights must add up to 1.0, not {total:.3f}")
        return self


class PhaseOverlay(Strict):
    """What a problem adds to, or re-weights in, one phase's rubric."""

    add: list[Criterion] = Field(default_factory=list)
    reweight: dict[Slug, float] = Field(default_factory=dict)
    evidence: dict[Slug, list[Text]] = Field(
        default_factory=dict,
        description="per criterion of the phase rubric, what strong practice sounds like on this problem",
    )

    @model_validator(mode="after")
    def _not_empty(self) -> PhaseOverlay:
        if not self.add and not self.reweight and not self.evidence:
            raise ValueError("an overlay must add, re-weight or give evidence for at least one criterion")
        if any(not statements for statements in self.evidence.values()):
            raise ValueError("evidence: every criterion listed needs at least one statement")
        if any(w <= 0 or w > 1 for w in self.reweight.values()):
            raise ValueError("re-weighted criteria need a weight in (0, 1]")
        return self


class ProblemOverlay(Strict):
    """Problem-specific rubric changes (rubrics/problems/<problem>.yaml)."""

    problem: Slug
    phases: dict[PhaseRef, PhaseOverlay] = Field(min_length=1)
