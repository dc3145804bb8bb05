"""`mlsd eval`: replay the labelled transcripts, score them, gate on the baseline; `mlsd eval add`.

Exit codes: 0 no regression, 3 a regression against the committed baseline, 1 the harness could
not run (e.g. an LLM request with no recording), 2 bad usage or a bad dataset file.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from agent.cli.output import print_json, settings_from_args, stderr
from agent.engines.registry import add_backend_option, resolve_backend, uses_llm
from agent.errors import UsageError

REGRESSION = 3


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add `eval` (and `eval add`) to the parser. The defaults are resolved when the command runs:
    building the parser must not import the eval harness (and with it LangGraph) for every command."""
    parser = commands.add_parser(
        "eval",
        help="replay the recorded transcripts, report agreement with human labels, gate on regressions",
        parents=[common],
    )
    parser.add_argument("--json", action="store_true", help="print the run and the gate as JSON")
    add_backend_option(parser)
    parser.add_argument("--model", help="the LLM engine's model (env MLSD_MODEL); names its cassettes")
    parser.add_argument(
        "--record",
        action="store_true",
        help="call the live LLM server and rewrite the cassettes (openai only)",
    )
    parser.add_argument(
        "--update-baseline", action="store_true", help="rewrite the committed baseline with this run"
    )
    parser.add_argument("--case", action="append", default=[], help="run only this case (repeatable)")
    parser.add_argument("--concurrency", type=int, default=4, help="cases run at once (default 4)")
    parser.add_argument("-k", type=int, default=3, help="follow-up ranks scored by hit@k (default 3)")
    parser.add_argument("--junit", type=Path, help="also write JUnit XML here")
    parser.add_argument("--html", type=Path, help="also write an HTML report here")
    parser.add_argument("--dataset", type=Path, help="the cases (default: evals/dataset)")
    parser.add_argument("--baseline-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cassettes", type=Path, help=argparse.SUPPRESS)
    parser.set_defaults(handler=run_eval)
    actions = parser.add_subparsers(dest="eval_action", metavar="ACTION", parser_class=type(parser))
    add = actions.add_parser(
        "add", help="add a saved session to the dataset, to be labelled", parents=[common]
    )
    add.add_argument("session_id", help="a session id under MLSD_HOME/sessions")
    add.add_argument("--name", help="the case's name (default: the session id)")
    add.add_argument("--dataset", type=Path, help="the dataset folder (default: evals/dataset)")
    add.add_argument("--json", action="store_true", help="print where the case was written, as JSON")
    add.set_defaults(handler=run_add)


def run_eval(args: argparse.Namespace) -> int:
    """Run the suite and compare it with the baseline."""
    from agent.report_model import to_json
    from evals.dataset import DATASET_DIR
    from evals.gate import BASELINE_DIR, baseline_path, compare, jsonable, read_baseline, write_baseline
    from evals.reports import print_summary, write_html, write_junit
    from evals.runner import CASSETTES_DIR, RunOptions, run_suite

    backend = resolve_backend(args.backend)
    if args.record and not uses_llm(backend):
        raise UsageError("--record records LLM calls: use it with --backend openai and a live server")
    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    options = RunOptions(
        backend=backend,
        model=args.model,
        record=args.record,
        concurrency=args.concurrency,
        k=args.k,
        cases=args.case,
        dataset=args.dataset or DATASET_DIR,
        cassettes=args.cassettes or CASSETTES_DIR,
    )
    console = stderr()
    progress, done = _progress(console, quiet=args.json)
    try:
        run = run_suite(settings_from_args(args), options, progress)
    finally:
        done()
    path = baseline_path(options.engine_key, args.baseline_dir or BASELINE_DIR)
    baseline = read_baseline(path)
    if args.update_baseline:
        if args.case:
            raise UsageError("--update-baseline needs the whole suite: drop --case")
        write_baseline(run, path)
        gate = None
    else:
        gate = compare(run, baseline, partial=bool(args.case)) if baseline else None
    if args.junit:
        write_junit(run, gate, args.junit)
    if args.html:
        write_html(run, gate, baseline, args.html)
    if args.json:
        print_json(jsonable({**to_json(run), "gate": gate, "baseline": str(path)}))
    else:
        from rich.console import Console

        print_summary(Console(highlight=False), run, gate, baseline_written=args.update_baseline)
    if args.update_baseline:
        console.print(f"baseline written to {path}")
    return REGRESSION if gate is not None and not gate["passed"] else 0


def _progress(console: Any, quiet: bool) -> tuple[Any, Any]:
    """A progress bar on a terminal; nothing when stderr is a file or a pipe."""
    if quiet or not sys.stderr.isatty():
        return None, lambda: None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("replaying"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    task = bar.add_task("cases", total=None)
    bar.start()
    return (lambda case: bar.advance(task)), bar.stop


def run_add(args: argparse.Namespace) -> int:
    """Copy a saved session into the dataset with a labels file to fill in."""
    import yaml

    from agent.transcript import read_transcript, transcript_path
    from evals.dataset import DATASET_DIR, LABELS, TRANSCRIPT, label_template

    settings = settings_from_args(args)
    source = transcript_path(settings.home, args.session_id)
    if not source.is_file():
        raise UsageError(
            f"no saved session {args.session_id!r} under {settings.home} (see the app's History)"
        )
    events = read_transcript(source)
    header = next((e for e in events if e["event"] == "session"), None)
    if header is None:
        raise UsageError(f"{source}: no session header line; this transcript cannot be replayed")
    if not any(e["event"] == "report" for e in events):
        raise UsageError(
            f"session {args.session_id!r} is not finished: finish it with `mlsd practice --resume "
            f"{args.session_id}` first"
        )
    name = args.name or args.session_id
    if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", name):
        raise UsageError(f"case name {name!r}: use lower-case letters, digits, '_', '-' and '.'")
    folder = (args.dataset or DATASET_DIR) / name
    if folder.exists():
        raise UsageError(f"{folder} already exists: pick another --name")
    folder.mkdir(parents=True)
    with (folder / TRANSCRIPT).open("w", encoding="utf-8") as out:
        for line in source.read_text(encoding="utf-8").splitlines():
            if '"event": "session"' in line:
                event = json.loads(line)
                # Local folders say nothing about the interview and may reveal a user name.
                event.pop("knowledge_dir", None)
                event.pop("rubrics_dir", None)
                line = json.dumps(event, ensure_ascii=False)
            out.write(line + "\n")
    labels = folder / LABELS
    labels.write_text(
        "# Labels for this recorded interview. Fill in a score 1-4 for each phase (1 no signal, 2 weak,\n"
        "# 3 solid, 4 strong), the phases whose answers are adversarial, and at marked answers the topics\n"
        "# a good interviewer would probe next: {phase: ..., answer: N (0-based), topics: [...]}.\n"
        "# Until every phase has a score the case is replayed but left out of the agreement metrics.\n"
        + yaml.safe_dump(label_template(str(header.get("problem"))), sort_keys=False),
        encoding="utf-8",
    )
    if args.json:
        print_json({"case": name, "path": str(folder), "labels": str(labels)})
    else:
        stderr().print(f"added {folder}; now fill in {labels} and run `mlsd eval --update-baseline`")
    return 0
