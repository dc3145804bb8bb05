"""The shapes of an eval run: one case's replay, scored; and the run as a whole.

Frozen pydantic models from the replay to the gate and the reports; they become JSON only where the
run leaves the process (`mlsd eval --json`, the baseline file, the HTML and JUnit reports), through
`agent.report_model.to_json`. The field order below is the order of that JSON: keep it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from agent.grading.scale import Verdict
from evals.dataset import Split


class _Frozen(BaseModel):
    # Built by the harness only (never read back from a file): an unknown key is a bug.
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProbeResult(_Frozen):
    """A labelled answer: the topics a good interviewer would probe next, and the engine's ranking."""

    phase: str
    answer: int
    expected: list[str]
    ranked: list[str]


class PhaseFlow(_Frozen):
    """Phases visited in order, and no probing of a phase after its time budget was spent."""

    phases: list[str]
    in_order: bool
    all_phases: bool
    overruns: list[str]
    dropped_inputs: int
    ok: bool


class ClaimResult(_Frozen):
    """A labelled wrong claim and whether the interviewer's reply challenged it.

    `heard` is False when the replay never sent the answer: its phase had ended before (the
    recorded candidate went on in a phase this engine had already closed), so no reply could
    challenge it.
    """

    phase: str
    answer: int
    quote: str
    heard: bool
    reply_kind: str | None
    challenged: bool


class CoveredRepeat(_Frozen):
    """A follow-up on a topic an earlier answer had already covered well."""

    turn: int
    phase: str
    topic: str


class EvidenceCount(_Frozen):
    """Evidence quotes, and how many are verbatim spans of the graded answer."""

    quotes: int
    verbatim: int


class CaseResult(_Frozen):
    """One case replayed with one engine: everything the scorers, the gate and the reports read."""

    case: str
    problem: str
    split: Split
    profile: str
    engine: str
    labels: dict[str, int | None]  # per phase, the human level (None: not labelled)
    scores: dict[str, float]  # assessed phases only
    unassessed: list[str]
    graded_by: dict[str, str]
    overall: float | None
    verdict: Verdict
    adversarial_phases: list[str]
    probes: list[ProbeResult]
    flow: PhaseFlow
    wrong_claims: list[ClaimResult]
    covered_repeats: list[CoveredRepeat]
    evidence: EvidenceCount
    usage: dict[str, int | float]
    seconds: float


class SplitMetrics(_Frozen):
    """The agreement and follow-up metrics over one split's labelled cases (NaN: undefined)."""

    cases: int
    n: int
    qwk: float
    spearman: float
    exact: float
    within_one: float
    pairwise: float
    mean_abs_error: float
    qwk_ci95: list[float]
    spearman_ci95: list[float]
    pairwise_ci95: list[float]
    hit_at_1: float
    # Written as `hit_at_<k>` (the run's --k), after hit_at_1: see _hit_at_k.
    k: int = Field(exclude=True)
    hit_at_k: float = Field(exclude=True)

    @model_serializer(mode="wrap")
    def _hit_at_k(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        data: dict[str, object] = handler(self)
        data[f"hit_at_{self.k}"] = self.hit_at_k
        return data

    def value(self, name: str) -> float | None:
        """A metric by the name the JSON gives it (`hit_at_<k>` included); None if the run has none."""
        if name == f"hit_at_{self.k}":
            return self.hit_at_k
        if name in _SCALARS:
            return float(getattr(self, name))
        return None

    def interval(self, name: str) -> list[float] | None:
        """A metric's 95% bootstrap interval, for the metrics that have one."""
        interval = getattr(self, f"{name}_ci95", None)
        return interval if isinstance(interval, list) else None


_SCALARS = frozenset({"qwk", "spearman", "exact", "within_one", "pairwise", "mean_abs_error", "hit_at_1"})


class ClarificationMetrics(_Frozen):
    """How the clarification matcher does on one split of `evals/clarifications.yaml`."""

    questions: int
    accuracy: float  # right outcomes: the expected fact, or none where the note has none
    wrong_facts: float  # of the facts given, the share that answer another question


class SuiteMetrics(_Frozen):
    """Every metric of a run: per split, then robustness, flow, evidence and cost over all cases."""

    dev: SplitMetrics
    test: SplitMetrics
    all: SplitMetrics
    adversarial_max: float
    adversarial_by_profile: dict[str, float]
    adversarial_mean: float
    wrong_claims: int
    wrong_claims_heard: int
    wrong_claims_challenged: float
    covered_repeats: int
    phase_flow: float
    evidence_validity: float
    evidence_quotes: int
    usage: dict[str, int | float]
    # Per split; empty when a run covers only some cases or another dataset.
    clarifications: dict[str, ClarificationMetrics] = {}

    def split(self, name: str) -> SplitMetrics:
        """One split's metrics by name: dev, test or all."""
        return {"dev": self.dev, "test": self.test, "all": self.all}[name]


class RunResult(_Frozen):
    """A whole run: how it was made, every case, and the metrics over them."""

    engine: str
    backend: str
    model: str | None
    mode: str
    knowledge_dir: str
    rubrics_dir: str
    cases: list[CaseResult]
    metrics: SuiteMetrics
    confusion: dict[str, list[list[int]]]
    seconds: float
    transcripts_per_s: float | None
    embedded_texts: int
