"""Committed transcripts and saved reports name no path of the machine they were recorded on."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from agent.report import report_with_titles
from agent.report_model import Report

REPO = Path(__file__).resolve().parents[2]
ABSOLUTE = re.compile(r'"(/(?:home|work|tmp|root|Users|var|opt)/[^"]*)"|"[A-Za-z]:\\\\')


def test_no_committed_transcript_holds_an_absolute_path() -> None:
    found = {
        p.parent.name: m.group(0)
        for p in sorted((REPO / "evals" / "dataset").glob("*/transcript.jsonl"))
        if (m := ABSOLUTE.search(p.read_text(encoding="utf-8")))
    }
    assert not found, found


def _stored(study: list[dict[str, Any]]) -> Report:
    """A report with no phases and these study notes, as a transcript's report line holds it."""
    return Report.model_validate(
        {
            "score": None,
            "verdict": "incomplete",
            "level": "senior",
            "phases": [],
            "strengths": [],
            "gaps": [],
            "missed_topics": [],
            "study": study,
            "topics_covered": [],
            "backend": "offline",
            "engines": [],
            "usage": {},
        }
    )


def test_study_notes_are_stored_relative_and_resolved_when_shown(kb: Any) -> None:
    topic = sorted(kb.topics)[0]
    note = {"topic": topic, "title": "t", "summary": "s"}
    stored = _stored([{**note, "source": kb.topics[topic].source}])
    shown = report_with_titles(stored, kb, sorted(kb.problems)[0])
    path = Path(shown.study[0].note or "")
    assert path.is_absolute() and path.is_file() and path == kb.topics[topic].path.resolve()
    # A report saved before sources were stored carries the note's absolute path instead.
    old = _stored([{**note, "note": str(kb.topics[topic].path)}])
    assert Path(report_with_titles(old, kb, sorted(kb.problems)[0]).study[0].note or "").is_file()
