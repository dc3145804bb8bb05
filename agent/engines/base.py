"""What an engine does for the interviewer: write its turns and grade answers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

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
