"""Hints for a stuck candidate, tied to the question they are stuck on and to the problem.

The pending question decides the hints: after a follow-up or the curveball, its `look_for` gives a mild
nudge (where a strong answer starts) and then a more specific one; after a phase's opening question, or
once those are used, the problem's `strong_design` for the phase does the same. The phase note's generic
hints come last. Everything is checked against the other problem kinds' vocabulary (see `lint`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from agent.content.applicability import foreign_terms, unmarked_presuppositions
from agent.content.loader import KnowledgeBase, meta_followups
from agent.content.schemas import ProblemNote
from agent.errors import ContentError
from agent.state import Turn

CURVEBALL = "curveball"

#: First words that end in "s" but are nouns, not verbs ("Features computed ..." vs "Uses ...").
_PLURAL_NOUNS = frozenset(
    {
        *("features", "labels", "embeddings", "counts", "positives", "negatives", "users", "items"),
        *("metrics", "ads", "videos", "events", "rules", "signals", "thresholds", "requests", "models"),
        *("errors", "aggregates", "sequences", "outputs", "queries", "listings", "posts", "reports"),
        *("logs", "clicks", "impressions", "weights", "scores", "candidates", "stages", "towers", "tests"),
    }
)
_PARENTHESES = re.compile(r"\s+\([^()]*\)")
_MILD_WORDS = 16


def _parts(text: str) -> list[str]:
    """Split a `look_for` or design bullet into clauses at semicolons and sentence ends, minus examples."""
    plain = _PARENTHESES.sub("", text.strip())
    parts = re.split(r";\s+|(?<=[a-z0-9])\.\s+(?=[A-Z])", plain)
    return [p.strip().rstrip(".") for p in parts if p.strip()]


def _sentence(clause: str) -> str:
    """'Uses X' -> 'A strong answer uses X.'; anything else -> 'Part of a strong answer: X.'"""
    first, _, rest = clause.partition(" ")
    if first.endswith("s") and not first.endswith("ss") and first.lower() not in _PLURAL_NOUNS:
        return f"A strong answer {first.lower()} {rest}.".replace(" .", ".")
    word = first if first[1:2].isupper() else first[:1].lower() + first[1:]
    return f"Part of a strong answer: {word} {rest}.".replace(" .", ".")


def _head(clause: str) -> str:
    """The start of a clause: up to its first colon, and at most about sixteen words (cut at a comma)."""
    head = clause.split(":", 1)[0] if clause.find(":") >= 12 else clause
    words = head.split()
    if len(words) <= _MILD_WORDS:
        return head
    cut = " ".join(words[:_MILD_WORDS])
    return cut.rsplit(",", 1)[0] if "," in cut else cut


def nudges(text: str) -> list[str]:
    """A mild nudge (the head of the first clause), then a specific one (the first clause or two in full)."""
    parts = _parts(text)
    if not parts:
        return []
    mild = _sentence(_head(parts[0]))
    specific = " ".join(_sentence(p) for p in parts[:2])
    return [mild, specific] if specific != mild else [mild]


def pending_question(turns: Sequence[Turn], asked: Sequence[str]) -> str | None:
    """The unit id of the follow-up (or `curveball`) being answered; None after an opening question."""
    for turn in reversed(turns):
        if turn["role"] != "interviewer" or turn["kind"] == "hint":
            continue
        if turn["kind"] == "followup" and asked:
            return asked[-1]
        return CURVEBALL if turn["kind"] == "curveball" else None
    return None


def hints_given(turns: Sequence[Turn]) -> int:
    """How many hints were given since the interviewer last asked a question."""
    count = 0
    for turn in reversed(turns):
        if turn["role"] != "interviewer":
            continue
        if turn["kind"] != "hint":
            break
        count += 1
    return count


@dataclass(frozen=True)
class _Source:
    """Text hints are made from, and where it lives (for error messages)."""

    text: str
    note: str
    field: str


def _pending_sources(kb: KnowledgeBase, problem: str, pending: str | None) -> list[_Source]:
    note = kb.problems[problem]
    if pending == CURVEBALL:
        return [_Source(kb.problem_note(problem).curveball.look_for, str(note.path), "curveball.look_for")]
    if pending is None or "#followup-" not in pending:
        return []
    source, _, index = pending.partition("#followup-")
    for group in (kb.phases, kb.topics, kb.problems):
        for other in group.values():
            if other.source == source:
                followups = meta_followups(other.meta)
                i = int(index)
                if i < len(followups):
                    return [_Source(followups[i].look_for, str(other.path), f"followups.{i}.look_for")]
    return []


def _hint_sources(kb: KnowledgeBase, problem: str, phase: str, pending: str | None) -> Iterator[_Source]:
    yield from _pending_sources(kb, problem, pending)
    path = str(kb.problems[problem].path)
    for i, bullet in enumerate(kb.problem_note(problem).strong_design[phase][:2]):
        yield _Source(bullet, path, f"strong_design.{phase}.{i}")


def hints_for(kb: KnowledgeBase, problem: str, phase: str, pending: str | None) -> list[str]:
    """The hints for the pending question on this problem and phase, mildest first."""
    hints: list[str] = []
    for source in _hint_sources(kb, problem, phase, pending):
        hints += [h for h in nudges(source.text) if h not in hints]
    return hints + [h for h in kb.phase_note(phase).hints if h not in hints]


def lint(kb: KnowledgeBase) -> list[ContentError]:
    """Applicability checks over the whole knowledge base: foreign vocabulary and unmarked presuppositions."""
    errors: list[ContentError] = []
    rules = kb.applicability()
    for group in (kb.phases, kb.topics, kb.problems):
        for note in group.values():
            for i, followup in enumerate(meta_followups(note.meta)):
                rule = rules[f"{note.source}#followup-{i}"]
                missing = unmarked_presuppositions(followup.question, rule.presupposes)
                if missing:
                    errors.append(
                        ContentError(
                            note.path,
                            f"followups.{i}.presupposes",
                            f"the question takes {', '.join(missing)} for granted; list it in presupposes",
                        )
                    )
                for problem in kb.problems:
                    own = isinstance(note.meta, ProblemNote) and note.meta.id == problem
                    if not own and rule.reaches(problem, kb.problem_kinds(problem)):
                        for text, field in ((followup.question, "question"), (followup.look_for, "look_for")):
                            shown = [text] if field == "question" else nudges(text)
                            terms = [t for s in shown for t in foreign_terms(s, kb.problem_kinds(problem))]
                            if terms:
                                errors.append(
                                    ContentError(
                                        note.path,
                                        f"followups.{i}.{field}",
                                        f"shown on {problem} but uses {', '.join(terms)}; narrow its kinds",
                                    )
                                )
    for problem, note in kb.problems.items():
        meta = note.meta
        assert isinstance(meta, ProblemNote)
        kinds = kb.problem_kinds(problem)
        missing = unmarked_presuppositions(meta.curveball.change, meta.curveball.presupposes)
        if missing:
            errors.append(
                ContentError(
                    note.path,
                    "curveball.presupposes",
                    f"the change takes {', '.join(missing)} for granted; list it in presupposes",
                )
            )
        for phase in kb.phases:
            for i, hint in enumerate(kb.phase_note(phase).hints):
                terms = foreign_terms(hint, kinds)
                if terms:
                    errors.append(
                        ContentError(
                            kb.phases[phase].path,
                            f"hints.{i}",
                            f"shown on {problem} but uses {', '.join(terms)}",
                        )
                    )
            for source in _pending_sources(kb, problem, CURVEBALL):
                terms = [t for h in nudges(source.text) for t in foreign_terms(h, kinds)]
                if terms:
                    errors.append(
                        ContentError(
                            source.note, source.field, f"a hint on {problem} uses {', '.join(terms)}"
                        )
                    )
    return _unique(errors)


def _unique(errors: list[ContentError]) -> list[ContentError]:
    seen: set[str] = set()
    kept: list[ContentError] = []
    for error in errors:
        if str(error) not in seen:
            seen.add(str(error))
            kept.append(error)
    return kept
