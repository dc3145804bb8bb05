"""README.md cannot drift from the code: its Commands table has one row per `mlsd` command, listing
exactly that command's options as the real parser defines them; the sentences under the table name
the options every command takes, the commands that take the engine options and the exit codes; the
moving-on rule quotes agent/policy.py."""

from __future__ import annotations

import dataclasses
import re

from agent.context import InterviewContext
from agent.policy import EXIT_COVERAGE

from .cli_commands import commands, common_options, options
from .conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    """The text of the README's `## title` section."""
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else len(README)]


def _command_cells() -> list[str]:
    """The first cell of each body row of the Commands table."""
    lines = _section("Commands").splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    table = [line for line in lines[first:] if line.startswith("|")][2:]
    return [re.split(r"(?<!\\)\|", line)[1] for line in table]


def _usage(usage: str) -> tuple[str, set[str], list[str]]:
    """A usage line's command name, its options, and any word that is neither (an unknown command)."""
    known = {" ".join(name.split()[:n]) for name in commands() for n in range(1, len(name.split()) + 1)}
    words = re.sub(r"[\[\]]|\\\|", " ", usage).split()
    name = words.pop(0)
    while words and f"{name} {words[0]}" in known:
        name = f"{name} {words.pop(0)}"
    flags = {w for w in words if w.startswith("-")}
    unknown = [w for w in words if re.fullmatch(r"[a-z][a-z_]*", w)]
    return name, flags, unknown


def test_every_command_has_one_row_with_exactly_its_options() -> None:
    parsers = commands()
    common = common_options()
    rows: dict[str, set[str]] = {}
    problems: list[str] = []
    for cell in _command_cells():
        for usage in re.findall(r"`([^`]+)`", cell):
            name, flags, unknown = _usage(usage)
            if name not in parsers or unknown:
                problems.append(f"README row `{usage}`: no such command")
            elif name in rows:
                problems.append(f"README has two rows for `{name}`")
            else:
                rows[name] = flags
    for name, parser in parsers.items():
        if name not in rows:
            problems.append(f"README has no row for `{name}`")
            continue
        expected = options(parser) - common
        if rows[name] != expected:
            missing, extra = sorted(expected - rows[name]), sorted(rows[name] - expected)
            problems.append(f"`{name}` row: missing {missing}, not options of the command {extra}")
    assert not problems, "\n".join(problems)


def test_the_options_every_command_takes_are_named() -> None:
    sentence = re.search(r"Every command also takes (.+?) \(", _section("Commands"), flags=re.S)
    assert sentence, "README no longer says which options every command takes"
    assert set(re.findall(r"`([^`]+)`", sentence.group(1))) == common_options()


def test_the_commands_that_take_the_engine_options_are_named() -> None:
    sentence = re.search(r"and `--model` are taken by (.+?) \(", _section("Commands"), flags=re.S)
    assert sentence, "README no longer says which commands take --backend and --model"
    named = set(re.findall(r"`(mlsd[^`]*)`", sentence.group(1)))
    assert named == {name for name, p in commands().items() if "--backend" in options(p)}
    assert named == {name for name, p in commands().items() if "--model" in options(p)}


def test_the_exit_codes_are_the_documented_ones() -> None:
    readme = re.search(r"Exit codes: (.+?)\. ", _section("Commands"), flags=re.S)
    assert readme, "README no longer lists the exit codes"
    doc = (REPO / "docs" / "interfaces.md").read_text(encoding="utf-8")
    table = doc.split("<!-- table: exit-codes -->", 1)[1].split("\n\n", 1)[0]
    documented = set(re.findall(r"^\| (\d+) \|", table, flags=re.M))
    assert set(re.findall(r"(?<![\w-])(\d+) ", readme.group(1))) == documented


def test_the_moving_on_rule_quotes_the_code() -> None:
    bullets = _section("How the interview works").split("\n- ")
    rule = " ".join(next(b for b in bullets if b.startswith("**Moving on**")).split())
    max_followups = next(f.default for f in dataclasses.fields(InterviewContext) if f.name == "max_followups")
    assert (
        "`agent.policy.EXIT_COVERAGE`" in rule and f"{EXIT_COVERAGE:.0%} of the phase's rubric weight" in rule
    )
    assert f"{max_followups} follow-ups were asked" in rule and "`InterviewContext.max_followups`" in rule
