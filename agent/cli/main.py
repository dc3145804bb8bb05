"""Entry point of the `mlsd` command: argument parsing and the error boundary.

With `--json`, stdout carries exactly one JSON document; everything for people goes to stderr.
Exit codes (docs/interfaces.md): 0 success, 2 bad usage or bad input (one line naming the problem),
1 other failures, 130 interrupted; `mlsd eval` adds 3 for a regression.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

from agent import __version__
from agent.errors import MlsdError, UsageError, storage_message
from agent.privacy import opt_out

#: The exit code after Ctrl+C (128 + SIGINT, as shells report it).
INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors and the exit code of bad usage (docs/interfaces.md)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(UsageError.exit_code, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("content and state")
    # SUPPRESS: these flags are accepted before and after the subcommand, and a subcommand's
    # unset flag must not overwrite a value given before it.
    group.add_argument(
        "--home",
        type=Path,
        default=argparse.SUPPRESS,
        help="where sessions and the index live (env MLSD_HOME)",
    )
    group.add_argument(
        "--knowledge",
        type=Path,
        default=argparse.SUPPRESS,
        help="knowledge notes folder (env MLSD_KNOWLEDGE_DIR)",
    )
    group.add_argument(
        "--rubrics", type=Path, default=argparse.SUPPRESS, help="rubrics folder (env MLSD_RUBRICS_DIR)"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """The full `mlsd` argument parser."""
    from agent.cli import bench, interview, kb, practice
    from agent.cli import eval as eval_command

    common = _common()
    parser = _Parser(
        prog="mlsd",
        description="A mock interviewer for machine learning system design interviews.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"mlsd {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    kb.register(commands, common)
    interview.register(commands, common)
    practice.register(commands, common)
    eval_command.register(commands, common)
    bench.register(commands, common)
    practice.add_practice_arguments(parser)
    parser.set_defaults(handler=practice.run_practice)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `mlsd` and return its exit code."""
    # Sessions, transcripts, reports and the index hold the user's answers: readable by them only.
    os.umask(0o077)
    opt_out()  # no telemetry or tracing from any dependency, before any of them loads
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else UsageError.exit_code
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return UsageError.exit_code
    try:
        result: int = handler(args)
        return result
    except MlsdError as exc:
        print(f"mlsd: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("mlsd: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        return 1
    except (OSError, sqlite3.Error) as exc:  # the disk is full, a file is unreadable or in the way
        message = storage_message(exc)
        if message is None:
            raise
        print(f"mlsd: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
