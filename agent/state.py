"""The interview's state as the LangGraph graph carries and checkpoints it.

Plain JSON-ready typed dicts, so a checkpoint or a transcript line is readable by a person and
by any tool. Lists that grow turn by turn have an `operator.add` reducer in their type.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, NotRequired, TypedDict

from agent.ids import Length, Level

#: A JSON object as `json.dumps` takes it: what the checkpoint and the transcript hold of a model.
JSONObject = dict[str, object]

Role = Literal["interviewer", "candidate"]
Action = Literal["answer", "hint", "skip", "end"]

#: What an interviewer's message does: the keys of `instructions` in agent/llm/prompts/interviewer.yaml.
InterviewerKind = Literal["opening", "followup", "challenge", "hint", "curveball", "wrap_up", "closing"]
#: What a candidate's turn was: one per action (CANDIDATE_KINDS).
CandidateKind = Literal["answer", "hint_request", "skip", "end"]
TurnKind = InterviewerKind | CandidateKind

#: The kind of the candidate turn each action records.
CANDIDATE_KINDS: dict[Action, CandidateKind] = {
    "answer": "answer",
    "hint": "hint_request",
    "skip": "skip",
    "end": "end",
}


class Turn(TypedDict):
    """One message of the conversation."""

    role: Role
    phase: str  # a phase id or "wrap_up"
    text: str
    kind: TurnKind
    at_s: float  # interview clock when the message was sent, in seconds
    engine: NotRequired[str]  # interviewer turns: the engine that wrote it (offline or openai:<model>)
    topic: NotRequired[str]  # follow-ups: the topic probed
    source: NotRequired[str]  # follow-ups: the knowledge note it came from
    quote: NotRequired[str]  # challenges: the candidate's words quoted back
    quotes: NotRequired[list[str]]  # challenges of two claims at once: both, `quote` first
    facts: NotRequired[list[str]]  # interviewer turns: the problem's facts it gave (clarifications)


class GradeRecord(TypedDict):
    """A grade as stored in the state: one answer's, or a phase's aggregate."""

    phase: str
    turn: int  # index of the graded candidate turn; -1 for a phase aggregate
    criteria: list[dict[str, Any]]  # CriterionGrade.model_dump()
    engine: str
    flags: list[str]
    score: float
    topics: NotRequired[list[str]]  # topics the answer raised (named or matched by meaning)
    covered: NotRequired[list[str]]  # of those, the ones its grade shows it covered well
    claims: NotRequired[list[dict[str, str | None]]]  # red flags it asserted (agent.policy.Claim)


class PhaseResult(TypedDict):
    """A finished phase: its grade and how long it took."""

    phase: str
    score: float | None  # None when the phase was never answered (not assessed)
    assessed: bool
    minutes: float
    budget_minutes: float
    answers: int
    criteria: list[dict[str, Any]]
    engine: str


class CandidateInput(TypedDict):
    """What the candidate sends when the graph waits for them."""

    action: Action
    text: str
    seconds: float  # how long the candidate took, added to the interview clock


class InterviewInput(TypedDict):
    """What starts an interview."""

    session_id: str
    problem: str
    level: Level
    length: Length


class InterviewState(InterviewInput):
    """The whole interview so far."""

    phase: str  # the current phase id, "wrap_up", or "done"
    clock_s: float  # interview clock in seconds
    phase_started_s: float  # clock when the current phase opened
    turns: Annotated[list[Turn], operator.add]  # the conversation
    grades: Annotated[list[GradeRecord], operator.add]  # per-answer grades
    phase_results: dict[str, PhaseResult]  # finished phases
    asked: Annotated[list[str], operator.add]  # ids of follow-up units already asked
    topics_seen: list[str]  # topics the candidate has raised so far
    topics_covered: NotRequired[list[str]]  # topics some answer covered well: not probed again
    challenged: NotRequired[list[str]]  # red flags already challenged (never twice)
    hints_used: dict[str, int]  # per phase
    followups_in_phase: int  # follow-ups asked in the current phase
    curveball_done: bool
    last_input: CandidateInput | None  # the candidate's latest input, until it is handled
    report: JSONObject | None  # the final report (Report as JSON), once the interview is over
