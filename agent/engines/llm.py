"""The LLM engine: streamed interviewer turns and structured grading through an OpenAI-compatible server.

What the model says is checked in code: every criterion id must be the rubric's, every evidence
quote must be a verbatim span of the candidate's answer (a score without a valid quote becomes
"insufficient evidence"), and an answer that addresses the grader is capped exactly as offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from agent.config import LLMSettings
from agent.content.schemas import Criterion
from agent.engines.base import OnToken, TurnPlan, Usage
from agent.grading.models import AnswerGrade, CriterionGrade
from agent.grading.scale import CAP
from agent.grading.sentences import split_sentences
from agent.llm.client import CallUsage, LLMClient
from agent.llm.prompts import load_prompt, untrusted

PRICES = Path(__file__).resolve().parents[1] / "llm" / "prices.yaml"


class LLMCriterionGrade(BaseModel):
    """The grade of one rubric criterion."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="the criterion id, exactly as given in the rubric")
    score: int | None = Field(
        ge=1, le=4, description="1-4 from the level anchors, or null if the answer gives no evidence"
    )
    evidence: list[str] = Field(
        max_length=3,
        description="up to three spans copied exactly, character for character, from the candidate's answer",
    )
    rationale: str = Field(
        description="one sentence explaining the score with reference to the level anchors"
    )


class LLMGrade(BaseModel):
    """Grades for every criterion of the rubric."""

    model_config = ConfigDict(extra="forbid")

    criteria: list[LLMCriterionGrade] = Field(description="one entry per rubric criterion, in rubric order")


@lru_cache(maxsize=1)
def _prices() -> dict[str, dict[str, float]]:
    data: dict[str, dict[str, float]] = yaml.safe_load(PRICES.read_text(encoding="utf-8"))
    return data


def estimate_cost(model: str, usage: CallUsage) -> float:
    """US dollars for one call at the listed prices (0 for unlisted, e.g. local, models)."""
    price = _prices().get(model) or next(
        (p for name, p in _prices().items() if model.startswith(name + "-")), None
    )
    if price is None:
        return 0.0
    uncached = usage.prompt_tokens - usage.cached_tokens
    return (
        uncached * price["input"]
        + usage.cached_tokens * price["cached_input"]
        + usage.completion_tokens * price["output"]
    ) / 1_000_000


def render_rubric(criteria: Sequence[Criterion]) -> str:
    """The current phase's rubric as compact text for the grader prompt."""
    blocks = []
    for c in criteria:
        levels = "\n".join(f"    {level}: {text}" for level, text in sorted(c.levels.items()))
        evidence = "\n".join(f"    - {e}" for e in c.evidence)
        flags = "\n".join(f"    - {r}" for r in c.red_flags)
        blocks.append(
            f"- id: {c.id} (weight {c.weight:.2f})\n  {c.title}: {c.description}\n  levels:\n{levels}\n"
            f"  evidence a grader looks for:\n{evidence}\n  red flags:\n{flags}"
        )
    return "\n".join(blocks)


def _normalise(text: str) -> str:
    return " ".join(text.split()).strip().strip("\"'\u201c\u201d\u2018\u2019").lower()


def verbatim(quote: str, answer: str) -> str | None:
    """The exact span of `answer` that `quote` reproduces (ignoring whitespace and case), or None."""
    if quote and quote in answer:
        return quote
    target = _normalise(quote)
    if len(target) < 8:
        return None
    # Map the whitespace-collapsed, lower-cased answer back to positions in the original text.
    positions: list[int] = []
    collapsed: list[str] = []
    previous_space = True
    for i, ch in enumerate(answer):
        if ch.isspace():
            if not previous_space:
                collapsed.append(" ")
                positions.append(i)
            previous_space = True
        else:
            collapsed.append(ch.lower())
            positions.append(i)
            previous_space = False
    haystack = "".join(collapsed)
    start = haystack.find(target)
    if start < 0:
        return None
    return answer[positions[start] : positions[start + len(target) - 1] + 1]


class LLMEngine:
    """Interviewer turns and grades from a model behind an OpenAI-compatible Chat Completions server."""

    def __init__(self, settings: LLMSettings, client: LLMClient | None = None) -> None:
        self.settings = settings
        self.model = settings.model
        self.client = client or LLMClient(settings)
        self.usage = Usage()
        self._interviewer = load_prompt("interviewer")
        self._grader = load_prompt("grader")

    @property
    def name(self) -> str:
        """`openai:<model>`."""
        return f"openai:{self.model}"

    @property
    def prompt_versions(self) -> dict[str, str]:
        """The version hash of each prompt file in use."""
        return {self._interviewer.name: self._interviewer.version, self._grader.name: self._grader.version}

    def _count(self, kind: str, usage: CallUsage) -> None:
        self.usage.calls += 1
        self.usage.prompt_tokens += usage.prompt_tokens
        self.usage.completion_tokens += usage.completion_tokens
        self.usage.cached_tokens += usage.cached_tokens
        self.usage.cost_usd += estimate_cost(self.model, usage)
        self.usage.retries = self.client.retries
        self.usage.by_kind[kind] = self.usage.by_kind.get(kind, 0) + usage.prompt_tokens

    # ------------------------------------------------------------------ talking

    def say(self, plan: TurnPlan, on_token: OnToken | None = None) -> str:
        """Stream the interviewer's message for the plan."""
        facts = [f"The problem statement: {plan.problem_prompt}"] if plan.problem_prompt else []
        facts += [
            f"The candidate asked: {untrusted(q)} Answer: {a}" for q, a in plan.answers_to_questions if a
        ]
        facts += [
            f"The candidate asked: {untrusted(q)} This is theirs to decide: tell them to state an assumption."
            for q, a in plan.answers_to_questions
            if not a
        ]
        messages = self._interviewer.render(
            phase_title=plan.phase_title,
            problem_title=plan.problem_title,
            kind=plan.kind,
            instruction=self._interviewer.instructions[plan.kind],
            question=plan.question or "(none)",
            context="\n".join(facts) or "(none)",
            last_answer=untrusted(plan.last_answer),
        )
        text, usage = self.client.stream_text(messages, on_token)
        self._count("interviewer", usage)
        return text

    # ------------------------------------------------------------------ grading

    def grade_answer(
        self, problem: str, phase: str, criteria: Sequence[Criterion], answer: str
    ) -> AnswerGrade:
        """Grade one answer with structured output, then verify ids and quotes in code."""
        from agent.ids import PHASE_TITLES

        ids = [c.id for c in criteria]

        def check(grade: LLMGrade) -> None:
            returned = [c.id for c in grade.criteria]
            if sorted(returned) != sorted(ids):
                raise ValueError(f"criteria ids {returned} do not match the rubric's {ids}")

        messages = self._grader.render(
            problem_title=problem.replace("_", " "),
            phase_title=PHASE_TITLES[phase],
            rubric=render_rubric(criteria),
            answer=untrusted(answer),
        )
        parsed, usage = self.client.structured(messages, LLMGrade, check)
        self._count("grader", usage)
        injection = any(s.injection for s in split_sentences(answer))
        by_id = {c.id: c for c in parsed.criteria}
        grades = [self._verified(by_id[i], answer, injection) for i in ids]
        flags = ["injection"] if injection else []
        return AnswerGrade(phase=phase, criteria=grades, engine=self.name, flags=flags)

    def _verified(self, grade: LLMCriterionGrade, answer: str, injection: bool) -> CriterionGrade:
        quotes = [q for q in (verbatim(e, answer) for e in grade.evidence) if q]
        score: float | None = float(grade.score) if grade.score is not None else None
        rationale = grade.rationale.strip()
        if score is not None and not quotes:
            score = None
            rationale = (
                f"{rationale} (no verbatim quote supported the score, so it counts as insufficient evidence)"
            )
        if injection and score is not None and score > CAP:
            score = CAP
            rationale = f"{rationale} (capped: the answer contains text addressed to the grader)"
        return CriterionGrade(id=grade.id, score=score, evidence=quotes, rationale=rationale)
