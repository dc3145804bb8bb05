"""`mlsd bench`: measure the product's speed, memory and token use on this machine.

Every figure is measured, never assumed: processes are really started, the interview really runs
through the graph with its SQLite checkpoints, the LLM engine really talks HTTP to a local
OpenAI-compatible server. Budgets (issue #7, for a 2-core machine on the offline engine) are checked
and reported next to each figure; the benchmark itself never fails a build.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.config import Settings
from agent.privacy import OPT_OUTS

#: The budgets: (figure, limit, "max" if the figure must stay at or below it, "min" for at least).
BUDGETS: dict[str, tuple[float, str]] = {
    "turn_over_embed_p95": (2.0, "max"),
    "startup_warm_s": (1.0, "max"),
    "first_launch_s": (2.0, "max"),
    "index_nochange_s": (0.3, "max"),
    "eval_transcripts_per_s": (10.0, "min"),
    "llm_overhead_ms": (5.0, "max"),
    "prompt_token_ratio": (0.5, "max"),
    "peak_rss_mb": (400.0, "max"),
}
#: The scripted interview: a strong candidate from the eval dataset, all seven phases.
BENCH_CASE = "news_feed_ranking_strong"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), linear between ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _spread(values_ms: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values_ms, 50), 2),
        "p95": round(percentile(values_ms, 95), 2),
        "max": round(max(values_ms), 2),
        "n": len(values_ms),
    }


def _script() -> tuple[str, list[tuple[str, str, float, str]]]:
    """The bench case's problem and its candidate inputs: (phase, action, seconds, text)."""
    from evals.dataset import DATASET_DIR, load_case

    case = load_case(DATASET_DIR / BENCH_CASE)
    return case.problem, [(i.phase, i.action, i.seconds, i.text) for i in case.inputs]


def _in(home: Path, settings: Settings) -> Settings:
    """The same content, with `home` as MLSD_HOME."""
    return Settings(home=home, knowledge_dir=settings.knowledge_dir, rubrics_dir=settings.rubrics_dir)


# ------------------------------------------------------------------------------------------ figures


def measure_turns(settings: Settings, home: Path) -> dict[str, Any]:
    """turn_ms over a scripted seven-phase interview (durable SQLite checkpoints, transcript fsync),
    and embed_ms for the same answers embedded alone with the same model and no cache."""
    from agent.search.embedding import Embedder
    from agent.session import Interview, build_context, load_toolkit

    toolkit = load_toolkit(_in(home, settings))
    context = build_context(toolkit, auto_advance=True)
    problem, inputs = _script()
    warm = Interview.create(context, home, problem=problem, session_id="bench-warmup")
    warm.send("Warming up the model and the graph with one short answer about users and latency.")
    toolkit.embedder.memory = type(toolkit.embedder.memory)()  # no answer may come from the cache
    interview = Interview.create(context, home, problem=problem, session_id="bench-turns")
    turns: list[float] = []
    answers: list[str] = []
    queue = list(inputs)
    while not interview.finished and queue:
        phase = interview.values()["phase"]
        while queue and queue[0][0] != phase and _before(queue[0][0], phase):
            queue.pop(0)
        if queue and queue[0][0] == phase:
            _, action, seconds, text = queue.pop(0)
        else:
            action, seconds, text = "skip", 0.0, ""
        started = time.perf_counter()
        interview.send(text, action=action, seconds=seconds)
        if action == "answer":
            turns.append(1000 * (time.perf_counter() - started))
            answers.append(text)
    fresh = Embedder()
    fresh.embed(["load the model first"])
    embeds = []
    for text in answers:
        started = time.perf_counter()
        fresh.embed([text])
        embeds.append(1000 * (time.perf_counter() - started))
    turn, embed = _spread(turns), _spread(embeds)
    return {
        "turn_ms": turn,
        "embed_ms": embed,
        "turn_over_embed_p50": round(turn["p50"] / embed["p50"], 2),
        "turn_over_embed_p95": round(turn["p95"] / embed["p95"], 2),
    }


def _before(a: str, b: str) -> bool:
    from agent.ids import PHASES, WRAP_UP

    order = (*PHASES, WRAP_UP)
    return order.index(a) < order.index(b)


def measure_search(settings: Settings, home: Path) -> dict[str, Any]:
    """search_ms: p50/p95 of knowledge-base search (query embedding + Chroma) over varied queries."""
    from agent.session import load_toolkit

    toolkit = load_toolkit(_in(home, settings))
    _, inputs = _script()
    queries = [text.split(".")[0][:200] for _, action, _, text in inputs if action == "answer"]
    queries += ["cold start for new users", "delayed labels in fraud", "position bias in click logs"]
    toolkit.index.search("warm up")
    times = []
    for query in queries * 2:
        toolkit.embedder.memory = type(toolkit.embedder.memory)()
        started = time.perf_counter()
        toolkit.index.search(query, k=5)
        times.append(1000 * (time.perf_counter() - started))
    return {"search_ms": _spread(times)}


def measure_index(settings: Settings, home: Path) -> dict[str, Any]:
    """index_build_s: a cold build in an empty home, then a rebuild with nothing changed (in-process
    and as a whole `mlsd kb build` process)."""
    from agent.search.service import load_kb, ready_index

    cold_home = home / "cold"
    cold = _in(cold_home, settings)
    kb = load_kb(cold)
    started = time.perf_counter()
    ready_index(cold, kb)
    cold_s = time.perf_counter() - started
    started = time.perf_counter()
    _, stats = ready_index(cold, kb)
    nochange_s = time.perf_counter() - started
    started = time.perf_counter()
    _mlsd(cold_home, settings, "kb", "build")
    process_s = time.perf_counter() - started
    # The other measurements start from this home as a user's would be after `mlsd kb build`.
    shutil.copytree(cold_home / "index", home / "index", dirs_exist_ok=True)
    shutil.copytree(cold_home / "cache", home / "cache", dirs_exist_ok=True)
    return {
        "index_build_s": {
            "cold": round(cold_s, 2),
            "nochange": round(nochange_s, 3),
            "nochange_skipped": stats.skipped,
            "nochange_process": round(process_s, 2),
        },
        "index_nochange_s": round(nochange_s, 3),
    }


def _until_line(
    flag: str, problem: str, env: dict[str, str], *, expect: str, timeout: float, what: str
) -> tuple[float, str]:
    """Start `python -m agent.bench FLAG PROBLEM` and time it until it prints its first line, which
    must start with `expect`."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "agent.bench", flag, problem],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    elapsed = time.perf_counter() - started
    _, errors = process.communicate(timeout=timeout)
    if not line.startswith(expect):
        raise RuntimeError(f"the app did not {what}: {errors[-500:]}")
    return elapsed, line


def measure_startup(settings: Settings, home: Path, runs: int = 4) -> dict[str, Any]:
    """startup_s: process start to the first interviewer question on screen (the real Textual app,
    headless, offline engine); the first run is cold, the median of the rest warm."""
    problem, _ = _script()
    env = _env(home, settings)
    times = [
        _until_line(
            "--first-question", problem, env, expect="FIRST", timeout=120, what="show its first question"
        )[0]
        for _ in range(runs)
    ]
    return {
        "startup_s": {"cold": round(times[0], 3), "warm": round(statistics.median(times[1:]), 3)},
        "startup_warm_s": round(statistics.median(times[1:]), 3),
    }


def measure_first_launch(settings: Settings, home: Path, runs: int = 3) -> dict[str, Any]:
    """first_launch_s: process start to the answer box ready on a fresh MLSD_HOME (nothing built,
    nothing cached: what a new user's first `mlsd` run does), and the phase clock shown then."""
    problem, _ = _script()
    times, clocks = [], []
    for run in range(runs):
        fresh = home / f"first-launch-{run}"
        elapsed, line = _until_line(
            "--answer-ready",
            problem,
            _env(fresh, settings),
            expect="READY",
            timeout=300,
            what="get ready for an answer",
        )
        times.append(elapsed)
        clocks.append(line.split()[1])
        shutil.rmtree(fresh, ignore_errors=True)
    return {
        "first_launch": {"runs_s": [round(t, 3) for t in times], "phase_clock_at_ready": clocks},
        "first_launch_s": round(statistics.median(times), 3),
    }


def measure_rss(settings: Settings, home: Path) -> dict[str, Any]:
    """Peak resident memory of a whole scripted `mlsd interview` process."""
    problem, inputs = _script()
    script: dict[str, list[str]] = {}
    for phase, action, _, text in inputs:
        if action == "answer":
            script.setdefault(phase, []).append(text)
    # A user's home after `mlsd kb build`: rubric statements cached, these answers never seen.
    shutil.rmtree(home / "cache", ignore_errors=True)
    shutil.copytree(home / "cold" / "cache", home / "cache")
    path = home / "bench-answers.json"
    path.write_text(json.dumps(script), encoding="utf-8")  # JSON is YAML
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "agent.cli.main",
            "interview",
            "--backend",
            "offline",
            "--problem",
            problem,
            "--answers",
            str(path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=_env(home, settings),
    )
    # The peak of the interview's own image (VmHWM), polled until it exits: the kernel's ru_maxrss
    # of a child also counts the bench process it was forked from, before exec.
    peak_kib = 0
    status = Path(f"/proc/{process.pid}/status")
    while process.poll() is None:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak_kib = max(peak_kib, int(line.split()[1]))
        except (OSError, ValueError):
            pass
        time.sleep(0.01)
    if process.returncode:
        raise RuntimeError("the scripted interview failed while measuring memory")
    return {"peak_rss_mb": round(peak_kib / 1024, 1) if peak_kib else None}


def measure_eval(settings: Settings, home: Path) -> dict[str, Any]:
    """eval_transcripts_per_s: the whole eval suite on the offline engine, cold (embedding every
    candidate text) and warm (texts from the suite's embedding cache, as on every later run)."""
    from evals.runner import RunOptions, run_suite

    eval_settings = _in(home, settings)
    cold = run_suite(eval_settings, RunOptions(concurrency=1))
    warm = run_suite(eval_settings, RunOptions(concurrency=1))
    return {
        "eval": {
            "cases": len(warm.cases),
            "cold_s": cold.seconds,
            "warm_s": warm.seconds,
            "cold_transcripts_per_s": cold.transcripts_per_s,
            "warm_transcripts_per_s": warm.transcripts_per_s,
        },
        "eval_transcripts_per_s": warm.transcripts_per_s,
    }


def measure_llm(settings: Settings, home: Path, calls: int = 20, delay_s: float = 0.05) -> dict[str, Any]:
    """llm_overhead_ms: our engine against a bare `openai` SDK call to the same local server with a
    fixed delay (streamed interviewer turns and structured grades), and prompt tokens per interview
    against a naive design that sends every rubric and the whole history on each call."""
    import openai

    from agent.config import LLMSettings
    from agent.engines.base import TurnPlan
    from agent.engines.llm import LLMEngine
    from agent.llm.stub_server import StubLLMServer
    from agent.session import load_toolkit

    toolkit = load_toolkit(_in(home, settings))
    problem, inputs = _script()
    answer = next(text for _, action, _, text in inputs if action == "answer")
    criteria = toolkit.kb.rubric_for(problem, "clarify_requirements")
    plan = TurnPlan(
        kind="followup",
        phase="clarify_requirements",
        phase_title="Clarify requirements",
        problem_title=problem,
        question="How would you size the system?",
        last_answer=answer,
    )
    with StubLLMServer(delay_s=delay_s) as server:
        llm = LLMSettings(api_key="bench", base_url=server.base_url, model="stub-model")
        engine = LLMEngine(llm)
        bare = openai.OpenAI(api_key="bench", base_url=server.base_url, max_retries=0)

        def last_request() -> dict[str, Any]:
            """The body our engine just sent: the bare call sends exactly the same request."""
            body = server.state.requests[-1]["body"]
            return json.loads(body) if isinstance(body, str | bytes) else dict(body)

        engine.say(plan)
        say_body = last_request()

        def bare_stream() -> None:
            for _ in bare.chat.completions.create(**say_body):
                pass

        ours_say = _timed(lambda: engine.say(plan), calls)
        bare_say = _timed(bare_stream, calls)
        ours_grade = _timed(
            lambda: engine.grade_answer(problem, "clarify_requirements", criteria, answer), calls
        )
        grade_body = last_request()
        bare_grade = _timed(lambda: bare.chat.completions.create(**grade_body), calls)
    overhead_say = statistics.median(ours_say) - statistics.median(bare_say)
    overhead_grade = statistics.median(ours_grade) - statistics.median(bare_grade)
    tokens = measure_prompt_tokens(settings, home)
    return {
        "llm_overhead_ms": round(max(overhead_say, overhead_grade), 2),
        "llm": {
            "server_delay_ms": delay_s * 1000,
            "say_ms": {
                "ours": round(statistics.median(ours_say), 2),
                "bare_sdk": round(statistics.median(bare_say), 2),
            },
            "grade_ms": {
                "ours": round(statistics.median(ours_grade), 2),
                "bare_sdk": round(statistics.median(bare_grade), 2),
            },
        },
        **tokens,
    }


def _timed(call: Callable[[], Any], n: int) -> list[float]:
    call()  # connection set-up and first-use costs are not what we measure
    times = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        times.append(1000 * (time.perf_counter() - started))
    return times


def measure_prompt_tokens(settings: Settings, home: Path) -> dict[str, Any]:
    """Prompt tokens of the scripted interview on the LLM engine (from the recorded cassette), and
    of a naive design that sends every phase's rubric and the whole history with each call."""
    from agent.engines.llm import render_rubric
    from agent.engines.registry import LLM
    from agent.ids import PHASES
    from agent.llm.prompts import load_prompt
    from agent.search.service import load_kb
    from evals.runner import RunOptions, run_suite

    eval_settings = _in(home, settings)
    run = run_suite(
        eval_settings, RunOptions(backend=LLM, model="stub-model", cases=[BENCH_CASE], concurrency=1)
    )
    result = run.cases[0]
    ours = int(result.usage["prompt_tokens"])
    calls = int(result.usage["calls"])
    kb = load_kb(eval_settings)
    every_rubric = "\n".join(render_rubric(kb.rubric_for(result.problem, p)) for p in PHASES)
    system = load_prompt("interviewer").system + load_prompt("grader").system
    fixed = _tokens(system) + _tokens(every_rubric)
    # The same number of calls, spread over the interview as ours are; a naive engine resends every
    # rubric and the whole history so far with each.
    history = [len(t) for t in _turn_texts()]
    points = [min(len(history), round((i + 1) * len(history) / calls)) for i in range(calls)]
    naive = sum(fixed + sum(history[:point]) // 4 for point in points)
    return {
        "prompt_tokens_per_interview": {"ours": ours, "naive": naive, "calls": calls},
        "prompt_token_ratio": round(ours / naive, 3) if naive else None,
    }


def _tokens(text: str) -> int:
    """The stub server's token estimate (characters / 4), so both designs are counted alike."""
    return max(1, len(text) // 4)


def _turn_texts() -> list[str]:
    """The texts of the bench case's recorded turns, in order."""
    from agent.transcript import read_transcript
    from evals.dataset import DATASET_DIR

    events = read_transcript(DATASET_DIR / BENCH_CASE / "transcript.jsonl")
    return [e["text"] for e in events if e["event"] == "turn"]


# ------------------------------------------------------------------------------------------ running


def _env(home: Path, settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    env.update(
        MLSD_HOME=str(home),
        MLSD_KNOWLEDGE_DIR=str(settings.knowledge_dir),
        MLSD_RUBRICS_DIR=str(settings.rubrics_dir),
        **OPT_OUTS,
    )
    return env


def _mlsd(home: Path, settings: Settings, *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "agent.cli.main", *args],
        capture_output=True,
        text=True,
        env=_env(home, settings),
        timeout=600,
    )
    if result.returncode:
        raise RuntimeError(f"mlsd {' '.join(args)} failed: {result.stderr[-500:]}")


STEPS: dict[str, Callable[[Settings, Path], dict[str, Any]]] = {
    "index": measure_index,
    "startup": measure_startup,
    "first_launch": measure_first_launch,
    "turns": measure_turns,
    "search": measure_search,
    "eval": measure_eval,
    "llm": measure_llm,
    "memory": measure_rss,
}


def run_bench(
    settings: Settings, only: list[str] | None = None, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Every measurement, in a temporary home, with the budgets checked."""
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="mlsd-bench-") as tmp:
        home = Path(tmp)
        for name, step in STEPS.items():
            if only and name not in only and name != "index":
                continue
            if progress:
                progress(name)
            figures.update(step(settings, home))
    figures["budgets"] = {
        name: {
            "limit": limit,
            "kind": kind,
            "value": figures.get(name),
            "met": _met(figures.get(name), limit, kind),
        }
        for name, (limit, kind) in BUDGETS.items()
        if name in figures
    }
    figures["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0], "platform": sys.platform}
    return figures


def _met(value: Any, limit: float, kind: str) -> bool | None:
    if not isinstance(value, int | float):
        return None
    return value <= limit if kind == "max" else value >= limit


# ------------------------------------------------------------------------------------------ first question


def _first_question(problem: str) -> int:
    """Run the real app headless until its first interviewer message is on screen, then say FIRST."""
    import asyncio

    from tui.app import MlsdApp
    from tui.widgets.chat import InterviewerMessage

    async def run() -> None:
        app = MlsdApp(Settings.from_env(), problem=problem)
        async with app.run_test(size=(100, 30)) as pilot:
            while not app.screen.query(InterviewerMessage):
                await pilot.pause(0.005)
            print("FIRST", flush=True)
            app.exit()

    asyncio.run(run())
    return 0


def _answer_ready(problem: str) -> int:
    """Run the real app headless until the answer box takes an answer, then say READY and the phase
    clock the side panel shows at that moment."""
    import asyncio

    from tui.app import MlsdApp
    from tui.screens.interview import InterviewScreen
    from tui.widgets.phase_panel import PhasePanel

    async def run() -> None:
        app = MlsdApp(Settings.from_env(), problem=problem)
        async with app.run_test(size=(120, 40)) as pilot:
            while not (isinstance(app.screen, InterviewScreen) and app.screen.takes_answers()):
                await pilot.pause(0.005)
            shown = str(app.screen.query_one(PhasePanel).render())
            phase_clock = next(
                (line.split()[1] for line in shown.splitlines() if line.startswith("Phase")), "?"
            )
            print(f"READY {phase_clock}", flush=True)
            app.exit()

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--first-question":
        raise SystemExit(_first_question(sys.argv[2]))
    if len(sys.argv) == 3 and sys.argv[1] == "--answer-ready":
        raise SystemExit(_answer_ready(sys.argv[2]))
    raise SystemExit(
        "usage: python -m agent.bench --first-question|--answer-ready PROBLEM (used by `mlsd bench`)"
    )
