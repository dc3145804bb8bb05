"""What an engine does for the interviewer: write its turns and grade answers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from agent.content.schemas import Criterion
from agent.grading.models import AnswerGrade
from agent.state import InterviewerKind

if TYPE_CHECKING:
    from agent.content.loader import KnowledgeBase

OnToken = Callable[[str], None]


@dataclass(frozen=True)
class TurnPlan:
    """What the interviewer's next message must do; the engine decides how to say it."""

    kind: InterviewerKind
    phase: str
    phase_title: str
    problem_title: str
    question: str  # the question, hint or change to deliver, from the knowledge base
    problem_prompt: str | None = None  # the problem statement, with the very first question
    last_answer: str | None = None  # the candidate's last message (untrusted text)
    answers_to_questions: Sequence[tuple[str, str]] = ()  # the candidate's clarifying questions, answered
    previous_phase_title: str | None = None  # set when this message moves to a new phase
    salt: int = 0  # varies template choices: seeded by the session id and the turn
    tone: str | None = None  # follow-ups: how the last answer landed (solid | weak)
    reason: str | None = None  # phase openings: why the last phase ended; wrap-up: time | early
    probe: str | None = None  # challenges the model chose: its question about the quoted claim
    second_quote: str | None = None  # challenges of two claims of one answer: the second one's words


def opening_plan(kb: KnowledgeBase, problem: str) -> TurnPlan:
    """The interview's first message: greet, state the problem, ask the first phase's opening question."""
    from agent.ids import PHASE_TITLES, PHASES

    note = kb.problem_note(problem)
    return TurnPlan(
        kind="opening",
        phase=PHASES[0],
        phase_title=PHASE_TITLES[PHASES[0]],
        problem_title=note.title,
        question=kb.phase_note(PHASES[0]).opening_questions[0],
        problem_prompt=note.prompt,
    )


@dataclass
class Usage:
    """Tokens and estimated cost of one engine's calls in a session."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float = 0.0
    retries: int = 0

    def as_dict(self) -> dict[str, float | int]:
        """A JSON-ready view."""
        return {
            "calls": self.calls,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cached_tokens": self.cached_tokens,
            "cost_usd": round(self.cost_usd, 6),
            "retries": self.retries,
        }


class Engine(Protocol):
    """An interviewer engine: the offline one or an LLM."""

    @property
    def name(self) -> str:
        """`offline`, or `openai:<model>`."""
        ...

    @property
    def prompt_versions(self) -> dict[str, str]:
        """Version hashes of the prompt files this engine uses (empty offline)."""
        ...

    @property
    def usage(self) -> Usage:
        """Tokens and cost so far."""
        ...

    def say(self, plan: TurnPlan, on_token: OnToken | None = None) -> str:
        """Write the interviewer's message for a plan, streaming tokens to `on_token` if given."""
        ...

    def grade_answer(
        self, problem: str, phase: str, criteria: Sequence[Criterion], answer: str
    ) -> AnswerGrade:
        """Grade one answer against the phase's criteria."""
        ...


@dataclass(frozen=True)
class FollowupOption:
    """A follow-up the policy ranked: the knowledge base's question and the note it comes from."""

    id: str  # the unit id, e.g. topics/class_imbalance.md#followup-0
    question: str
    note: str  # the note's source, e.g. topics/class_imbalance.md
    topic: str


@dataclass(frozen=True)
class FollowupRequest:
    """What an engine may weigh to choose the next follow-up; every choice stays in the knowledge base."""

    phase: str
    phase_title: str
    problem_title: str
    last_answer: str  # the candidate's latest answer (untrusted text)
    uncovered: Sequence[tuple[str, str]]  # the phase's criteria without solid evidence: (id, title)
    options: Sequence[FollowupOption]  # the policy's top follow-ups, best first

    @property
    def ids(self) -> list[str]:
        """The offered unit ids, best first."""
        return [o.id for o in self.options]

    @property
    def notes(self) -> list[str]:
        """The offered notes, each once, in the order of their first option."""
        return list(dict.fromkeys(o.note for o in self.options))


@dataclass(frozen=True)
class FollowupPick:
    """An engine's choice: one offered follow-up by id, or a probe of a claim quoted from the answer."""

    action: Literal["pick", "probe"]
    id: str = ""  # pick: one of the offered ids
    quote: str = ""  # probe: a verbatim span of the last answer
    question: str = ""  # probe: the question about it
    note: str = ""  # probe: the offered note it draws on


@runtime_checkable
class ChoosesFollowups(Protocol):
    """An engine that can choose among the policy's follow-ups (the LLM engine; not the offline one)."""

    def choose_followup(self, request: FollowupRequest) -> FollowupPick | None:
        """A checked choice, or None to keep the policy's first follow-up."""
        ...


def choose_followup(engine: object, request: FollowupRequest) -> FollowupPick | None:
    """The engine's choice when it has the capability and something to choose from; else None.

    Whatever the engine, a choice must name what was offered: an id not among the options, or a
    probe citing a note not among them, is no choice at all.
    """
    if not request.options or not isinstance(engine, ChoosesFollowups):
        return None
    pick = engine.choose_followup(request)
    if pick is None:
        return None
    offered = pick.id in request.ids if pick.action == "pick" else pick.note in request.notes
    return pick if offered else None
