"""`mlsd` and `mlsd practice`: the terminal app."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from agent.cli.output import settings_from_args
from agent.engines.registry import add_backend_option, resolve_backend, uses_llm
from agent.errors import UsageError
from agent.ids import LENGTHS, LEVELS

LATEST = "latest"


def add_practice_arguments(parser: argparse.ArgumentParser) -> None:
    """The app's options (also accepted by plain `mlsd`)."""
    parser.add_argument("--problem", help="skip the start screen and interview on this problem")
    parser.add_argument(
        "--resume",
        nargs="?",
        const=LATEST,
        metavar="SESSION_ID",
        help="resume a session (default: the latest unfinished one)",
    )
    parser.add_argument("--level", choices=LEVELS, default="senior", help="target level (default senior)")
    parser.add_argument("--length", type=int, choices=LENGTHS, default=45, help="minutes (default 45)")
    add_backend_option(parser)
    parser.add_argument("--model", help="the LLM engine's model (env MLSD_MODEL)")


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add `practice` to the parser."""
    practice = commands.add_parser(
        "practice", help="the terminal app: practise a full interview", parents=[common]
    )
    add_practice_arguments(practice)
    practice.set_defaults(handler=run_practice)


def run_practice(args: argparse.Namespace) -> int:
    """Open the app."""
    from agent.content.loader import load_knowledge_base
    from agent.history import list_sessions
    from agent.session_lock import is_locked
    from agent.transcript import lock_path, transcript_path

    settings = settings_from_args(args)
    try:  # before the screen opens: a home that is a file would only fail in a worker later
        settings.ensure_home()
    except OSError as exc:
        raise UsageError(
            f"MLSD_HOME {settings.home} cannot be used ({exc.strerror or exc}): "
            "set MLSD_HOME (or --home) to a folder you can write to"
        ) from None
    backend = resolve_backend(getattr(args, "backend", None))
    if uses_llm(backend):
        from agent.config import LLMSettings

        LLMSettings.from_env(model=args.model)  # a missing key is reported here, before the screen opens
    if args.problem is not None:
        kb = load_knowledge_base(settings.knowledge_dir, settings.rubrics_dir)
        if args.problem not in kb.problems:
            raise UsageError(
                f"unknown problem {args.problem!r} (expected one of: {', '.join(sorted(kb.problems))})"
            )
    resume = args.resume
    if resume == LATEST:
        # A session open in another window is skipped: it has an owner already.
        unfinished = [
            s
            for s in list_sessions(settings.home)
            if not s.finished and not s.damaged and not is_locked(lock_path(settings.home, s.session_id))
        ]
        if not unfinished:
            raise UsageError(f"no unfinished session to resume under {settings.home} that is not open")
        resume = unfinished[0].session_id
    elif resume is not None and not transcript_path(settings.home, resume).is_file():
        raise UsageError(f"no session {resume!r} under {settings.home}")
    elif resume is not None and is_locked(lock_path(settings.home, resume)):
        raise UsageError(f"session {resume!r} is open in another mlsd window: close that one first")
    from tui.app import MlsdApp

    app = MlsdApp(
        settings,
        backend=backend,
        model=args.model,
        problem=args.problem,
        resume=resume,
        level=args.level,
        length=args.length,
    )
    app.run()
    if app.failure:  # an error the app could not go on from
        print(f"mlsd: error: {app.failure}", file=sys.stderr)
        return app.return_code or 1
    return app.return_code or 0
