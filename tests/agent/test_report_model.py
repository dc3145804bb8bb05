"""The report models: every report ever committed reads back and is written as it was read, older
shapes (no assessed counts, study notes by absolute path) still load, and a garbled one is damaged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from agent.export import report_markdown
from agent.grading.models import CriterionGrade
from agent.history import list_sessions, read_session
from agent.report import report_with_titles
from agent.report_model import CriterionView, Report, to_json
from agent.transcript import SESSIONS_DIR

REPO = Path(__file__).resolve().parents[2]
TRANSCRIPTS = sorted((REPO / "evals" / "dataset").glob("*/transcript.jsonl"))


def _report_line(path: Path) -> dict[str, Any]:
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    line: dict[str, Any] = next(e for e in reversed(lines) if e["event"] == "report")
    return line


def _old(path: Path) -> bool:
    return "assessed_phases" not in _report_line(path)


def test_every_committed_report_is_written_back_as_it_was_read() -> None:
    assert TRANSCRIPTS
    for path in TRANSCRIPTS:
        line = _report_line(path)
        fields = {k: v for k, v in line.items() if k not in ("event", "time")}
        report = Report.from_event(line)
        written = to_json(report)
        if _old(path):  # derived from the scores on reading; the rest is as saved
            assert written.pop("assessed_phases") == sum(p.assessed for p in report.phases)
            for phase in written["phases"]:  # type: ignore[attr-defined]
                assert phase.pop("assessed") == (phase["score"] is not None)
        assert json.dumps(written) == json.dumps(fields), path


def test_a_report_from_before_phases_could_go_unassessed_is_listed_and_shown(tmp_path: Path, kb: Any) -> None:
    source = next(p for p in TRANSCRIPTS if _old(p))
    folder = tmp_path / SESSIONS_DIR
    folder.mkdir()
    (folder / "old.jsonl").write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    (summary,) = list_sessions(tmp_path)
    assert summary.finished and not summary.damaged and summary.score is not None
    past = read_session(tmp_path, "old")
    assert past.report is not None
    assert past.report.assessed_phases == sum(p.score is not None for p in past.report.phases) >= 1
    shown = report_with_titles(past.report, kb, summary.problem)
    assert "## Per criterion" in report_markdown(shown, problem_title="t", session_id="old")


def test_a_study_note_saved_by_its_absolute_path_still_loads() -> None:
    line = {
        **_report_line(TRANSCRIPTS[0]),
        "study": [{"topic": "x", "title": "t", "summary": "s", "note": "/n"}],
    }
    (note,) = Report.from_event(line).study
    assert note.source is None and note.note == "/n"
    assert to_json(note) == {"topic": "x", "title": "t", "summary": "s", "note": "/n"}


def test_a_garbled_report_line_is_listed_as_damaged(tmp_path: Path) -> None:
    lines = TRANSCRIPTS[0].read_text(encoding="utf-8").splitlines()
    report = json.loads(lines[-1])
    assert report["event"] == "report"
    report["phases"] = "seven"
    folder = tmp_path / SESSIONS_DIR
    folder.mkdir()
    (folder / "bad.jsonl").write_text("\n".join([*lines[:-1], json.dumps(report)]) + "\n", encoding="utf-8")
    (summary,) = list_sessions(tmp_path)
    assert summary.damaged and "report line" in summary.damaged
    with pytest.raises(ValidationError):
        Report.from_event(report)


def test_a_shown_criterion_has_a_title_and_weight_only_when_the_rubric_gives_them() -> None:
    grade = CriterionGrade(id="c", score=None, rationale="Insufficient evidence.")
    assert to_json(CriterionView.of(grade)) == {
        "id": "c",
        "score": 1.0,
        "evidence": [],
        "rationale": "Insufficient evidence.",
        "insufficient_evidence": True,
    }
    titled = to_json(CriterionView.of(grade.model_copy(update={"score": 3.0}), "C", 0.123456))
    assert titled["title"] == "C" and titled["weight"] == 0.1235 and titled["insufficient_evidence"] is False
