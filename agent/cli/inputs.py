"""Reading the user's files: answers and answer scripts, with one-line errors for every bad input."""

from __future__ import annotations

import sys
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from agent.errors import UsageError
from agent.ids import PHASES, WRAP_UP

#: An answer longer than this is refused (a 45-minute interview answer is rarely over 2,000 words).
MAX_ANSWER_CHARS = 20_000
_MAX_FILE_BYTES = 4 * 1024 * 1024


def _read_bytes(name: str) -> tuple[bytes, str]:
    if name == "-":
        return sys.stdin.buffer.read(_MAX_FILE_BYTES + 1), "standard input"
    path = Path(name)
    if not path.exists():
        raise UsageError(f"{name}: no such file")
    if path.is_dir():
        raise UsageError(f"{name}: is a folder, not a file")
    try:
        with path.open("rb") as handle:
            return handle.read(_MAX_FILE_BYTES + 1), name
    except OSError as exc:
        raise UsageError(f"{name}: cannot read ({exc.strerror})") from None


def _decode(data: bytes, where: str) -> str:
    if len(data) > _MAX_FILE_BYTES:
        raise UsageError(f"{where}: file too large (limit {_MAX_FILE_BYTES // (1024 * 1024)} MB)")
    if b"\x00" in data:
        raise UsageError(f"{where}: binary data, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{where}: not valid UTF-8 text (byte {exc.start})") from None


def check_answer(text: str, where: str) -> str:
    """An answer must have words and stay within the length limit."""
    if not text.strip():
        raise UsageError(f"{where}: the answer is empty")
    if len(text) > MAX_ANSWER_CHARS:
        raise UsageError(
            f"{where}: the answer is too long ({len(text):,} characters; the limit is {MAX_ANSWER_CHARS:,})"
        )
    return text


def read_answer(name: str) -> str:
    """The text of an answer file (`-` for standard input)."""
    data, where = _read_bytes(name)
    return check_answer(_decode(data, where), where)


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice (plain YAML keeps the last, dropping answers)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """The mapping, or a YAML error naming the repeated key and both lines."""
        first: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                continue  # the safe loader refuses it below, with its own message
            line = key_node.start_mark.line + 1
            if key in first:
                raise yaml.constructor.ConstructorError(
                    problem=f"{key!r} appears twice (lines {first[key]} and {line}): "
                    "put all its answers in one list",
                    problem_mark=key_node.start_mark,
                )
            first[key] = line
        return super().construct_mapping(node, deep=deep)


def read_answer_script(name: str) -> dict[str, list[str]]:
    """A YAML answer script: phase ids (and optionally wrap_up) mapped to the candidate's answers in order."""
    data, where = _read_bytes(name)
    text = _decode(data, where)
    try:
        loaded: Any = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader: builds plain data only
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise UsageError(f"{where}: invalid YAML{at}: {getattr(exc, 'problem', None) or exc}") from None
    except RecursionError:
        raise UsageError(
            f"answers file {where} is nested too deeply: it maps phase ids to lists of answers"
        ) from None
    if not isinstance(loaded, dict) or not loaded:
        raise UsageError(f"{where}: expected a mapping of phase ids to lists of answers")
    script: dict[str, list[str]] = {}
    for phase, answers in loaded.items():
        if phase not in (*PHASES, WRAP_UP):
            raise UsageError(
                f"{where}: unknown phase {phase!r} (expected one of: {', '.join((*PHASES, WRAP_UP))})"
            )
        if isinstance(answers, str):
            answers = [answers]
        if not isinstance(answers, list):
            raise UsageError(f"{where}: {phase}: expected a list of answers")
        for i, answer in enumerate(answers):
            if not isinstance(answer, str):
                raise UsageError(f"{where}: {phase}.{i}: an answer must be text, not {type(answer).__name__}")
            check_answer(answer, f"{where}: {phase}.{i}")
        script[phase] = answers
    return script
