"""Run the suite: every case replayed with one engine, then scored. Cases run concurrently (bounded)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from agent.config import DEFAULT_MODEL, LLMSettings, Settings
from agent.engines.base import Engine
from agent.engines.registry import OFFLINE, Backend, make_engine, uses_llm
from agent.errors import MlsdError
from agent.session import Toolkit, build_context
from evals.cassette import Cassette
from evals.dataset import DATASET_DIR, Case, load_dataset
from evals.fit_clarifications import clarification_metrics
from evals.metrics import confusion_by_phase, suite_metrics
from evals.replay import replay_case
from evals.results import CaseResult, RunResult

CASSETTES_DIR = Path(__file__).resolve().parent / "cassettes"
Progress = Callable[[str], None]


class EvalError(MlsdError):
    """The harness could not run the suite (exit code 1), as opposed to a regression (3)."""

    exit_code = 1


@dataclass(frozen=True)
class RunOptions:
    """What to run and how."""

    backend: Backend = OFFLINE
    model: str | None = None
    record: bool = False
    concurrency: int = 4
    k: int = 3
    cases: list[str] = field(default_factory=list)
    dataset: Path = DATASET_DIR
    cassettes: Path = CASSETTES_DIR

    @property
    def engine_key(self) -> str:
        """Names the baseline and the cassettes: `offline` or `openai-<model>`."""
        if not uses_llm(self.backend):
            return self.backend
        return "openai-" + re.sub(r"[^A-Za-z0-9._-]+", "_", self.model or DEFAULT_MODEL)


def load_eval_toolkit(settings: Settings) -> Toolkit:
    """The toolkit with the disk cache of embeddings: the suite replays the same texts every run."""
    from agent.session import load_toolkit

    settings.ensure_home()
    return load_toolkit(settings)


def run_suite(
    settings: Settings, options: RunOptions, progress: Progress | None = None, toolkit: Toolkit | None = None
) -> RunResult:
    """Replay every case and score the run."""
    started = time.perf_counter()
    cases = load_dataset(options.dataset, options.cases or None)
    if not cases:
        raise EvalError(f"no eval cases in {options.dataset}")
    toolkit = toolkit or load_eval_toolkit(settings)
    shared = build_context(toolkit)

    def one(case: Case) -> CaseResult:
        engine, cassette = _engine_for(case, toolkit, options)
        try:
            result = replay_case(case, toolkit, engine, options.k, shared=shared)
        except MlsdError as exc:
            if cassette is not None and cassette.misses:
                raise _miss(case, cassette) from None
            raise EvalError(f"case {case.id}: {exc}") from None
        if cassette is not None:
            if cassette.misses:
                raise _miss(case, cassette)
            if options.record:
                cassette.save()
        if progress is not None:
            progress(case.id)
        return result

    workers = max(1, min(options.concurrency, len(cases)))
    if workers == 1:
        results = [one(case) for case in cases]
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="eval") as pool:
            results = list(pool.map(one, cases))
    metrics = suite_metrics(results, options.k)
    if not options.cases and options.dataset == DATASET_DIR:
        # A label past a note's clarifications is a bad input file: ContentError, exit 2.
        metrics = metrics.model_copy(update={"clarifications": clarification_metrics(toolkit)})
    elapsed = time.perf_counter() - started
    return RunResult(
        engine=options.engine_key,
        backend=options.backend,
        model=options.model or (DEFAULT_MODEL if uses_llm(options.backend) else None),
        mode="record" if options.record else "replay" if uses_llm(options.backend) else "offline",
        knowledge_dir=str(settings.knowledge_dir),
        rubrics_dir=str(settings.rubrics_dir),
        cases=results,
        metrics=metrics,
        confusion=confusion_by_phase(results),
        seconds=round(elapsed, 3),
        transcripts_per_s=round(len(results) / elapsed, 2) if elapsed else None,
        embedded_texts=toolkit.embedder.computed,
    )


def _engine_for(case: Case, toolkit: Toolkit, options: RunOptions) -> tuple[Engine, Cassette | None]:
    """The case's own engine (its usage is counted per case), with a cassette for the LLM."""
    if not uses_llm(options.backend):
        return make_engine(options.backend, toolkit), None
    import httpx2 as httpx

    if options.record:
        settings = LLMSettings.from_env(model=options.model)
    else:  # replay never reaches a server: the cassette answers every request or the run fails
        settings = LLMSettings(
            api_key="replay", base_url="http://cassette.invalid/v1", model=options.model or DEFAULT_MODEL
        )
    path = options.cassettes / options.engine_key / f"{case.id}.json"
    cassette = Cassette(path, "record" if options.record else "replay", {}, httpx.HTTPTransport())
    engine = make_engine(
        options.backend, toolkit, settings=settings, http_client=httpx.Client(transport=cassette)
    )
    cassette.prompt_versions = engine.prompt_versions
    return engine, cassette


def _miss(case: Case, cassette: Cassette) -> EvalError:
    return EvalError(
        f"case {case.id}: {len(cassette.misses)} LLM request(s) have no recording in {cassette.path} "
        "(a prompt, rubric or note changed what is sent); record them against a live server with "
        "`mlsd eval --backend openai --record`"
    )
