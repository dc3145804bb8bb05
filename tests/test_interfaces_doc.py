"""docs/interfaces.md says what the code does: its ids, scales, commands, exit codes, environment
variables, turn and event kinds, and the keys and types of every JSON document the commands print.

Each checked list in the doc sits right under a `<!-- name -->` marker; the JSON shapes are checked
against the real output of each command, run in this process on the session's shared home.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, get_args

import pytest

import agent.bench
from agent.cli.eval import REGRESSION
from agent.cli.main import INTERRUPTED, main
from agent.config import Settings
from agent.content.units import UNIT_KINDS
from agent.followups import Reason
from agent.grading.scale import (
    INCOMPLETE,
    LEVEL_SHIFT,
    LOWEST,
    MIN_ASSESSED_PHASES,
    SCORE_NAMES,
    VERDICTS,
    verdict_for,
)
from agent.ids import LEVELS, PHASE_MINUTES, PHASE_TITLES, PHASES, REQUIRED_PROBLEMS, TOPICS
from agent.llm.prompts import load_prompt
from agent.state import CANDIDATE_KINDS, Role

from .cli_commands import commands, common_options, options
from .conftest import REPO

DOC = (REPO / "docs" / "interfaces.md").read_text(encoding="utf-8")
SOURCES = [p for folder in ("agent", "tui", "evals") for p in sorted((REPO / folder).rglob("*.py"))]


# ---------------------------------------------------------------------- reading the doc


def _block(marker: str) -> list[str]:
    """The lines of the table, or of the fenced block's body, right under `<!-- marker -->`."""
    lines = DOC.splitlines()
    assert f"<!-- {marker} -->" in lines, f"docs/interfaces.md has no <!-- {marker} --> marker"
    start = lines.index(f"<!-- {marker} -->") + 1
    if lines[start].startswith("```"):
        end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("```"))
        return lines[start + 1 : end]
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return lines[start:end]


def _cells(line: str) -> list[str]:
    """A table row's cells (a `\\|` inside a cell is not a separator)."""
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def _header(marker: str) -> list[str]:
    return _cells(_block(marker)[0])


def _rows(marker: str) -> list[list[str]]:
    """The body rows of the table under the marker."""
    return [_cells(line) for line in _block(marker)[2:]]


def _code(cell: str) -> str:
    """The text of a cell that is one code span."""
    match = re.fullmatch(r"`([^`]+)`", cell)
    assert match, f"expected one `code` span, not {cell!r}"
    return match.group(1)


def _ids(marker: str) -> list[str]:
    """The first column of the table under the marker, as written in code spans."""
    return [_code(row[0]) for row in _rows(marker)]


def _scan(pattern: str) -> set[str]:
    """Every first group of `pattern` in the source of agent/, tui/ and evals/."""
    return {m for path in SOURCES for m in re.findall(pattern, path.read_text(encoding="utf-8"))}


# ---------------------------------------------------------------------- ids and scales


def test_phases_titles_budgets_and_lengths_are_the_codes() -> None:
    assert _ids("table: phases") == list(PHASES)
    assert {_code(r[0]): r[1] for r in _rows("table: phases")} == PHASE_TITLES
    lengths = [int(cell.split("-")[0]) for cell in _header("table: phases")[2:]]  # "45-minute interview"
    assert lengths == sorted(PHASE_MINUTES)
    for column, length in enumerate(lengths, start=2):
        assert {_code(r[0]): int(r[column]) for r in _rows("table: phases")} == PHASE_MINUTES[length]
    for name, parser in commands().items():
        for action in parser._actions:
            if "--length" in action.option_strings:
                assert sorted(action.choices or ()) == lengths, f"{name} --length"


def test_levels_and_their_bar_shifts_are_the_codes() -> None:
    assert _ids("table: levels") == list(LEVELS)
    assert {_code(r[0]): float(r[1]) for r in _rows("table: levels")} == pytest.approx(LEVEL_SHIFT)


def test_topics_and_required_problems_are_the_codes() -> None:
    assert _block("list: topics") == list(TOPICS)
    assert _block("list: problems") == list(REQUIRED_PROBLEMS)


def test_score_scale_is_the_codes() -> None:
    assert {int(r[0]): r[1] for r in _rows("table: scores")} == SCORE_NAMES


def test_verdicts_start_where_the_doc_says_at_each_level() -> None:
    assert _ids("table: verdicts") == [*VERDICTS, INCOMPLETE]
    assert _header("table: verdicts")[1:] == list(LEVELS)
    every_phase = len(PHASES)
    for rank, row in enumerate(_rows("table: verdicts")[: len(VERDICTS)]):
        for level, cell in zip(LEVELS, row[1:], strict=True):
            lowest = float(cell)
            assert verdict_for(lowest, level, every_phase) == VERDICTS[rank], (level, cell)
            if rank == 0:
                assert lowest == LOWEST
            else:
                assert verdict_for(lowest - 0.01, level, every_phase) == VERDICTS[rank - 1], (level, cell)
    assert _rows("table: verdicts")[-1][1:] == ["-"] * len(LEVELS)
    assert f"fewer than {MIN_ASSESSED_PHASES} assessed phases" in DOC
    assert verdict_for(4.0, "senior", MIN_ASSESSED_PHASES - 1) == INCOMPLETE
    assert verdict_for(4.0, "senior", MIN_ASSESSED_PHASES) != INCOMPLETE


def test_exit_codes_are_the_ones_the_code_returns() -> None:
    # Success, eval's regression, Ctrl+C, and the code of every error class (agent/errors.py and the
    # subclasses elsewhere): the codes main() can return.
    codes = {0, REGRESSION, INTERRUPTED} | {int(c) for c in _scan(r"\bexit_code\s*=\s*(\d+)")}
    assert {int(r[0]) for r in _rows("table: exit-codes")} == codes


def test_environment_variables_are_the_ones_the_code_reads() -> None:
    read = _scan(r"[\"']((?:MLSD|OPENAI)_[A-Z0-9_]+)[\"']")
    assert set(_ids("table: environment")) == read
    flags = {_code(r[1]) for r in _rows("table: environment") if r[1]}
    every_option = set().union(*(options(p) for p in commands().values()))
    assert flags <= every_option


def test_commands_their_json_and_engine_flags_are_the_parsers() -> None:
    rows = {_code(r[0]): r for r in _rows("table: commands")}
    assert set(rows) == set(commands())
    for name, parser in commands().items():
        takes = options(parser)
        json_cell, engine_cell = rows[name][2], rows[name][3]
        assert (json_cell != "-") == ("--json" in takes), f"{name}: --json"
        if json_cell != "-":
            assert _code(json_cell) in _shapes(), f"{name}: no shape {json_cell}"
        assert engine_cell == ("yes" if "--backend" in takes else "no"), f"{name}: --backend"
        assert ("--backend" in takes) == ("--model" in takes), name
    every = re.search(r"Every command also takes (.+?) \(", DOC, flags=re.S)
    assert every, "the doc no longer says which options every command takes"
    assert set(re.findall(r"`([^`]+)`", every.group(1))) == common_options()


def test_value_lists_are_the_codes() -> None:
    assert set(_ids("values: followup-reasons")) == set(get_args(Reason))
    assert set(_ids("values: unit-kinds")) == set(UNIT_KINDS)
    assert set(_ids("values: turn-roles")) == set(get_args(Role))
    # The LLM engine needs an instruction for every kind of interviewer turn.
    assert set(_ids("values: interviewer-turn-kinds")) == set(load_prompt("interviewer").instructions)
    assert set(_ids("values: candidate-turn-kinds")) == set(CANDIDATE_KINDS.values())


def test_transcript_events_are_the_ones_the_code_writes() -> None:
    written = _scan(r"transcript\.(?:start|write)\(\s*\"(\w+)\"")
    assert set(_ids("values: transcript-events")) == written


# ---------------------------------------------------------------------- JSON shapes

Shape = dict[str, tuple[str, bool]]  # key -> (type, optional)


def _shapes() -> dict[str, tuple[Shape, bool]]:
    """Every shape the doc defines: its keys, and whether it is open to other keys."""
    shapes: dict[str, tuple[Shape, bool]] = {}
    for name, open_ in re.findall(r"^<!-- shape: (\w+)( open)? -->$", DOC, flags=re.M):
        keys: Shape = {}
        for row in _rows(f"shape: {name}{open_}"):
            kind = row[1].removesuffix(", optional")
            keys[_code(row[0])] = (kind, kind != row[1])
        shapes[name] = (keys, bool(open_))
    return shapes


class ShapeChecker:
    """Checks JSON values against the doc's types, and remembers which shapes and keys it saw."""

    def __init__(self) -> None:
        self.shapes = _shapes()
        self.problems: list[str] = []
        self.seen: dict[str, set[str]] = {name: set() for name in self.shapes}
        self.instances: dict[str, int] = dict.fromkeys(self.shapes, 0)

    def check(self, value: Any, kind: str, where: str) -> None:
        """Record a problem unless `value` has one of the types in `kind` ("X or Y")."""
        found = [self._problems(value, option.strip(), where) for option in kind.split(" or ")]
        if all(found):
            self.problems += found[0] if len(found) == 1 else [f"{where}: {value!r:.80} is not {kind}"]

    def _problems(self, value: Any, kind: str, where: str) -> list[str]:
        scalars: dict[str, bool] = {
            "null": value is None,
            "string": isinstance(value, str),
            "boolean": isinstance(value, bool),
            "integer": isinstance(value, int) and not isinstance(value, bool),
            "number": isinstance(value, int | float) and not isinstance(value, bool),
            "object": isinstance(value, dict),
        }
        if kind in scalars:
            return [] if scalars[kind] else [f"{where}: {value!r:.80} is not {kind}"]
        if kind.startswith("list of "):
            if not isinstance(value, list):
                return [f"{where}: {value!r:.80} is not a list"]
            for i, item in enumerate(value):
                self.check(item, kind.removeprefix("list of "), f"{where}[{i}]")
            return []
        if kind.startswith("map of "):
            if not isinstance(value, dict):
                return [f"{where}: {value!r:.80} is not an object"]
            for key, item in value.items():
                self.check(item, kind.removeprefix("map of "), f"{where}.{key}")
            return []
        if kind not in self.shapes:
            return [f"{where}: the doc names an unknown type {kind!r}"]
        if not isinstance(value, dict):
            return [f"{where}: {value!r:.80} is not a {kind} object"]
        keys, open_ = self.shapes[kind]
        self.instances[kind] += 1
        self.seen[kind] |= set(value) & set(keys)
        problems = [
            f"{where}: {kind} lacks {key!r}"
            for key, (_, optional) in keys.items()
            if not optional and key not in value
        ]
        if not open_:
            problems += [
                f"{where}: {kind} has {key!r}, which the doc does not list"
                for key in value
                if key not in keys
            ]
        for key, item in value.items():
            if key in keys:
                self.check(item, keys[key][0], f"{where}.{key}")
        return problems


ANSWER = (
    "I'd use a time-based split: train on weeks 1-8 and test on week 9, because a random split leaks "
    "future behaviour. Fraud is 0.1% of transactions, so I'd report precision at 80% recall rather than "
    "accuracy, and weight errors by amount since a missed $5,000 fraud costs more than a declined $5 sale."
)
SCRIPT = REPO / "tests" / "fixtures" / "interviews" / "payment_fraud_detection_weak.yaml"
SESSION = "interfaces-doc"
EVAL_CASE = "payment_fraud_detection_poor"


def _fake_measurement(settings: Settings, home: Path) -> dict[str, Any]:
    """Every budgeted figure, measured as 0 (the real measurements take minutes)."""
    return dict.fromkeys(agent.bench.BUDGETS, 0.0)


def test_json_documents_have_the_documented_keys_and_types(
    bundled_settings: Settings,
    toolkit: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answer = tmp_path / "answer.txt"
    answer.write_text(ANSWER, encoding="utf-8")
    monkeypatch.setattr(agent.bench, "STEPS", {"index": _fake_measurement})
    one_answer = ["--problem", "payment_fraud_detection", "--phase", "evaluation"]
    one_answer += ["--answer-file", str(answer)]
    # One run per command with --json, in order (`eval add` copies the interview's session).
    samples = {
        "mlsd kb build": ["kb", "build"],
        "mlsd kb search": ["kb", "search", "a new user with no history"],
        "mlsd kb check": ["kb", "check"],
        "mlsd grade": ["grade", *one_answer],
        "mlsd followups": ["followups", *one_answer],
        "mlsd interview": [
            "interview",
            "--problem",
            "payment_fraud_detection",
            "--answers",
            str(SCRIPT),
            "--session-id",
            SESSION,
        ],
        "mlsd eval add": ["eval", "add", SESSION, "--dataset", str(tmp_path / "dataset")],
        "mlsd eval": ["eval", "--case", EVAL_CASE],
        "mlsd bench": ["bench"],
    }
    with_json = {name for name, parser in commands().items() if "--json" in options(parser)}
    assert set(samples) == with_json, "every command with --json needs a sample run here"
    shape_of = {_code(r[0]): _code(r[2]) for r in _rows("table: commands") if r[2] != "-"}

    checker = ShapeChecker()
    documents: dict[str, Any] = {}
    for name, argv in samples.items():
        code = main([*argv, "--json", "--home", str(bundled_settings.home)])
        out, err = capsys.readouterr()
        assert code == 0, f"{name}: {err}"
        documents[name] = json.loads(out)
        checker.check(documents[name], shape_of[name], name)
    transcript = Path(documents["mlsd interview"]["transcript_path"])
    header = json.loads(transcript.read_text(encoding="utf-8").splitlines()[0])
    checker.check(header, "transcript_session", "transcript header")

    assert not checker.problems, "\n".join(checker.problems)
    unseen = [name for name, count in checker.instances.items() if not count]
    assert not unseen, f"no sample run produced these shapes (pick samples that do): {unseen}"
    never = {n: sorted(set(checker.shapes[n][0]) - seen) for n, seen in checker.seen.items()}
    assert not any(never.values()), f"documented keys that no sample run produced: {never}"
