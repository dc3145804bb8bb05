"""Answers to a candidate's questions about their feedback: from the grade data first, then the notes.

A question that names a criterion or a phase ("why did I get a 2 on rollout?", "what was wrong with my
evaluation?") is answered from what the grader recorded: the level, its reason, the candidate's words
that counted, the criterion's signals those words match and some it missed, and what a solid answer
does for this problem. Anything else is answered by the notes that search finds, each cited by its
file. Candidate quotes are escaped: they are shown, never parsed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from agent.content.loader import KnowledgeBase
from agent.content.schemas import Criterion
from agent.export import escape_markdown
from agent.grading.negation import content_stems
from agent.grading.scale import SCORE_NAMES, score_text
from agent.grading.sentences import split_sentences
from agent.ids import PHASE_TITLES, PHASES
from agent.report_model import CriterionView, PhaseEntry, ShownReport
from agent.study import solid_for_problem

#: Words that name a phase in questions, besides its title.
_PHASE_WORDS: dict[str, tuple[str, ...]] = {
    "clarify_requirements": ("clarify", "clarification", "requirement", "requirements"),
    "frame_problem": ("framing", "frame", "formulation"),
    "data_preparation": ("data", "label", "labels", "features", "feature"),
    "model_development": ("model", "modelling", "modeling", "training", "architecture"),
    "evaluation": ("evaluation", "metrics", "metric", "experiment"),
    "deployment_serving": ("serving", "deployment", "deploy", "latency", "rollout"),
    "monitoring": ("monitoring", "monitor", "drift", "retraining"),
}
#: A criterion is meant when the question shares this many content stems with its title.
_CRITERION_STEMS = 2
#: A signal is named as matched when the quoted words share this many content stems with it.
_SIGNAL_STEMS = 2
#: Signals named as matched, and as missing, at most.
_SIGNALS_SHOWN = 3
#: A signal is shown up to this many characters.
_SIGNAL_CHARS = 90
#: How the offline grader's rationale counts the signals an answer covered, and its rationales when
#: none was (a red flag alone is quoted, but matched nothing).
_COUNTED = re.compile(r"\((\d+) of the criterion's \d+ signals\)")
_NONE_COUNTED = ("Not addressed", "Only a red flag was found")


@dataclass(frozen=True)
class NoteHit:
    """A passage of the notes found for a question."""

    text: str
    source: str


Search = Callable[[str], Sequence[NoteHit]]


def discuss(
    question: str,
    report: ShownReport,
    kb: KnowledgeBase,
    problem: str,
    search: Search,
) -> str:
    """Markdown answering `question` about this report: the grade data it is about, then the notes."""
    lines = [f"**You asked:** {escape_markdown(question)}", ""]
    criterion = _criterion_meant(question, report, kb, problem)
    phase = None if criterion else _phase_meant(question)
    if criterion is not None:
        lines += _explain_criterion(report, kb, problem, *criterion)
    elif phase is not None:
        lines += _explain_phase(report, kb, problem, phase)
    hits = search(question)
    if hits:
        lines += ["", "From the notes:", ""]
        lines += [f"- {hit.text} _({hit.source})_" for hit in hits]
    missed = ", ".join(report.missed_topics) or "none"
    lines += ["", f"Critical topics this interview missed: {missed}."]
    return "\n".join(lines)


def _phases(report: ShownReport) -> dict[str, PhaseEntry[CriterionView]]:
    return {p.phase: p for p in report.phases if p.phase in PHASES}


def _criterion_meant(
    question: str, report: ShownReport, kb: KnowledgeBase, problem: str
) -> tuple[str, str] | None:
    asked = set(content_stems(question))
    best: tuple[int, str, str] | None = None
    for phase in _phases(report):
        for criterion in kb.rubric_for(problem, phase):
            shared = len(asked & set(content_stems(criterion.title)))
            if shared >= _CRITERION_STEMS and (best is None or shared > best[0]):
                best = (shared, phase, criterion.id)
    return None if best is None else (best[1], best[2])


def _phase_meant(question: str) -> str | None:
    words = set(question.lower().replace("?", " ").replace(",", " ").split())
    for phase, names in _PHASE_WORDS.items():
        if words & set(names):
            return phase
    return None


def _level(score: float | None) -> str:
    if score is None:
        return "insufficient evidence (no answer addressed it)"
    return f"{score:.0f} ({SCORE_NAMES[round(score)]})"


def _explain_criterion(
    report: ShownReport, kb: KnowledgeBase, problem: str, phase: str, criterion_id: str
) -> list[str]:
    criterion = next(c for c in kb.rubric_for(problem, phase) if c.id == criterion_id)
    grade = next((c for c in _phases(report)[phase].criteria if c.id == criterion_id), None)
    score = None if grade is None else grade.score
    lines = [
        f"**{criterion.title}** ({PHASE_TITLES[phase]}): {_level(score)}.",
        "",
        f"Why: {grade.rationale if grade else 'the phase was not assessed.'}",
    ]
    quotes = grade.evidence if grade else []
    if quotes:
        lines += ["", "What you said that counted:", ""]
        lines += [f'> "{escape_markdown(q)}"' for q in quotes[:3]]
    matched, missing = matched_signals(
        kb, problem, phase, criterion, quotes, grade.rationale if grade else ""
    )
    if matched:
        lines += ["", "The signals those words match:", ""]
        lines += [f'- "{_trim(signal)}"' for signal in matched]
    if missing:
        lines += ["", "What was missing (signals not matched):", ""]
        lines += [f'- "{_trim(signal)}"' for signal in missing]
    lines += ["", f"Solid, for this problem: {solid_for_problem(kb, problem, phase, criterion)}"]
    if score is None or score < 4:
        lines += ["", f"Strong also: {criterion.levels[4]}"]
    return lines


def _explain_phase(report: ShownReport, kb: KnowledgeBase, problem: str, phase: str) -> list[str]:
    result = _phases(report).get(phase)
    if result is None or result.score is None:
        return [f"**{PHASE_TITLES[phase]}** was not assessed: no answer reached it."]
    lines = [f"**{PHASE_TITLES[phase]}**: {score_text(result.score)} of 4, from these criteria:", ""]
    rubric = {c.id: c for c in kb.rubric_for(problem, phase)}
    weakest: tuple[float, str] | None = None
    for grade in result.criteria:
        criterion = rubric.get(grade.id)
        if criterion is None:
            continue
        score = grade.score
        lines.append(f"- **{criterion.title}**: {_level(score)}. {grade.rationale}")
        value = score
        if weakest is None or value < weakest[0]:
            weakest = (value, criterion.id)
    if weakest is not None and weakest[0] < 3:
        criterion = rubric[weakest[1]]
        solid = solid_for_problem(kb, problem, phase, criterion)
        lines += ["", f"The weakest, **{criterion.title}**, at solid: {solid}"]
    return lines


def criterion_signals(kb: KnowledgeBase, problem: str, phase: str, criterion: Criterion) -> list[str]:
    """The statements an answer is matched against for `criterion`: the problem's strong-design
    statements for the phase that are closest to it (by shared words), then the problem overlay's
    evidence for it, then its rubric evidence."""
    rubric = kb.rubric_for(problem, phase)
    words = [[set(content_stems(e)) for e in c.evidence] for c in rubric]
    mine = next(i for i, c in enumerate(rubric) if c.id == criterion.id)
    design = []
    bullets = kb.problem_note(problem).strong_design.get(phase, [])
    # One idea per statement, as the grader's reference cuts them (GradingReference.from_kb).
    for statement in (s.text for bullet in bullets for s in split_sentences(bullet)):
        stems = set(content_stems(statement))
        closeness = [max((len(stems & e) for e in evidence), default=0) for evidence in words]
        if closeness.index(max(closeness)) == mine:  # its owner, as the grader gives it one
            design.append(statement)
    return [*design, *criterion.problem_evidence, *criterion.evidence]


def matched_signals(
    kb: KnowledgeBase, problem: str, phase: str, criterion: Criterion, quotes: Sequence[str], rationale: str
) -> tuple[list[str], list[str]]:
    """The criterion's signals the quoted words match (closest first) and some it did not, each at
    most three, from the stored grade alone: nothing is graded again.

    The grade keeps how many signals counted (the offline grader's rationale says "N of the
    criterion's M signals") but not which: the N closest to the quotes by shared words are taken as
    those, and are named only when they share enough words with them to be recognisable.
    """
    signals = criterion_signals(kb, problem, phase, criterion)
    said = {stem for quote in quotes for stem in content_stems(quote)}
    shared = [len(said & set(content_stems(signal))) for signal in signals]
    ranked = sorted(range(len(signals)), key=lambda i: (-shared[i], i))
    counted = _COUNTED.search(rationale)
    close = [i for i in ranked if shared[i] >= _SIGNAL_STEMS]
    if rationale.startswith(_NONE_COUNTED):
        credited = []
    else:
        credited = ranked[: int(counted.group(1))] if counted else close
    matched = [signals[i] for i in credited if i in close][:_SIGNALS_SHOWN]
    missing = [signal for i, signal in enumerate(signals) if i not in credited][:_SIGNALS_SHOWN]
    return matched, missing


def _trim(text: str) -> str:
    """A statement cut to about `_SIGNAL_CHARS` characters, at a word."""
    text = " ".join(text.split()).rstrip(",;:")
    if len(text) <= _SIGNAL_CHARS:
        return text
    return text[: _SIGNAL_CHARS - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
