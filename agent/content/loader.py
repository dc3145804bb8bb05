"""Load and cross-check the knowledge notes and rubrics from their folders.

A file that breaks its schema raises :class:`ContentError` naming the file and the
field at fault; the loader never returns half-valid content.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from agent.content.applicability import fits
from agent.content.schemas import (
    Criterion,
    PhaseNote,
    PhaseOverlay,
    PhaseRubric,
    ProblemNote,
    ProblemOverlay,
    TopicNote,
)
from agent.errors import ContentError
from agent.ids import PHASES, REQUIRED_PROBLEMS, TOPICS

ModelT = TypeVar("ModelT", bound=BaseModel)

#: Sections (level-2 headings) every note body must have, by note kind.
REQUIRED_SECTIONS: dict[str, tuple[str, ...]] = {
    "phase": (
        "What this phase must establish",
        "What strong candidates do",
        "What weak candidates do",
        "Time budget",
    ),
    "topic": (
        "What it is",
        "Why it matters",
        "Where it bites",
        "What a strong answer covers",
        "Typical mistakes",
    ),
    "problem": ("Interviewer notes",),
}

# libyaml's C loader is ~10x faster than the pure-Python one; both are "safe" loaders.
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)(.*)\Z", re.DOTALL)
_HEADING = re.compile(r"^## +(.+?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Note:
    """A parsed note: its validated front matter, its body and where it came from."""

    meta: PhaseNote | TopicNote | ProblemNote
    body: str
    path: Path
    source: str  # path relative to the knowledge folder, as shown to users

    def sections(self) -> dict[str, str]:
        """The body's level-2 sections, heading -> text."""
        return split_sections(self.body)


@dataclass(frozen=True)
class Applicability:
    """Where a follow-up or curveball may be asked: problem kinds, presupposed elements, listed problems."""

    kinds: tuple[str, ...]
    presupposes: tuple[str, ...]
    problems: tuple[str, ...]  # empty: every problem whose kinds fit

    def reaches(self, problem: str, problem_kinds: list[str]) -> bool:
        """The question is in this problem's pool: listed (or unrestricted) and of a fitting kind."""
        return (not self.problems or problem in self.problems) and fits(self.kinds, problem_kinds)


@dataclass(frozen=True)
class KnowledgeBase:
    """All content, validated and cross-checked."""

    knowledge_dir: Path
    rubrics_dir: Path
    phases: dict[str, Note]
    topics: dict[str, Note]
    problems: dict[str, Note]
    rubrics: dict[str, PhaseRubric]
    overlays: dict[str, ProblemOverlay] = field(default_factory=dict)

    def phase_note(self, phase: str) -> PhaseNote:
        """The front matter of a phase note."""
        meta = self.phases[phase].meta
        assert isinstance(meta, PhaseNote)
        return meta

    def topic_note(self, topic: str) -> TopicNote:
        """The front matter of a topic note."""
        meta = self.topics[topic].meta
        assert isinstance(meta, TopicNote)
        return meta

    def problem_note(self, problem: str) -> ProblemNote:
        """The front matter of a problem note."""
        meta = self.problems[problem].meta
        assert isinstance(meta, ProblemNote)
        return meta

    def problem_kinds(self, problem: str) -> list[str]:
        """The kinds of a problem (ranking, classification, ...)."""
        return list(self.problem_note(problem).kinds)

    def applicability(self) -> dict[str, Applicability]:
        """Every follow-up's and curveball's rule, by unit id (`...#followup-<i>`, `...#curveball`)."""
        rules: dict[str, Applicability] = {}
        for group in (self.phases, self.topics, self.problems):
            for note in group.values():
                meta = note.meta
                note_kinds = meta.kinds if isinstance(meta, TopicNote | ProblemNote) else []
                note_problems = meta.problems if isinstance(meta, TopicNote) else []
                if isinstance(meta, ProblemNote):
                    note_problems = [meta.id]
                    rules[f"{note.source}#curveball"] = Applicability(
                        tuple(meta.kinds), tuple(meta.curveball.presupposes), (meta.id,)
                    )
                for i, followup in enumerate(meta_followups(meta)):
                    rules[f"{note.source}#followup-{i}"] = Applicability(
                        tuple(followup.kinds or note_kinds),
                        tuple(followup.presupposes),
                        tuple(followup.problems or note_problems),
                    )
        return rules

    def rubric_for(self, problem: str, phase: str) -> list[Criterion]:
        """The phase rubric with the problem's overlay applied; weights renormalised to 1."""
        criteria = list(self.rubrics[phase].criteria)
        overlay = self.overlays.get(problem)
        phase_overlay = overlay.phases.get(phase) if overlay else None
        if phase_overlay is not None:
            criteria = [_overlaid(c, phase_overlay) for c in criteria]
            criteria.extend(phase_overlay.add)
        total = sum(c.weight for c in criteria)
        return [c.model_copy(update={"weight": c.weight / total}) for c in criteria]


def _overlaid(criterion: Criterion, overlay: PhaseOverlay) -> Criterion:
    """A phase rubric's criterion with the problem's new weight and its own evidence for it: the
    phase rubric says what strong practice is in general, the overlay how it sounds on this problem."""
    update: dict[str, Any] = {}
    if criterion.id in overlay.reweight:
        update["weight"] = overlay.reweight[criterion.id]
    if criterion.id in overlay.evidence:
        update["problem_evidence"] = list(overlay.evidence[criterion.id])
    return criterion.model_copy(update=update) if update else criterion


def split_sections(body: str) -> dict[str, str]:
    """Split Markdown into its level-2 sections, keyed by heading text."""
    matches = list(_HEADING.finditer(body))
    sections: dict[str, str] = {}
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(body)
        sections[match.group(1)] = body[match.end() : end].strip()
    return sections


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ContentError(path, None, f"not valid UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ContentError(path, None, f"cannot read file ({exc.strerror})") from None


def _parse_yaml(path: Path, text: str) -> Any:
    try:
        return yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ContentError(path, None, f"invalid YAML{where}: {problem}") from None


def validate_model(model: type[ModelT], data: Any, path: Path) -> ModelT:
    """Validate data against a schema, turning the first error into a one-line ContentError."""
    if not isinstance(data, dict):
        raise ContentError(path, None, "expected a mapping of fields at the top level")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        loc = ".".join(str(part) for part in first["loc"]) or None
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown field (check the spelling; see the schema in agent/content/schemas.py)"
        more = f" (and {len(errors) - 1} more problem(s) in this file)" if len(errors) > 1 else ""
        raise ContentError(path, loc, message + more) from None


def parse_note(path: Path, root: Path) -> Note:
    """Parse one Markdown note with YAML front matter and validate it by its `kind`."""
    text = _read_text(path)
    match = _FRONT_MATTER.match(text)
    if match is None:
        raise ContentError(path, None, "missing YAML front matter (the file must start with a '---' block)")
    data = _parse_yaml(path, match.group(1))
    body = match.group(2).strip()
    kinds: dict[str, type[PhaseNote] | type[TopicNote] | type[ProblemNote]] = {
        "phase": PhaseNote,
        "topic": TopicNote,
        "problem": ProblemNote,
    }
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind not in kinds:
        raise ContentError(path, "kind", f"must be one of: {', '.join(kinds)}")
    meta = validate_model(kinds[kind], data, path)
    if meta.id != path.stem:
        raise ContentError(path, "id", f"{meta.id!r} does not match the file name {path.stem!r}")
    headings = split_sections(body)
    for heading in REQUIRED_SECTIONS[kind]:
        if not headings.get(heading):
            raise ContentError(path, "body", f"missing or empty section '## {heading}'")
    return Note(meta=meta, body=body, path=path, source=path.relative_to(root).as_posix())


def _notes_in(folder: Path, root: Path) -> dict[str, Note]:
    if not folder.is_dir():
        raise ContentError(folder, None, "folder not found")
    notes = [parse_note(p, root) for p in sorted(folder.glob("*.md"))]
    return {n.meta.id: n for n in notes}


def _load_yaml_model(path: Path, model: type[ModelT]) -> ModelT:
    return validate_model(model, _parse_yaml(path, _read_text(path)), path)


def load_knowledge_base(knowledge_dir: Path, rubrics_dir: Path) -> KnowledgeBase:
    """Load every note and rubric, validate each and cross-check the ids between them."""
    phases = _notes_in(knowledge_dir / "phases", knowledge_dir)
    topics = _notes_in(knowledge_dir / "topics", knowledge_dir)
    problems = _notes_in(knowledge_dir / "problems", knowledge_dir)
    _expect_all(knowledge_dir / "phases", phases, PHASES, "phase")
    _expect_all(knowledge_dir / "topics", topics, TOPICS, "topic")
    _expect_all(knowledge_dir / "problems", problems, REQUIRED_PROBLEMS, "problem")
    for group in (phases, topics, problems):
        for note in group.values():
            if not isinstance(note.meta, _EXPECTED_KIND[note.path.parent.name]):
                raise ContentError(
                    note.path, "kind", f"a note in {note.path.parent.name}/ must be of that kind"
                )

    rubric_folder = rubrics_dir / "phases"
    if not rubric_folder.is_dir():
        raise ContentError(rubric_folder, None, "folder not found")
    rubrics: dict[str, PhaseRubric] = {}
    for path in sorted(rubric_folder.glob("*.yaml")):
        rubric = _load_yaml_model(path, PhaseRubric)
        if rubric.phase != path.stem:
            raise ContentError(path, "phase", f"{rubric.phase!r} does not match the file name {path.stem!r}")
        _no_problem_evidence(path, "criteria", rubric.criteria)
        rubrics[rubric.phase] = rubric
    _expect_all(rubric_folder, rubrics, PHASES, "phase rubric")

    overlays: dict[str, ProblemOverlay] = {}
    overlay_folder = rubrics_dir / "problems"
    for path in sorted(overlay_folder.glob("*.yaml")) if overlay_folder.is_dir() else []:
        overlay = _load_yaml_model(path, ProblemOverlay)
        if overlay.problem != path.stem:
            raise ContentError(
                path, "problem", f"{overlay.problem!r} does not match the file name {path.stem!r}"
            )
        if overlay.problem not in problems:
            raise ContentError(path, "problem", f"unknown problem {overlay.problem!r} (no note in problems/)")
        _check_overlay(path, overlay, rubrics)
        overlays[overlay.problem] = overlay

    kb = KnowledgeBase(knowledge_dir, rubrics_dir, phases, topics, problems, rubrics, overlays)
    _check_problem_references(kb)
    _check_unique_questions(kb)
    _check_kinds(kb)
    return kb


_EXPECTED_KIND: dict[str, type] = {"phases": PhaseNote, "topics": TopicNote, "problems": ProblemNote}


def _expect_all(folder: Path, found: dict[str, Any], expected: tuple[str, ...], what: str) -> None:
    missing = [i for i in expected if i not in found]
    if missing:
        raise ContentError(folder, None, f"missing {what} file(s) for: {', '.join(missing)}")


def _no_problem_evidence(path: Path, where: str, criteria: Sequence[Criterion]) -> None:
    """`problem_evidence` comes from an overlay's `evidence`; written into a criterion it would be
    matched at the wrong bar, so the file is refused."""
    for i, criterion in enumerate(criteria):
        if criterion.problem_evidence:
            raise ContentError(
                path,
                f"{where}.{i}.problem_evidence",
                "set by problem overlays: list these under rubrics/problems/<problem>.yaml "
                "phases.<phase>.evidence.<criterion>, or as this criterion's evidence",
            )


def _check_overlay(path: Path, overlay: ProblemOverlay, rubrics: dict[str, PhaseRubric]) -> None:
    for phase, phase_overlay in overlay.phases.items():
        _no_problem_evidence(path, f"phases.{phase}.add", phase_overlay.add)
        base_ids = {c.id for c in rubrics[phase].criteria}
        for key, ids, hint in (
            ("reweight", phase_overlay.reweight, ""),
            ("evidence", phase_overlay.evidence, " (an added criterion lists its own evidence)"),
        ):
            for criterion_id in ids:
                if criterion_id not in base_ids:
                    raise ContentError(
                        path,
                        f"phases.{phase}.{key}.{criterion_id}",
                        f"no such criterion in the {phase} rubric{hint}",
                    )
        for i, criterion in enumerate(phase_overlay.add):
            if criterion.id in base_ids:
                raise ContentError(
                    path,
                    f"phases.{phase}.add.{i}.id",
                    f"{criterion.id!r} already exists in the {phase} rubric",
                )


def _check_problem_references(kb: KnowledgeBase) -> None:
    """Every problem id used in a note must have a problem note."""
    for group in (kb.topics, kb.phases, kb.problems):
        for note in group.values():
            meta = note.meta
            refs: list[tuple[str, list[str]]] = []
            if isinstance(meta, TopicNote):
                refs.append(("problems", meta.problems))
            refs += [(f"followups.{i}.problems", f.problems) for i, f in enumerate(meta_followups(meta))]
            for where, ids in refs:
                for problem in ids:
                    if problem not in kb.problems:
                        raise ContentError(
                            note.path, where, f"unknown problem {problem!r} (no note in problems/)"
                        )


def meta_followups(meta: PhaseNote | TopicNote | ProblemNote) -> list[Any]:
    """The follow-ups a note carries (every note kind may have them)."""
    return list(meta.followups)


def _check_unique_questions(kb: KnowledgeBase) -> None:
    """The same follow-up must not appear twice: an interviewer never repeats a question."""
    seen: dict[str, str] = {}
    for group in (kb.phases, kb.topics, kb.problems):
        for note in group.values():
            for i, followup in enumerate(meta_followups(note.meta)):
                key = " ".join(followup.question.lower().split())
                if key in seen:
                    raise ContentError(
                        note.path, f"followups.{i}.question", f"the same question is already in {seen[key]}"
                    )
                seen[key] = note.source


def _check_kinds(kb: KnowledgeBase) -> None:
    """A follow-up must fit at least one problem it may be asked on (its kinds against their kinds)."""
    rules = kb.applicability()
    for group in (kb.phases, kb.topics, kb.problems):
        for note in group.values():
            for i, followup in enumerate(meta_followups(note.meta)):
                rule = rules[f"{note.source}#followup-{i}"]
                if not any(rule.reaches(p, kb.problem_kinds(p)) for p in rule.problems or kb.problems):
                    raise ContentError(
                        note.path,
                        f"followups.{i}.kinds" if followup.kinds else "kinds",
                        f"the follow-up fits no problem it may be asked on (kinds: {', '.join(rule.kinds)})",
                    )
