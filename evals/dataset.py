"""The eval dataset: one folder per case with the app's own transcript and a human's labels.

    evals/dataset/<case>/transcript.jsonl   a session exactly as the app saved it
    evals/dataset/<case>/labels.yaml        scores 1-4 per phase, topics to probe, split

A new case is added from a saved session with `mlsd eval add SESSION_ID`; its labels start empty
(null) and the case is replayed but left out of agreement metrics until someone fills them in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent.errors import ContentError, UsageError
from agent.ids import PHASES, TOPICS, Length, Level, is_length, is_level
from agent.transcript import read_transcript

DATASET_DIR = Path(__file__).resolve().parent / "dataset"
TRANSCRIPT = "transcript.jsonl"
LABELS = "labels.yaml"
Split = Literal["dev", "test"]
#: The candidate's actions as the transcript names them, and as the graph takes them.
ACTIONS = {"answer": "answer", "hint_request": "hint", "skip": "skip", "end": "end"}


def _known_phases(ids: Iterable[str]) -> None:
    """Fail validation on any id that is not one of the phases (docs/interfaces.md)."""
    unknown = [p for p in ids if p not in PHASES]
    if unknown:
        raise ValueError(f"unknown phase ids {unknown}")


class _AtAnswer(BaseModel):
    """A label attached to one answer of a phase."""

    model_config = ConfigDict(extra="forbid")

    phase: str
    answer: int = Field(ge=0, description="0-based index of the answer within its phase")

    @field_validator("phase")
    @classmethod
    def _phase(cls, value: str) -> str:
        _known_phases([value])
        return value


class Probe(_AtAnswer):
    """At one answer, the topics a good interviewer would probe next."""

    topics: list[str] = Field(min_length=1)

    @field_validator("topics")
    @classmethod
    def _topics(cls, value: list[str]) -> list[str]:
        unknown = [t for t in value if t not in TOPICS]
        if unknown:
            raise ValueError(f"unknown topic ids {unknown}")
        return value


class WrongClaim(_AtAnswer):
    """An answer that asserts a real technical error, which the interviewer should challenge."""

    quote: str = Field(min_length=3, description="the claim, verbatim from the answer")
    topic: str

    @field_validator("topic")
    @classmethod
    def _topic(cls, value: str) -> str:
        if value not in TOPICS:
            raise ValueError(f"unknown topic id {value!r}")
        return value


class Labels(BaseModel):
    """A human's judgement of one recorded interview."""

    model_config = ConfigDict(extra="forbid")

    split: Split = Field(description="dev: the grader may be tuned on it; test: held out")
    profile: str = Field(description="the kind of candidate, e.g. strong, weak, injection")
    description: str = ""
    labelled_by: str = ""
    phases: dict[str, int | None] = Field(description="score 1-4 per phase; null while unlabelled")
    adversarial_phases: list[str] = Field(default_factory=list)
    probes: list[Probe] = Field(default_factory=list)
    wrong_claims: list[WrongClaim] = Field(default_factory=list)

    @field_validator("phases")
    @classmethod
    def _phases(cls, value: dict[str, int | None]) -> dict[str, int | None]:
        _known_phases(value)
        bad = {p: s for p, s in value.items() if s is not None and not 1 <= s <= 4}
        if bad:
            raise ValueError(f"scores must be 1-4: {bad}")
        return value

    @field_validator("adversarial_phases")
    @classmethod
    def _adversarial(cls, value: list[str]) -> list[str]:
        _known_phases(value)
        return value

    @property
    def labelled(self) -> bool:
        """True once every phase has a score."""
        return all(self.phases.get(p) is not None for p in PHASES)


@dataclass(frozen=True)
class CandidateInput:
    """One thing the candidate did: answer, ask for a hint, skip ahead or end, and when."""

    phase: str
    action: str
    text: str
    seconds: float
    answer_index: int | None  # the answer's 0-based position within its phase (answers only)


@dataclass(frozen=True)
class Case:
    """A labelled recorded interview."""

    id: str
    path: Path
    problem: str
    level: Level
    length: Length
    labels: Labels
    inputs: tuple[CandidateInput, ...]

    @property
    def answers(self) -> dict[str, list[str]]:
        """The candidate's answers per phase, in order."""
        out: dict[str, list[str]] = {}
        for item in self.inputs:
            if item.action == "answer":
                out.setdefault(item.phase, []).append(item.text)
        return out


def candidate_inputs(events: list[dict[str, Any]]) -> tuple[CandidateInput, ...]:
    """The candidate's turns of a transcript, with the seconds each took (from the interview clock)."""
    inputs: list[CandidateInput] = []
    clock = 0.0
    per_phase: dict[str, int] = {}
    for event in events:
        if event.get("event") != "turn" or event.get("role") != "candidate":
            continue
        kind = event.get("kind", "answer")
        if kind not in ACTIONS:
            raise ValueError(f"unknown candidate turn kind {kind!r}")
        at = float(event.get("at_s", clock))
        action = ACTIONS[kind]
        index = None
        if action == "answer":
            index = per_phase.get(event["phase"], 0)
            per_phase[event["phase"]] = index + 1
        inputs.append(
            CandidateInput(event["phase"], action, event.get("text", ""), max(at - clock, 0.0), index)
        )
        clock = max(clock, at)
    return tuple(inputs)


def load_case(folder: Path) -> Case:
    """One case folder; a bad file fails with its path and the field at fault."""
    labels_path = folder / LABELS
    transcript = folder / TRANSCRIPT
    if not labels_path.is_file() or not transcript.is_file():
        raise UsageError(f"{folder}: a case needs {TRANSCRIPT} and {LABELS}")
    try:
        raw = yaml.safe_load(labels_path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ContentError(labels_path, None, f"broken YAML ({str(exc).splitlines()[0]})") from None
    try:
        labels = Labels.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"]) or None
        raise ContentError(labels_path, field, error["msg"]) from None
    events = read_transcript(transcript)
    header = next((e for e in events if e["event"] == "session"), None)
    if header is None:
        raise ContentError(transcript, None, "no session header line")
    try:
        inputs = candidate_inputs(events)
    except (KeyError, ValueError, TypeError) as exc:
        raise ContentError(transcript, None, f"bad candidate turn ({exc})") from None
    level, length = header.get("level", "senior"), header.get("length", 45)
    if not is_level(level) or not is_length(length):
        raise ContentError(transcript, None, f"unknown level {level!r} or length {length!r} in the header")
    case = Case(
        id=folder.name,
        path=folder,
        problem=str(header.get("problem")),
        level=level,
        length=length,
        labels=labels,
        inputs=inputs,
    )
    _check_probes(case, labels_path)
    return case


def _check_probes(case: Case, path: Path) -> None:
    answers = case.answers
    for n, probe in enumerate(case.labels.probes):
        if probe.answer >= len(answers.get(probe.phase, [])):
            raise ContentError(
                path, f"probes.{n}", f"points at answer {probe.answer} of {probe.phase}, which does not exist"
            )
    for n, claim in enumerate(case.labels.wrong_claims):
        texts = answers.get(claim.phase, [])
        if claim.answer >= len(texts) or claim.quote not in texts[claim.answer]:
            raise ContentError(path, f"wrong_claims.{n}", "the quote is not in the answer it points at")
    for phase in case.labels.adversarial_phases:
        if phase not in answers:
            raise ContentError(path, "adversarial_phases", f"{phase} has no answers in the transcript")


def load_dataset(root: Path = DATASET_DIR, only: list[str] | None = None) -> list[Case]:
    """Every case under root, sorted by id; `only` keeps the named ones (and fails on an unknown one)."""
    if not root.is_dir():
        raise UsageError(f"no eval dataset at {root}")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if only:
        names = {p.name for p in folders}
        unknown = [c for c in only if c not in names]
        if unknown:
            raise UsageError(f"unknown eval case(s): {', '.join(unknown)}")
        folders = [p for p in folders if p.name in only]
    return [load_case(p) for p in folders]


def label_template(problem: str, profile: str = "unlabelled") -> dict[str, Any]:
    """The labels file of a newly added case: everything to be filled in by a person."""
    return {
        "split": "dev",
        "profile": profile,
        "description": f"a recorded {problem} session; describe the candidate",
        "labelled_by": "",
        "phases": dict.fromkeys(PHASES),
        "adversarial_phases": [],
        "probes": [],
    }
