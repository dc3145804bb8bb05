"""The offline engine: templated interviewer turns and the rubric-evidence grader. No network."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from agent.clarifications import by_fact
from agent.content.loader import validate_model
from agent.content.schemas import Criterion
from agent.engines.base import OnToken, TurnPlan, Usage
from agent.engines.registry import OFFLINE
from agent.grading.models import AnswerGrade
from agent.grading.offline import OfflineGrader

TEMPLATES = Path(__file__).with_name("offline_templates.yaml")
#: The keys of the slots chosen by a reason or a tone (see agent.policy and agent.nodes.conversation).
Transition = Literal["time", "covered", "followups", "skipped", "exhausted"]
Tone = Literal["solid", "weak"]
WrapUp = Literal["time", "early"]
K = TypeVar("K", bound=str)


class Templates(BaseModel):
    """The offline interviewer's phrasing (offline_templates.yaml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    greeting: list[str] = Field(min_length=1)
    first_question_intro: list[str] = Field(min_length=1)
    transition: dict[Transition, list[str]]
    followup_ack: dict[Tone, list[str]]
    challenge: list[str] = Field(min_length=1)
    challenge_two: list[str] = Field(min_length=1)
    clarification_answer: str
    clarification_unknown: str
    hint: list[str] = Field(min_length=1)
    hints_exhausted: str
    curveball: list[str] = Field(min_length=1)
    wrap_up: dict[WrapUp, list[str]]
    closing: list[str] = Field(min_length=1)
    wrap_up_answer: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _fallbacks(self) -> Templates:
        """Every keyed slot has lines for its fallback key, used when a reason or tone has none."""
        for name, slot, key in (
            ("transition", self.transition, "followups"),
            ("followup_ack", self.followup_ack, "weak"),
            ("wrap_up", self.wrap_up, "early"),
        ):
            if not slot.get(key):  # type: ignore[call-overload]
                raise ValueError(f"{name} needs lines under {key!r}")
        return self


def load_templates(path: Path = TEMPLATES) -> Templates:
    """Load and validate the template file."""
    return validate_model(Templates, yaml.safe_load(path.read_text(encoding="utf-8")), path)


def _pick(options: Sequence[str], salt: int) -> str:
    return options[salt % len(options)]


def _slot(options: Mapping[K, list[str]], key: str | None, fallback: K, salt: int) -> str:
    """A variant of the slot for this key (a reason, a tone), or of the fallback key."""
    chosen = next((lines for k, lines in options.items() if k == key and lines), None)
    return _pick(chosen or options[fallback], salt)


def compose_turn(templates: Templates, plan: TurnPlan) -> str:
    """The offline interviewer's message for a plan: the same plan always gives the same words."""
    t, salt = templates, plan.salt
    parts: list[str] = []
    for questions, answer in by_fact(plan.answers_to_questions):
        template = t.clarification_answer if answer else t.clarification_unknown
        parts.append(template.format(question='" and "'.join(questions), answer=answer))
    if plan.kind == "opening":
        if plan.problem_prompt:
            parts.insert(0, _pick(t.greeting, salt).format(problem_title=plan.problem_title))
            parts.insert(1, plan.problem_prompt)
            parts.append(_pick(t.first_question_intro, salt))
        elif plan.previous_phase_title is not None:
            # Titles as written ("Frame it as an ML problem"), never lower-cased.
            line = _slot(t.transition, plan.reason, "followups", salt)
            parts.append(line.format(phase_title=plan.phase_title))
        parts.append(plan.question)
    elif plan.kind == "followup":
        if not parts:
            parts.append(_slot(t.followup_ack, plan.tone, "weak", salt))
        parts.append(plan.question)
    elif plan.kind == "challenge" and plan.second_quote:
        parts.append(_pick(t.challenge_two, salt).format(quote=plan.question, second=plan.second_quote))
    elif plan.kind == "challenge":
        parts.append(_pick(t.challenge, salt).format(quote=plan.question))
        if plan.probe:  # only the LLM engine chooses probes; its wording can fall back to this one
            parts.append(plan.probe)
    elif plan.kind == "hint":
        parts.append(_pick(t.hint, salt).format(hint=plan.question) if plan.question else t.hints_exhausted)
    elif plan.kind == "curveball":
        parts.append(_pick(t.curveball, salt).format(change=plan.question))
    elif plan.kind == "wrap_up":
        parts.append(_slot(t.wrap_up, plan.reason, "early", salt))
    elif plan.kind == "closing":
        if plan.last_answer and "?" in plan.last_answer:
            parts.append(_pick(t.wrap_up_answer, salt))
        parts.append(_pick(t.closing, salt))
    else:
        raise ValueError(f"unknown turn kind {plan.kind!r}")
    return "\n\n".join(parts)


class OfflineEngine:
    """Interviewer turns from the notes' questions and templates; grades from rubric evidence."""

    name = OFFLINE

    def __init__(self, grader: OfflineGrader, templates: Templates | None = None) -> None:
        self.prompt_versions: dict[str, str] = {}
        self.grader = grader
        self.templates = templates or load_templates()
        self.usage = Usage()

    def say(self, plan: TurnPlan, on_token: OnToken | None = None) -> str:
        """Compose the message from templates; `on_token` receives it whole."""
        text = self._compose(plan)
        if on_token is not None:
            on_token(text)
        return text

    def _compose(self, plan: TurnPlan) -> str:
        return compose_turn(self.templates, plan)

    def grade_answer(
        self, problem: str, phase: str, criteria: Sequence[Criterion], answer: str
    ) -> AnswerGrade:
        """Grade one answer by rubric evidence matched by meaning."""
        return self.grader.grade(phase, criteria, answer, problem)
