"""`mlsd bench`: speed, memory and token figures of this install on this machine, against budgets."""

from __future__ import annotations

import argparse
from typing import Any

from agent.bench import STEPS
from agent.cli.output import print_json, settings_from_args, stderr

#: The measurements, in the order they run (the list lives with them, in agent.bench).
STEP_NAMES = tuple(STEPS)


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add `bench` to the parser."""
    parser = commands.add_parser(
        "bench",
        help="measure first launch, startup, turn latency, search, index, eval, LLM overhead and memory",
        parents=[common],
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--only",
        action="append",
        choices=STEP_NAMES,
        default=[],
        help="run only this measurement (repeatable)",
    )
    parser.set_defaults(handler=run_bench_command)


def run_bench_command(args: argparse.Namespace) -> int:
    """Run the measurements (a few minutes: a cold index build and the eval suite are among them)."""
    from agent.bench import run_bench

    console = stderr()
    figures = run_bench(
        settings_from_args(args),
        only=args.only or None,
        progress=lambda step: console.print(f"measuring {step}..."),
    )
    if args.json:
        print_json(figures)
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title="mlsd bench")
    table.add_column("budget")
    table.add_column("value", justify="right")
    table.add_column("limit", justify="right")
    table.add_column("")
    for name, budget in figures["budgets"].items():
        mark = "[green]met[/]" if budget["met"] else "[red]missed[/]" if budget["met"] is False else "-"
        sign = "≤" if budget["kind"] == "max" else "≥"
        table.add_row(name, str(budget["value"]), f"{sign} {budget['limit']}", mark)
    out = Console(highlight=False)
    out.print(table)
    details = {k: v for k, v in figures.items() if k not in ("budgets",)}
    for key, value in details.items():
        out.print(f"{key}: {value}")
    return 0
