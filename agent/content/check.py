"""Validate single content files on their own: `python -m agent.content.check FILE...`.

Useful while writing a note or rubric, before the whole knowledge base is complete.
Cross-file checks (ids that must exist elsewhere) run in the full loader instead.
"""

from __future__ import annotations

import sys
from pathlib import Path

from agent.content.loader import _load_yaml_model, parse_note
from agent.content.schemas import PhaseRubric, ProblemOverlay
from agent.errors import ContentError


def check_file(path: Path) -> str:
    """Validate one note or rubric file by where it lives; return a short description."""
    if path.suffix == ".md":
        note = parse_note(path, path.parent.parent)
        followups = len(note.meta.followups)
        return f"{note.meta.kind} note {note.meta.id!r} ({followups} follow-ups)"
    if path.parent.name == "phases":
        rubric = _load_yaml_model(path, PhaseRubric)
        return f"phase rubric {rubric.phase!r} ({len(rubric.criteria)} criteria)"
    overlay = _load_yaml_model(path, ProblemOverlay)
    return f"problem overlay {overlay.problem!r} ({len(overlay.phases)} phases)"


def main(argv: list[str]) -> int:
    """Check each file named on the command line; exit 2 if any is invalid."""
    status = 0
    for name in argv:
        try:
            print(f"ok: {name}: {check_file(Path(name))}")
        except ContentError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 2
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
