"""Nodes that talk: open the interview and each phase, wait for the candidate, probe, hint, curveball."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agent import policy
from agent.content.hints import hints_for, hints_given, pending_question
from agent.context import InterviewContext
from agent.engines.base import FollowupOption, FollowupPick, FollowupRequest, choose_followup, opening_plan
from agent.followups import Candidate, FollowUpChoice, interview_answers
from agent.grading.models import CriterionGrade
from agent.ids import PHASE_TITLES, PHASES, WRAP_UP
from agent.nodes.common import interviewer_turn, next_phase, phase_answers, plan_for
from agent.nodes.grading import gaps, move_on_reason, pending_claims, phase_result, uncovered_criteria
from agent.state import CANDIDATE_KINDS, CandidateInput, InterviewState, Turn


def start(state: InterviewState, runtime: Runtime[InterviewContext]) -> dict[str, Any]:
    """Greet the candidate, state the problem and ask the first phase's opening question."""
    ctx = runtime.context
    first = PHASES[0]
    initial: InterviewState = {
        **state,
        "phase": first,
        "clock_s": 0.0,
        "phase_started_s": 0.0,
        "turns": [],
        "grades": [],
        "phase_results": {},
        "asked": [],
        "topics_seen": [],
        "topics_covered": [],
        "challenged": [],
        "hints_used": {},
        "followups_in_phase": 0,
        "curveball_done": False,
        "last_input": None,
        "report": None,
    }
    plan = replace(opening_plan(ctx.kb, state["problem"]), salt=policy.turn_salt(state["session_id"], 0))
    turn = interviewer_turn(ctx, initial, plan)
    return {**{k: v for k, v in initial.items() if k not in ("turns", "grades", "asked")}, "turns": [turn]}


def wait_for_candidate(state: InterviewState) -> dict[str, Any]:
    """Pause the graph until the candidate answers, asks for a hint, skips ahead or ends."""
    last = state["turns"][-1] if state["turns"] else None
    raw = interrupt({"phase": state["phase"], "question": last["text"] if last else ""})
    received = _parse_input(raw)
    clock = state["clock_s"] + received["seconds"]
    kind = CANDIDATE_KINDS[received["action"]]
    turn = Turn(role="candidate", phase=state["phase"], text=received["text"], kind=kind, at_s=clock)
    return {"last_input": received, "clock_s": clock, "turns": [turn]}


def _parse_input(raw: object) -> CandidateInput:
    if isinstance(raw, str):
        return CandidateInput(action="answer", text=raw, seconds=0.0)
    if not isinstance(raw, dict):
        raise ValueError(f"the candidate's input must be text or a mapping, not {type(raw).__name__}")
    action = raw.get("action", "answer")
    if action not in ("answer", "hint", "skip", "end"):
        raise ValueError(f"unknown candidate action {action!r}")
    return CandidateInput(
        action=action, text=str(raw.get("text", "")), seconds=max(float(raw.get("seconds", 0)), 0.0)
    )


def probe_state(ctx: InterviewContext, state: InterviewState) -> policy.ProbeState:
    """What follow-up choice needs to know about the interview so far, after its latest answer."""
    return policy.ProbeState(
        gaps=gaps(ctx, state),
        critical=ctx.kb.problem_note(state["problem"]).critical_topics,
        covered=policy.covered_before(
            [(g["turn"], g.get("covered", [])) for g in state["grades"]], _latest_answer_turn(state)
        ),
        seed=state["session_id"],
        probed=[t["topic"] for t in state["turns"] if t.get("kind") == "followup" and "topic" in t],
    )


def followup_candidates(ctx: InterviewContext, state: InterviewState) -> list[Candidate]:
    """Every follow-up that may still be asked in the phase, scored against its latest answer."""
    answers = phase_answers(state)
    _, vectors = ctx.sentences(answers[-1] if answers else "")
    return ctx.selector.candidates(
        problem=state["problem"],
        phase=state["phase"],
        sentence_vectors=vectors,
        asked=state["asked"],
        answers=interview_answers(state["turns"]),
    )


def followup_choices(ctx: InterviewContext, state: InterviewState, k: int) -> list[FollowUpChoice]:
    """The k follow-ups worth asking after the phase's latest answer, best first (also scored by evals)."""
    return policy.rank_followups(followup_candidates(ctx, state), probe_state(ctx, state), k, ctx.probing)


def _latest_answer_turn(state: InterviewState) -> int:
    answers = [i for i, t in enumerate(state["turns"]) if t["role"] == "candidate" and t["kind"] == "answer"]
    return answers[-1] if answers else len(state["turns"])


def _question_only(ctx: InterviewContext, state: InterviewState) -> bool:
    answers = phase_answers(state)
    return bool(answers) and policy.is_question_only(ctx.sentences(answers[-1])[0])


def _tone(state: InterviewState) -> policy.Tone:
    if not state["grades"]:
        return "weak"
    return policy.answer_tone([CriterionGrade.model_validate(c) for c in state["grades"][-1]["criteria"]])


#: Follow-ups offered to an engine that chooses (the LLM): the policy's best few, on different topics.
FOLLOWUP_OPTIONS = 3


def followup_request(
    ctx: InterviewContext, state: InterviewState, choices: list[FollowUpChoice]
) -> FollowupRequest:
    """What the engine is shown to choose the next follow-up: the answer, the gaps, the options."""
    answers = phase_answers(state)
    return FollowupRequest(
        phase=state["phase"],
        phase_title=PHASE_TITLES[state["phase"]],
        problem_title=ctx.kb.problem_note(state["problem"]).title,
        last_answer=answers[-1] if answers else "",
        uncovered=uncovered_criteria(ctx, state),
        options=[FollowupOption(c.unit_id, c.question, c.source, c.topic) for c in choices],
    )


def ask_followup(state: InterviewState, runtime: Runtime[InterviewContext]) -> dict[str, Any]:
    """Probe with the best follow-up: dig into what was raised, or into a gap the rubric has not seen.

    The policy ranks the knowledge base's follow-ups; an engine that chooses (the LLM) may take
    another of the top few, or probe a claim of the answer, citing one of their notes. The offline
    engine keeps the policy's first.
    """
    ctx = runtime.context
    choices = followup_choices(ctx, state, k=FOLLOWUP_OPTIONS)
    if not choices:
        return _advance(state, ctx, "exhausted")
    pick = choose_followup(ctx.engine, followup_request(ctx, state, choices))
    if pick is not None and pick.action == "probe":
        return _probe_claim(ctx, state, pick, choices)
    choice = next((c for c in choices if pick is not None and c.unit_id == pick.id), choices[0])
    turn = interviewer_turn(
        ctx,
        state,
        plan_for(ctx, state, "followup", choice.question, tone=_tone(state)),
        topic=choice.topic,
        source=choice.source,
    )
    # A turn of clarifying questions is not an answer: it does not use up one of the phase's follow-ups.
    counted = 0 if _question_only(ctx, state) else 1
    return {
        "turns": [turn],
        "asked": [choice.unit_id],
        "followups_in_phase": state["followups_in_phase"] + counted,
        "last_input": None,
    }


def _probe_claim(
    ctx: InterviewContext, state: InterviewState, pick: FollowupPick, choices: list[FollowUpChoice]
) -> dict[str, Any]:
    """The engine's probe of a claim, delivered as a challenge quoting it and citing its note."""
    cited = next(c for c in choices if c.source == pick.note)
    plan = plan_for(ctx, state, "challenge", pick.quote, probe=pick.question)
    turn = interviewer_turn(ctx, state, plan, topic=cited.topic, source=cited.source)
    turn["quote"] = pick.quote
    counted = 0 if _question_only(ctx, state) else 1
    return {
        "turns": [turn],
        "followups_in_phase": state["followups_in_phase"] + counted,
        "last_input": None,
    }


def challenge_claim(state: InterviewState, runtime: Runtime[InterviewContext]) -> dict[str, Any]:
    """Challenge the wrong claims the latest answer made (one or two), quoting the candidate, before
    any new topic."""
    ctx = runtime.context
    claims = pending_claims(state)
    if not claims:  # the router only comes here with a claim; be safe if a caller does not
        return ask_followup(state, runtime)
    claim, *more = claims
    second = more[0].quote if more else None
    turn = interviewer_turn(ctx, state, plan_for(ctx, state, "challenge", claim.quote, second_quote=second))
    turn["quote"] = claim.quote
    if second is not None:
        turn["quotes"] = [c.quote for c in claims]
    if claim.topic:
        turn["topic"] = claim.topic
    return {
        "turns": [turn],
        "challenged": [*state.get("challenged", []), *(c.statement for c in claims)],
        "followups_in_phase": state["followups_in_phase"] + 1,
        "last_input": None,
    }


def give_hint(state: InterviewState, runtime: Runtime[InterviewContext]) -> dict[str, Any]:
    """Give the next hint for the pending question on this problem, mildest first."""
    ctx = runtime.context
    phase = state["phase"]
    used = hints_given(state["turns"])
    pending = pending_question(state["turns"], state["asked"])
    hints = hints_for(ctx.kb, state["problem"], phase, pending) if phase in PHASES else []
    if used >= len(hints):
        # An empty hint tells the engine the hints are used up.
        turn = interviewer_turn(ctx, state, plan_for(ctx, state, "hint", ""))
        return {"turns": [turn], "last_input": None}
    turn = interviewer_turn(ctx, state, plan_for(ctx, state, "hint", hints[used]))
    in_phase = state["hints_used"].get(phase, 0)
    return {"turns": [turn], "hints_used": {**state["hints_used"], phase: in_phase + 1}, "last_input": None}


def spring_curveball(state: InterviewState, runtime: Runtime[InterviewContext]) -> dict[str, Any]:
    """Change a requirement, once per interview, as the problem note says."""
    ctx = runtime.context
    curveball = ctx.kb.problem_note(state["problem"]).curveball
    turn = interviewer_turn(
        ctx,
        state,
        plan_for(ctx, state, "curveball", curveball.change),
        topic=curveball.topics[0],
        source=ctx.kb.problems[state["problem"]].source,
    )
    return {"turns": [turn], "curveball_done": True, "last_input": None}


def advance_phase(state: InterviewState, runtime: Runtime[InterviewContext]) -> dict[str, Any]:
    """Close the current phase (grade it, note its time) and open the next one, or the wrap-up."""
    ctx = runtime.context
    received = state["last_input"]
    skipped = received is not None and received["action"] == "skip"
    reason: Transition = "skipped" if skipped else (move_on_reason(ctx, state) or "followups")
    return _advance(state, ctx, reason)


#: Why a phase ended: policy.MoveOn, the candidate skipped ahead, or no follow-up was left to ask.
Transition = Literal["time", "covered", "followups", "skipped", "exhausted"]


def _advance(state: InterviewState, ctx: InterviewContext, reason: Transition) -> dict[str, Any]:
    phase = state["phase"]
    results = dict(state["phase_results"])
    if phase in PHASES:
        results[phase] = phase_result(ctx, state, phase)
    upcoming = next_phase(phase)
    moved: InterviewState = {
        **state,
        "phase": upcoming,
        "phase_started_s": state["clock_s"],
        "followups_in_phase": 0,
    }
    if upcoming == WRAP_UP:
        at_time = policy.interview_time_is_up(state["clock_s"], state["length"])
        plan = plan_for(ctx, moved, "wrap_up", "", reason="time" if at_time else "early")
        turn = interviewer_turn(ctx, moved, plan, phase=WRAP_UP)
    else:
        opening = ctx.kb.phase_note(upcoming).opening_questions[0]
        turn = interviewer_turn(
            ctx,
            moved,
            plan_for(ctx, moved, "opening", opening, previous_phase_title=phase, reason=reason),
            phase=upcoming,
        )
    return {
        "phase": upcoming,
        "phase_started_s": state["clock_s"],
        "followups_in_phase": 0,
        "phase_results": results,
        "turns": [turn],
        "last_input": None,
    }
