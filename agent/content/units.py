"""Knowledge units: the small retrievable pieces the knowledge base is cut into.

Every follow-up question is its own unit, and note sections are cut into paragraph-sized
chunks, so a search returns a focused passage with its topic, phases, problems and source.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from typing import Literal

from agent.content.loader import KnowledgeBase, Note
from agent.content.schemas import PhaseNote, ProblemNote, TopicFollowUp, TopicNote
from agent.ids import PHASE_TITLES, PHASES

UnitKind = Literal["followup", "topic", "phase", "problem"]
UNIT_KINDS: tuple[str, ...] = ("followup", "topic", "phase", "problem")

#: Chunks stay well under the embedding model's 256-token window (~190 words).
_MAX_CHUNK_WORDS = 110


@dataclass(frozen=True)
class Unit:
    """One retrievable piece of knowledge and the metadata it is filtered by."""

    id: str
    kind: UnitKind
    text: str  # what a search shows
    embed_text: str  # what is embedded: the text with the context it needs to be found
    source: str  # the note it came from, relative to the knowledge folder
    topic: str | None = None
    phases: tuple[str, ...] = ()  # empty: not tied to a phase
    problems: tuple[str, ...] = ()  # empty: applies to every problem
    owner: str | None = None  # the problem a problem-note unit belongs to
    look_for: str | None = None  # follow-ups: what a strong answer contains

    @property
    def content_hash(self) -> str:
        """Changes whenever anything that is stored or embedded for the unit changes."""
        payload = json.dumps(asdict(self), sort_keys=True).encode()
        return hashlib.sha256(payload).hexdigest()[:32]


def _chunks(text: str) -> list[str]:
    """Cut Markdown into paragraph chunks, merging short ones and splitting long ones."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]
    chunks: list[str] = []
    current: list[str] = []
    for paragraph in paragraphs:
        words = paragraph.split()
        while len(words) > _MAX_CHUNK_WORDS:
            if current:
                chunks.append(" ".join(current))
                current = []
            cut = _sentence_cut(words)
            chunks.append(" ".join(words[:cut]))
            words = words[cut:]
        if current and len(current) + len(words) > _MAX_CHUNK_WORDS:
            chunks.append(" ".join(current))
            current = []
        current.extend(words)
    if current:
        chunks.append(" ".join(current))
    return chunks


def _sentence_cut(words: list[str]) -> int:
    """Where to cut an over-long paragraph: the last sentence end within the limit."""
    for i in range(_MAX_CHUNK_WORDS, _MAX_CHUNK_WORDS // 2, -1):
        if words[i - 1].endswith((".", "?", "!", ":")):
            return i
    return _MAX_CHUNK_WORDS


def _section_units(note: Note, kind: UnitKind, title: str, **meta: object) -> list[Unit]:
    units = []
    for heading, text in note.sections().items():
        slug = re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")
        for i, chunk in enumerate(_chunks(text)):
            units.append(
                Unit(
                    id=f"{note.source}#{slug}-{i}",
                    kind=kind,
                    text=chunk,
                    embed_text=f"{title} ({heading.lower()}): {chunk}",
                    source=note.source,
                    **meta,  # type: ignore[arg-type]
                )
            )
    return units


def _topic_units(note: Note, meta: TopicNote) -> list[Unit]:
    problems = tuple(meta.problems)
    units = [
        Unit(
            id=f"{note.source}#summary",
            kind="topic",
            text=meta.summary,
            embed_text=f"{meta.title}: {meta.summary}",
            source=note.source,
            topic=meta.id,
            phases=tuple(meta.phases),
            problems=problems,
        )
    ]
    for i, symptom in enumerate(meta.symptoms):
        # Embedded without the title: symptoms exist to match plain words, not the topic's jargon.
        units.append(
            Unit(
                id=f"{note.source}#symptom-{i}",
                kind="topic",
                text=symptom,
                embed_text=symptom,
                source=note.source,
                topic=meta.id,
                phases=tuple(meta.phases),
                problems=problems,
            )
        )
    units += _section_units(
        note, "topic", meta.title, topic=meta.id, phases=tuple(meta.phases), problems=problems
    )
    for i, followup in enumerate(meta.followups):
        units.append(
            Unit(
                id=f"{note.source}#followup-{i}",
                kind="followup",
                text=followup.question,
                embed_text=f"{followup.question} {followup.look_for}",
                source=note.source,
                topic=meta.id,
                phases=tuple(followup.phases),
                problems=tuple(followup.problems) or problems,
                look_for=followup.look_for,
            )
        )
    return units


def _followup_unit(
    note: Note, i: int, followup: TopicFollowUp, problems: tuple[str, ...], owner: str | None
) -> Unit:
    return Unit(
        id=f"{note.source}#followup-{i}",
        kind="followup",
        text=followup.question,
        embed_text=f"{followup.question} {followup.look_for}",
        source=note.source,
        topic=followup.topic,
        phases=tuple(followup.phases),
        problems=tuple(followup.problems) or problems,
        owner=owner,
        look_for=followup.look_for,
    )


def _phase_units(note: Note, meta: PhaseNote) -> list[Unit]:
    units = _section_units(note, "phase", meta.title, phases=(meta.id,))
    units += [_followup_unit(note, i, f, (), None) for i, f in enumerate(meta.followups)]
    return units


def _problem_units(note: Note, meta: ProblemNote) -> list[Unit]:
    own = (meta.id,)
    units = [
        Unit(
            id=f"{note.source}#prompt",
            kind="problem",
            text=meta.prompt,
            embed_text=f"{meta.title}: {meta.prompt}",
            source=note.source,
            problems=own,
            owner=meta.id,
        ),
        Unit(
            id=f"{note.source}#curveball",
            kind="problem",
            text=meta.curveball.change,
            embed_text=f"{meta.title}, requirement change: {meta.curveball.change} {meta.curveball.look_for}",
            source=note.source,
            phases=(meta.curveball.phase,),
            problems=own,
            owner=meta.id,
        ),
    ]
    for phase in PHASES:
        bullets = meta.strong_design[phase]
        units.append(
            Unit(
                id=f"{note.source}#design-{phase}",
                kind="problem",
                text=" ".join(bullets),
                embed_text=f"{meta.title}, {PHASE_TITLES[phase].lower()}: " + " ".join(bullets),
                source=note.source,
                phases=(phase,),
                problems=own,
                owner=meta.id,
            )
        )
    units += _section_units(note, "problem", meta.title, problems=own, owner=meta.id)
    units += [_followup_unit(note, i, f, own, meta.id) for i, f in enumerate(meta.followups)]
    return units


def build_units(kb: KnowledgeBase) -> list[Unit]:
    """All retrievable units of the knowledge base, in a stable order."""
    units: list[Unit] = []
    for phase_note in kb.phases.values():
        assert isinstance(phase_note.meta, PhaseNote)
        units += _phase_units(phase_note, phase_note.meta)
    for topic_note in kb.topics.values():
        assert isinstance(topic_note.meta, TopicNote)
        units += _topic_units(topic_note, topic_note.meta)
    for problem_note in kb.problems.values():
        assert isinstance(problem_note.meta, ProblemNote)
        units += _problem_units(problem_note, problem_note.meta)
    return units


def units_fingerprint(units: list[Unit]) -> str:
    """One hash over every unit: equal fingerprints mean nothing needs re-indexing."""
    digest = hashlib.sha256()
    for unit in units:
        digest.update(unit.id.encode())
        digest.update(unit.content_hash.encode())
    return digest.hexdigest()
