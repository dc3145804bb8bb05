"""Deterministic stand-ins for the slow parts, for the fast test tier (`pytest -m "not real"`).

- `HashingEmbedder`: bag-of-words vectors by feature hashing, so no ONNX model loads. Texts that
  share words are similar, texts that do not are orthogonal: enough for routing, policy, report and
  screen-flow tests, which check what happens with a grade, not how good the grade is.
- `ScriptedEngine`: an interviewer engine whose messages name their plan and whose grades are
  fixed per answer (by default: every criterion at the same score), so a test decides what the
  grader "thought" and checks what the interview does with it.
- `FakeClock`: a monotonic clock a test advances by hand.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from agent.content.schemas import Criterion
from agent.engines.base import OnToken, TurnPlan, Usage
from agent.grading.models import AnswerGrade, CriterionGrade
from agent.search.embedding import DEFAULT_TOKENIZER, Embedder, EmbeddingSpec

WIDTH = 256
_WORD = re.compile(r"[a-z0-9]+")
FAKE_SPEC = EmbeddingSpec(
    name="hashing-bag-of-words",
    model_path=Path("/nonexistent/hashing.onnx"),
    model_sha256="0" * 64,
    tokenizer_path=DEFAULT_TOKENIZER,
    tokenizer_sha256=None,
)


def _stem(word: str) -> str:
    """A crude stem, so "labels" and "label" share a feature."""
    for suffix in ("ing", "es", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)]
    return word


class HashingEmbedder(Embedder):
    """An embedder without a model: each word stem adds ±1 to one of 256 hashed dimensions."""

    def __init__(self, *, disk_cache: Path | None = None) -> None:
        super().__init__(FAKE_SPEC, disk_cache=disk_cache, use_bundle=False)

    @property
    def dimension(self) -> int:
        """Always 256."""
        return WIDTH

    def _load(self) -> None:
        """Nothing to load."""

    def _encode_parts(self, texts: list[str], parts: list[Sequence[tuple[int, int]]]) -> list[np.ndarray]:
        return [
            np.stack([_vector(text)] + [_vector(text[begin:end]) for begin, end in spans])
            for text, spans in zip(texts, parts, strict=True)
        ]


def _vector(text: str) -> np.ndarray:
    vector = np.zeros(WIDTH, dtype=np.float32)
    for word in _WORD.findall(text.lower()):
        code = zlib.crc32(_stem(word).encode("utf-8"))
        vector[code % WIDTH] += 1.0 if code & 0x100 else -1.0
    norm = float(np.linalg.norm(vector))
    if norm == 0.0:
        vector[0] = 1.0  # an empty text still gets a unit vector, as the real model gives one
        return vector
    return vector / norm


class ScriptedEngine:
    """An engine whose messages are `[kind] question` and whose grades a test sets."""

    def __init__(self, score: Callable[[str, str], int | None] | int | None = 3) -> None:
        # `score(phase, answer)` (or one fixed score) for every criterion of the phase.
        self._score = score if callable(score) else (lambda phase, answer, fixed=score: fixed)
        self._usage = Usage()
        self.plans: list[TurnPlan] = []
        self.graded: list[tuple[str, str]] = []

    @property
    def name(self) -> str:
        """Looks like the offline engine to everything downstream (reports, labels)."""
        return "offline"

    @property
    def prompt_versions(self) -> dict[str, str]:
        """No prompt files."""
        return {}

    @property
    def usage(self) -> Usage:
        """No calls are made."""
        return self._usage

    def say(self, plan: TurnPlan, on_token: OnToken | None = None) -> str:
        """The plan's kind and question, streamed in two pieces when asked to stream."""
        self.plans.append(plan)
        text = f"[{plan.kind}] {plan.question}"
        if plan.problem_prompt:
            text = f"{plan.problem_prompt}\n\n{text}"
        if on_token is not None:
            middle = len(text) // 2
            on_token(text[:middle])
            on_token(text[middle:])
        return text

    def grade_answer(
        self, problem: str, phase: str, criteria: Sequence[Criterion], answer: str
    ) -> AnswerGrade:
        """Every criterion at the scripted score, quoting the answer's first words as evidence."""
        self.graded.append((phase, answer))
        score = self._score(phase, answer)
        quote = " ".join(answer.split()[:6])
        return AnswerGrade(
            phase=phase,
            engine=self.name,
            criteria=[
                CriterionGrade(
                    id=c.id,
                    score=score,
                    evidence=[quote] if score is not None and score > 1 and quote else [],
                    rationale=f"scripted {score}",
                )
                for c in criteria
            ],
        )


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        """The current time in seconds."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Let `seconds` pass."""
        self.now += seconds
