"""The `mlsd` commands and their options, read from the real argument parser (for the docs' tests)."""

from __future__ import annotations

import argparse

from agent.cli.main import build_parser


def commands() -> dict[str, argparse.ArgumentParser]:
    """Every command that runs something, by its name as typed ("mlsd", "mlsd kb build", ...)."""
    found: dict[str, argparse.ArgumentParser] = {}

    def visit(parser: argparse.ArgumentParser, name: str) -> None:
        if parser.get_default("handler") is not None:
            found[name] = parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub_name, sub in action.choices.items():
                    visit(sub, f"{name} {sub_name}")

    visit(build_parser(), "mlsd")
    return found


def options(parser: argparse.ArgumentParser) -> set[str]:
    """The options a command takes, leaving out -h/--help and options hidden from --help."""
    return {
        option
        for action in parser._actions
        if action.option_strings
        and not isinstance(action, argparse._HelpAction)
        and action.help != argparse.SUPPRESS
        for option in action.option_strings
    }


def common_options() -> set[str]:
    """The options every command takes."""
    return set.intersection(*(options(p) for p in commands().values()))
