"""`mlsd kb ...`: check, build and search the knowledge base."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from agent.cli.output import print_json, settings_from_args, stderr
from agent.content.hints import lint
from agent.content.units import UNIT_KINDS, build_units
from agent.errors import ContentError, UsageError
from agent.ids import PHASES
from agent.search.index import Progress
from agent.search.service import load_kb, ready_index


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add `kb` and its subcommands to the parser."""
    kb = commands.add_parser("kb", help="check, build and search the knowledge base", parents=[common])
    sub = kb.add_subparsers(dest="kb_command", metavar="KB_COMMAND", required=True)

    build = sub.add_parser("build", help="build or refresh the vector index", parents=[common])
    build.add_argument("--force", action="store_true", help="re-embed everything from scratch")
    build.add_argument("--json", action="store_true", help="print the build statistics as JSON")
    build.set_defaults(handler=run_build)

    search = sub.add_parser("search", help="semantic search of the knowledge base", parents=[common])
    search.add_argument("query", help="what to look for, in your own words")
    search.add_argument("--phase", help="only units that fit this phase")
    search.add_argument("--problem", help="only units that apply to this problem")
    search.add_argument("--kind", choices=UNIT_KINDS, action="append", help="only units of this kind")
    search.add_argument("-k", type=int, default=5, help="number of results (default 5)")
    search.add_argument("--json", action="store_true", help="print results as JSON")
    search.set_defaults(handler=run_search)

    check = sub.add_parser("check", help="validate every note and rubric", parents=[common])
    check.add_argument("--json", action="store_true", help="print a summary as JSON")
    check.set_defaults(handler=run_check)


@contextmanager
def _progress_bar(label: str) -> Iterator[Progress | None]:
    """A progress bar on stderr when it is a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr(),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _refresh_index(args: argparse.Namespace, force: bool = False) -> tuple[Any, Any, Any]:
    settings = settings_from_args(args)
    kb = load_kb(settings)
    with _progress_bar("Embedding knowledge units") as progress:
        index, stats = ready_index(settings, kb, force=force, progress=progress)
    return kb, index, stats


def run_build(args: argparse.Namespace) -> int:
    """Build or refresh the index and report what changed."""
    _, index, stats = _refresh_index(args, force=args.force)
    if args.json:
        print_json({"index": str(index.path), **stats.as_dict()})
        return 0
    if stats.skipped:
        stderr().print(f"Index is up to date: {stats.total} units ({stats.seconds:.2f} s). {index.path}")
    else:
        replaced = " (index replaced)" if stats.rebuilt else ""
        reused = stats.embedded - stats.computed
        known = f" ({reused} already known: shipped or cached)" if reused else ""
        stderr().print(
            f"Indexed {stats.total} units: {stats.embedded} embedded{known}, "
            f"{stats.total - stats.embedded} unchanged, {stats.removed} removed{replaced} "
            f"in {stats.seconds:.1f} s. {index.path}"
        )
    return 0


def _check_filters(args: argparse.Namespace, kb: Any) -> None:
    if args.phase is not None and args.phase not in PHASES:
        raise UsageError(f"unknown phase {args.phase!r} (expected one of: {', '.join(PHASES)})")
    if args.problem is not None and args.problem not in kb.problems:
        raise UsageError(
            f"unknown problem {args.problem!r} (expected one of: {', '.join(sorted(kb.problems))})"
        )
    if args.k < 1:
        raise UsageError("-k must be at least 1")
    if not args.query.strip():
        raise UsageError("the search query is empty")


def run_search(args: argparse.Namespace) -> int:
    """Print the units nearest in meaning to the query."""
    settings = settings_from_args(args)
    kb = load_kb(settings)
    _check_filters(args, kb)
    with _progress_bar("Embedding knowledge units") as progress:
        index, _ = ready_index(settings, kb, progress=progress)
    hits = index.search(args.query, k=args.k, phase=args.phase, problem=args.problem, kinds=args.kind)
    results = [h.as_json(args.phase, args.problem) for h in hits]
    if args.json:
        print_json({"results": results})
        return 0
    _print_results(results, print)
    return 0


def _print_results(results: list[dict[str, Any]], write: Callable[[str], None]) -> None:
    if not results:
        write("No results.")
    for n, r in enumerate(results, 1):
        tags = ", ".join(f"{key} {r[key]}" for key in ("topic", "phase", "problem") if r[key])
        write(f"{n}. [{r['kind']}] {r['text']}")
        write(f"   {tags + ' | ' if tags else ''}{r['source']} | distance {r['distance']:.3f}")


def run_check(args: argparse.Namespace) -> int:
    """Validate and cross-check every content file."""
    settings = settings_from_args(args)
    kb = load_kb(settings)
    problems = lint(kb)
    if problems:
        # Applicability: foreign vocabulary on a problem, or a question taking a design element for granted.
        for problem in problems[1:]:
            stderr().print(f"error: {problem}", markup=False, highlight=False)
        raise ContentError(problems[0].path, problems[0].field, problems[0].message)
    units = build_units(kb)
    summary = {
        "knowledge_dir": str(settings.knowledge_dir),
        "rubrics_dir": str(settings.rubrics_dir),
        "phases": len(kb.phases),
        "topics": len(kb.topics),
        "problems": len(kb.problems),
        "rubrics": len(kb.rubrics),
        "overlays": len(kb.overlays),
        "followups": sum(1 for u in units if u.kind == "followup"),
        "units": len(units),
    }
    if args.json:
        print_json({"ok": True, **summary})
    else:
        stderr().print(
            f"All content is valid: {summary['phases']} phases, {summary['topics']} topics, "
            f"{summary['problems']} problems, {summary['rubrics']} rubrics, {summary['overlays']} overlays, "
            f"{summary['followups']} follow-ups ({summary['units']} searchable units)."
        )
    return 0
