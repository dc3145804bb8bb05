"""The interview's rules in one place: coverage, moving on, stuck, wrong claims and follow-up choice.

Pure functions of what they are given (grades, rubric, topics, the clock): the graph's routers and
nodes, `mlsd followups` and the eval replay all call these, so they cannot disagree. Score
thresholds come from agent.grading.scale and are never re-defined here.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from agent.content.schemas import Criterion
from agent.followups import Candidate, FollowUpChoice, FollowUpSelector, Reason
from agent.grading.models import AnswerGrade, CriterionGrade
from agent.grading.offline import AnswerFeatures
from agent.grading.scale import CAPPING_FLAGS, aggregate_phase, is_solid
from agent.grading.sentences import Sentence

# ---------------------------------------------------------------------- coverage


def coverage(
    criteria: Sequence[Criterion], grades: Sequence[AnswerGrade], phase: str
) -> dict[str, float | None]:
    """Per criterion, the best grade any answer of the phase earned so far (None: no evidence yet)."""
    merged = aggregate_phase(phase, [c.id for c in criteria], grades, engine="")
    return {c.id: c.score for c in merged.criteria}


def covered_well(
    criteria: Sequence[Criterion], grade: Sequence[CriterionGrade], flags: Iterable[str], seen: Sequence[str]
) -> list[str]:
    """The topics one answer addressed well: raised in it (`seen`) and listed by a criterion it was solid on.

    Mentioning a topic is not covering it, and a topic no criterion of the phase judges cannot be
    shown covered by the grade: both stay open for a probe. A capped answer covers nothing.
    """
    if any(f in CAPPING_FLAGS for f in flags):
        return []
    scores = {g.id: g.score for g in grade}
    solid_topics = {t for c in criteria if is_solid(scores.get(c.id)) for t in c.topics}
    return [t for t in seen if t in solid_topics]


def covered_before(answers: Sequence[tuple[int, Sequence[str]]], latest: int) -> list[str]:
    """Topics covered well by the answers before turn `latest`: (turn, covered topics) per answer.

    The latest answer's own solid topics stay open for one kind of probe, depth on what the
    candidate just raised; once another answer has come, they are covered ground.
    """
    return list(dict.fromkeys(t for turn, topics in answers if turn < latest for t in topics))


# ---------------------------------------------------------------------- moving on

#: Share of a phase's rubric weight that must have solid evidence before the interviewer moves on.
EXIT_COVERAGE = 0.75

MoveOn = Literal["time", "covered", "followups"]


def exit_criteria_met(criteria: Sequence[Criterion], best: Mapping[str, float | None]) -> bool:
    """Criteria carrying at least 75% of the phase's weight have solid evidence.

    A share of the weight rather than "every heavy criterion": with a problem overlay the weights
    spread thinner, and a fixed weight cut-off once left a single criterion, so one good answer
    ended the phase before the candidate could show the rest (found by the eval suite).
    """
    total = sum(c.weight for c in criteria)
    solid = sum(c.weight for c in criteria if is_solid(best.get(c.id)))
    return total > 0 and solid >= EXIT_COVERAGE * total


def time_is_up(elapsed_s: float, budget_s: float) -> bool:
    """The phase has used its time budget."""
    return elapsed_s >= budget_s


def move_on_reason(
    *,
    elapsed_s: float,
    budget_s: float,
    followups: int,
    max_followups: int,
    criteria: Sequence[Criterion],
    best: Mapping[str, float | None],
) -> MoveOn | None:
    """Why the interviewer should leave the phase now, or None to keep probing (the clock first)."""
    if time_is_up(elapsed_s, budget_s):
        return "time"
    if exit_criteria_met(criteria, best):
        return "covered"
    if followups >= max_followups:
        return "followups"
    return None


def interview_time_is_up(clock_s: float, length_minutes: int) -> bool:
    """The whole interview's time is spent (within a minute): the wrap-up may say "we're at time"."""
    return clock_s >= 60.0 * (length_minutes - 1)


# ---------------------------------------------------------------------- the candidate's turn

_STUCK_WORDS = (
    "don't know",
    "dont know",
    "not sure",
    "no idea",
    "i'm stuck",
    "im stuck",
    "can you give me a hint",
)
#: Longer than this, an answer is an answer even if it says "not sure" about one point.
STUCK_MAX_WORDS = 40


def is_stuck(text: str) -> bool:
    """The candidate says they are stuck in a short answer, or says almost nothing."""
    words = len(text.split())
    lowered = text.lower()
    return words < 6 or (words <= STUCK_MAX_WORDS and any(w in lowered for w in _STUCK_WORDS))


def is_question_only(sentences: Sequence[Sentence]) -> bool:
    """Every sentence of the message is a question: the candidate is clarifying, not answering."""
    return bool(sentences) and all(s.question for s in sentences)


Tone = Literal["solid", "weak"]


def answer_tone(grade: Sequence[CriterionGrade]) -> Tone:
    """How the latest answer landed, for the acknowledgement: solid on some criterion, or not."""
    return "solid" if any(is_solid(g.score) for g in grade) else "weak"


# ---------------------------------------------------------------------- wrong claims


@dataclass(frozen=True)
class Claim:
    """A rubric red flag an answer asserted, with the candidate's words to quote back."""

    criterion: str
    statement: str  # the rubric's red flag (never shown to the candidate)
    quote: str  # a short verbatim excerpt of the sentence that asserted it, sanitised
    topic: str | None

    def as_json(self) -> dict[str, str | None]:
        """JSON-ready, for the state."""
        return {
            "criterion": self.criterion,
            "statement": self.statement,
            "quote": self.quote,
            "topic": self.topic,
        }


#: The longest excerpt quoted back, in words.
QUOTE_WORDS = 18
_UNSAFE = re.compile(r"[\x00-\x1f\x7f<>{}\"`]+")


def excerpt(text: str, words: int = QUOTE_WORDS) -> str:
    """A short quotable piece of the candidate's sentence: no markup, braces or quote marks, one line."""
    clean = " ".join(_UNSAFE.sub(" ", text).split()).rstrip(".;,:")
    parts = clean.split()
    return clean if len(parts) <= words else " ".join(parts[:words]) + " ..."


def asserted_claims(criteria: Sequence[Criterion], features: AnswerFeatures) -> list[Claim]:
    """The red flags an answer stated, worth a challenge (negation-aware, by the offline scorer, at its
    challenge threshold, which is lower than the cap's), heaviest criterion first."""
    by_id = {c.id: c for c in criteria}
    claims = []
    for f in features.criteria:
        if f.suspect is None:
            continue
        _, statement, sentence = f.suspect
        criterion = by_id[f.criterion]
        topic = criterion.topics[0] if criterion.topics else None
        claimed = features.sentences[sentence].text[f.suspect_at :]
        claims.append(Claim(f.criterion, statement, excerpt(claimed), topic))
    return sorted(claims, key=lambda c: -by_id[c.criterion].weight)


#: Wrong claims of one answer challenged in one message: a second one would otherwise pass unremarked,
#: since the next answer moves the conversation on; three at once reads as a list of faults.
CLAIMS_PER_CHALLENGE = 2


def claims_to_challenge(claims: Sequence[Claim], challenged: Iterable[str]) -> list[Claim]:
    """The claims of the latest answer to challenge now: the first ones not challenged yet in the
    interview (by red flag), each quoting different words, at most CLAIMS_PER_CHALLENGE."""
    done = set(challenged)
    chosen: list[Claim] = []
    for claim in claims:
        if claim.statement in done or any(claim.quote == c.quote for c in chosen):
            continue
        done.add(claim.statement)
        chosen.append(claim)
        if len(chosen) == CLAIMS_PER_CHALLENGE:
            break
    return chosen


# ---------------------------------------------------------------------- follow-up choice

#: Weights of follow-up choice, written by `python -m evals.fit_followups` (never by hand).
FOLLOWUP_PARAMS_PATH = Path(__file__).with_name("followup_params.json")
#: Relevance below which a follow-up is asked for a gap rather than to dig into what was said.
DIG_DEEPER = 0.45
#: Scores closer than this are a tie, broken by the session's seed (variety between sessions).
TIE = 0.03


class FollowupWeights(BaseModel):
    """How a candidate follow-up's score is made; the highest-scoring topics are probed first.

    An uncovered criterion's topics (more for heavier criteria, most for the criterion's own topic),
    the problem's critical topics not covered well and problem-specific questions earn bonuses on top
    of the question's relevance to the latest answer; each earlier follow-up on the topic costs one
    `repeat`. Priorities are weights rather than strict tiers: a labelled interviewer digs into what
    an answer clearly raised before turning to a minor gap.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    relevance: float = Field(default=0.6, ge=0, description="x the question's similarity to the answer")
    gap: float = Field(default=0.2, ge=0, description="x the uncovered criterion's relative weight")
    gap_primary: float = Field(default=0.0, ge=0, description="the topic is that criterion's own topic")
    critical: float = Field(default=0.25, ge=0, description="a critical topic of the problem, not covered")
    problem_specific: float = Field(default=0.08, ge=0, description="a question written for this problem")
    phase_note: float = Field(default=0.0, ge=0, description="one of the phase note's staple questions")
    repeat: float = Field(default=0.3, ge=0, description="per earlier follow-up on the same topic")
    fitted: dict[str, object] = Field(default_factory=dict, description="how and on what it was fitted")


@lru_cache(maxsize=1)
def load_followup_weights(path: Path = FOLLOWUP_PARAMS_PATH) -> FollowupWeights:
    """The committed follow-up weights."""
    return FollowupWeights.model_validate(json.loads(path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Gap:
    """A topic of a criterion without solid evidence yet."""

    weight: float  # the heaviest such criterion's weight, relative to the phase's heaviest criterion
    primary: bool  # the topic is that criterion's own (first) topic


def uncovered(criteria: Iterable[Criterion], best: Mapping[str, float | None]) -> list[Criterion]:
    """The criteria without solid evidence yet, heaviest first."""
    return [c for c in sorted(criteria, key=lambda c: -c.weight) if not is_solid(best.get(c.id))]


def gaps(criteria: Sequence[Criterion], best: Mapping[str, float | None]) -> dict[str, Gap]:
    """The topics of the criteria without solid evidence yet, heaviest criteria first."""
    heaviest = max((c.weight for c in criteria), default=1.0)
    found: dict[str, Gap] = {}
    for criterion in uncovered(criteria, best):
        for n, topic in enumerate(criterion.topics):
            if topic not in found:
                found[topic] = Gap(criterion.weight / heaviest, n == 0)
    return found


@dataclass(frozen=True)
class ProbeState:
    """What follow-up choice depends on besides the latest answer: the interview so far."""

    gaps: Mapping[str, Gap]  # topics of the phase's criteria without solid evidence
    critical: Sequence[str]  # the problem's critical topics
    covered: Sequence[str]  # topics some answer already covered well: never probed again
    seed: str  # the session id: same session, same choices; another session, other tie-breaks
    probed: Sequence[str] = ()  # the topic of every follow-up asked so far, repeats included


def followup_score(candidate: Candidate, probe: ProbeState, weights: FollowupWeights) -> float:
    """How much a follow-up is worth asking now (see FollowupWeights)."""
    score = weights.relevance * candidate.relevance
    gap = probe.gaps.get(candidate.topic)
    if gap is not None:
        score += weights.gap * gap.weight + (weights.gap_primary if gap.primary else 0.0)
    if candidate.topic in probe.critical:
        score += weights.critical
    if candidate.problem_specific:
        score += weights.problem_specific
    if candidate.phase_note:
        score += weights.phase_note
    return score - weights.repeat * probe.probed.count(candidate.topic)


def followup_reason(candidate: Candidate, probe: ProbeState) -> Reason:
    """Why a follow-up is asked: to dig into what was said, or for a skipped critical topic or a gap."""
    if candidate.relevance >= DIG_DEEPER:
        return "dig_deeper"
    if candidate.topic in probe.critical:
        return "critical_topic"
    return "gap" if candidate.topic in probe.gaps else "dig_deeper"


def _tie_break(seed: str, unit_id: str) -> int:
    return zlib.crc32(f"{seed}:{unit_id}".encode())


def rank_followups(
    candidates: Sequence[Candidate], probe: ProbeState, k: int, weights: FollowupWeights | None = None
) -> list[FollowUpChoice]:
    """The k best follow-ups on different topics, none on covered ground, best first."""
    weights = weights or load_followup_weights()
    covered = set(probe.covered)
    scored = [(followup_score(c, probe, weights), c) for c in candidates if c.topic not in covered]
    scored.sort(key=lambda sc: (-round(sc[0] / TIE), _tie_break(probe.seed, sc[1].unit_id)))
    chosen: list[FollowUpChoice] = []
    for score, c in scored:
        if all(c.topic != other.topic for other in chosen):
            reason = followup_reason(c, probe)
            chosen.append(FollowUpChoice(c.unit_id, c.question, c.topic, c.source, c.look_for, reason, score))
        if len(chosen) == k:
            break
    return chosen


def choose_followups(
    selector: FollowUpSelector,
    *,
    problem: str,
    phase: str,
    answer_vectors: np.ndarray,
    probe: ProbeState,
    asked: Sequence[str] = (),
    answers: Sequence[str] = (),
    k: int = 3,
    weights: FollowupWeights | None = None,
) -> list[FollowUpChoice]:
    """The k follow-ups to ask after an answer, best first: the one rule of the graph, CLI and evals.

    `answers` are the interview's answers so far: a follow-up that presupposes a design element
    (embeddings, a candidate generator) is only asked once one of them mentioned it.
    """
    candidates = selector.candidates(
        problem=problem, phase=phase, sentence_vectors=answer_vectors, asked=asked, answers=answers
    )
    return rank_followups(candidates, probe, k, weights)


def turn_salt(seed: str, turn: int) -> int:
    """Varies wording between sessions and turns, fixed for a given session (replays repeat it)."""
    return zlib.crc32(f"{seed}#{turn}".encode())
