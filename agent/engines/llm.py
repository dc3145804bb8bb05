"""The LLM engine: streamed interviewer turns and structured grading through an OpenAI-compatible server.

What the model says is checked in code: every criterion id must be the rubric's, every evidence
quote must be a verbatim span of the candidate's answer (a score without a valid quote becomes
"insufficient evidence"), and an answer that addresses the grader is capped exactly as offline.
The grading schema is built from the rubric in use (agent.llm.grading_schema), and the cap does
not rest on a regular expression alone: the model reports text aimed at it, the offline detector
looks for it too, and either one caps.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import yaml

from agent.clarifications import by_fact
from agent.config import LLMSettings
from agent.content.schemas import Criterion
from agent.engines.base import FollowupPick, FollowupRequest, OnToken, TurnPlan, Usage
from agent.engines.number_guard import invented_numbers, needs_guard
from agent.engines.offline import Templates, compose_turn, load_templates
from agent.grading.models import AnswerGrade, CriterionGrade
from agent.grading.scale import CAP
from agent.grading.sentences import split_sentences
from agent.llm.client import CallUsage, LLMClient, LLMError
from agent.llm.followup_schema import (
    FOLLOWUP_MAX_TOKENS,
    LLMFollowupPick,
    followup_schema,
    render_options,
    render_uncovered,
)
from agent.llm.grading_schema import (
    RATIONALE_MAX_CHARS,
    LLMCriterionGrade,
    LLMGrade,
    grading_max_tokens,
    grading_schema,
)
from agent.llm.prompts import load_prompt, untrusted

_REPORT_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+|\s*(?:\.\.\.|\u2026)\s*")
#: Room for the interviewer's at most four sentences; stops a model that would not stop.
INTERVIEWER_MAX_TOKENS = 400
#: Shortest span of a model's report that can cap an answer.
MIN_REPORT_CHARS = 10
#: Shortest quote a probe may rest on: a claim, not a stray word.
MIN_PROBE_QUOTE_CHARS = 10
PRICES = Path(__file__).resolve().parents[1] / "llm" / "prices.yaml"


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
        evidence = "\n".join(f"    - {e}" for e in (*c.evidence, *c.problem_evidence))
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


#: Why the interview moves on, told to the model so its transition fits (never "time's up" early).
#: What the model is told about a question the problem leaves to the candidate.
_THEIRS = "This is theirs to decide: tell them to state an assumption."

_REASONS = {
    "time": "The previous phase's time is up.",
    "covered": "The candidate covered the previous phase well; time remains.",
    "followups": "The previous phase's follow-up questions are done; time remains.",
    "skipped": "The candidate asked to move on.",
    "exhausted": "There is nothing more to ask in the previous phase; time remains.",
    "early": "The design part ended before the interview's time ran out.",
}


class LLMEngine:
    """Interviewer turns and grades from a model behind an OpenAI-compatible Chat Completions server."""

    def __init__(self, settings: LLMSettings, client: LLMClient | None = None) -> None:
        self.settings = settings
        self.model = settings.model
        self.client = client or LLMClient(settings)
        self.usage = Usage()
        self._interviewer = load_prompt("interviewer")
        self._grader = load_prompt("grader")
        self._followup = load_prompt("followup")
        self._templates: Templates | None = None  # loaded when the number guard first needs them
        #: Why the model's follow-up choice or wording was set aside, counted (never raised).
        self.fallbacks: dict[str, int] = {}

    @property
    def name(self) -> str:
        """`openai:<model>`."""
        return f"openai:{self.model}"

    @property
    def prompt_versions(self) -> dict[str, str]:
        """The version hash of each prompt file in use."""
        return {p.name: p.version for p in (self._interviewer, self._grader, self._followup)}

    def _count(self, kind: str, usage: CallUsage) -> None:
        self.usage.calls += 1
        self.usage.prompt_tokens += usage.prompt_tokens
        self.usage.completion_tokens += usage.completion_tokens
        self.usage.cached_tokens += usage.cached_tokens
        self.usage.cost_usd += estimate_cost(self.model, usage)
        self.usage.retries = self.client.retries

    # ------------------------------------------------------------------ talking

    def _fell_back(self, why: str) -> None:
        self.fallbacks[why] = self.fallbacks.get(why, 0) + 1

    def say(self, plan: TurnPlan, on_token: OnToken | None = None) -> str:
        """Stream the interviewer's message for the plan; a turn giving facts is checked before it shows.

        A turn that answers clarifying questions is not streamed: its wording must not state a number
        the problem's facts did not give, and a reply that does is replaced by the offline wording.
        """
        if not needs_guard(plan):
            return self._word(plan, on_token)
        text = self._word(plan, None)
        if invented_numbers(text, plan):
            self._fell_back("invented_number")
            if self._templates is None:
                self._templates = load_templates()
            text = compose_turn(self._templates, plan)
        if on_token is not None:
            on_token(text)
        return text

    def _word(self, plan: TurnPlan, on_token: OnToken | None) -> str:
        facts = [f"The problem statement: {plan.problem_prompt}"] if plan.problem_prompt else []
        if plan.reason in _REASONS:
            facts.append(_REASONS[plan.reason])
        groups = by_fact(plan.answers_to_questions)
        facts += [
            f"The candidate asked: {' '.join(untrusted(q) for q in qs)} Answer: {a}" for qs, a in groups if a
        ]
        facts += [f"The candidate asked: {untrusted(qs[0])} {_THEIRS}" for qs, a in groups if not a]
        messages = self._interviewer.render(
            phase_title=plan.phase_title,
            problem_title=plan.problem_title,
            kind=plan.kind,
            instruction=self._interviewer.instructions[plan.kind],
            question=_question(plan),
            context="\n".join(facts) or "(none)",
            last_answer=untrusted(plan.last_answer),
        )
        text, usage = self.client.stream_text(messages, on_token, max_tokens=INTERVIEWER_MAX_TOKENS)
        self._count("interviewer", usage)
        return text

    # ------------------------------------------------------------------ choosing

    def choose_followup(self, request: FollowupRequest) -> FollowupPick | None:
        """The model's choice among the offered follow-ups, checked; None keeps the policy's first."""
        messages = self._followup.render(
            problem_title=request.problem_title,
            phase_title=request.phase_title,
            uncovered=render_uncovered(request),
            options=render_options(request),
            last_answer=untrusted(request.last_answer),
        )
        try:
            reply, usage = self.client.structured(
                messages,
                LLMFollowupPick,
                json_schema=followup_schema(request),
                max_tokens=FOLLOWUP_MAX_TOKENS,
            )
        except LLMError:
            # The choice is an improvement, not a need: the policy's question is as good a turn.
            self._fell_back("call_failed")
            return None
        self._count("followup", usage)
        pick, why = checked_pick(reply, request)
        if why:
            self._fell_back(why)
        return pick

    # ------------------------------------------------------------------ grading

    def grade_answer(
        self, problem: str, phase: str, criteria: Sequence[Criterion], answer: str
    ) -> AnswerGrade:
        """Grade one answer with a schema built from its rubric, then verify ids and quotes in code."""
        from agent.ids import PHASE_TITLES

        ids = [c.id for c in criteria]

        def check(grade: LLMGrade) -> None:
            # Grammar-constrained servers cannot get this wrong; the others can.
            returned = list(grade.criteria)
            if sorted(returned) != sorted(ids):
                raise ValueError(f"criteria ids {returned} do not match the rubric's {ids}")

        messages = self._grader.render(
            problem_title=problem.replace("_", " "),
            phase_title=PHASE_TITLES[phase],
            rubric=render_rubric(criteria),
            answer=untrusted(answer),
        )
        parsed, usage = self.client.structured(
            messages,
            LLMGrade,
            check,
            json_schema=grading_schema(ids),
            max_tokens=grading_max_tokens(len(ids)),
        )
        self._count("grader", usage)
        capped = bool(injection_flags(answer, parsed.addressed_to_grader))
        grades = [self._verified(cid, parsed.criteria[cid], answer, capped) for cid in ids]
        return AnswerGrade(
            phase=phase, criteria=grades, engine=self.name, flags=["injection"] if capped else []
        )

    def _verified(self, cid: str, grade: LLMCriterionGrade, answer: str, injection: bool) -> CriterionGrade:
        quotes = [q for q in (verbatim(e, answer) for e in grade.evidence) if q]
        score: float | None = float(grade.score) if grade.score is not None else None
        rationale = grade.rationale.strip()[:RATIONALE_MAX_CHARS]
        if score is not None and not quotes:
            score = None
            rationale = (
                f"{rationale} (no verbatim quote supported the score, so it counts as insufficient evidence)"
            ).strip()
        if injection and score is not None and score > CAP:
            score = CAP
            rationale = f"{rationale} (capped: the answer contains text addressed to the grader)".strip()
        return CriterionGrade(id=cid, score=score, evidence=quotes, rationale=rationale)


def _question(plan: TurnPlan) -> str:
    """What the <question> block carries: the plan's question, and a chosen probe after its quote, or a
    second claim's words."""
    if plan.second_quote:
        return f"{plan.question}\nAnd: {plan.second_quote}"
    if plan.probe:
        return f"{plan.question}\n{plan.probe}"
    return plan.question or "(none)"


def checked_pick(reply: LLMFollowupPick, request: FollowupRequest) -> tuple[FollowupPick | None, str]:
    """The reply as a pick if every part of it checks out against the request, else None and why.

    The schema already confines ids and notes, but only a grammar-constrained server enforces it:
    an id or note not offered, a quote that is not the candidate's own words or an empty question
    all mean the model's choice is set aside for the policy's.
    """
    if reply.action == "pick":
        if reply.id not in request.ids:
            return None, "invented_id"
        return FollowupPick(action="pick", id=reply.id), ""
    quote = verbatim(reply.quote.strip(), request.last_answer)
    if quote is None or len(quote) < MIN_PROBE_QUOTE_CHARS:
        return None, "quote_not_verbatim"
    if reply.note not in request.notes:
        return None, "invented_note"
    question = " ".join(reply.question.split())
    if not question:
        return None, "empty_question"
    return FollowupPick(action="probe", quote=quote, question=question, note=reply.note), ""


def injection_flags(answer: str, reported: str) -> list[str]:
    """Why an answer counts as addressing the grader: the offline detector, the model's report, or both.

    The model's report counts only when it quotes the answer itself, so a model cannot cap an honest
    answer by inventing one; the detector needs no model at all. Either is enough to cap.
    """
    reasons = []
    if any(s.injection for s in split_sentences(answer)):
        reasons.append("detector")
    # A model may report several spans at once: any one of them found in the answer counts, if it
    # is long enough to be a request rather than a stray word.
    spans = [span.strip() for span in (reported, *_REPORT_SPLIT.split(reported))]
    if any(len(span) >= MIN_REPORT_CHARS and verbatim(span, answer) is not None for span in spans):
        reasons.append("model")
    return reasons
