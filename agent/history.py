"""Past and unfinished sessions, read from their transcripts under `MLSD_HOME/sessions`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from agent.errors import UsageError
from agent.transcript import SESSIONS_DIR, read_transcript


@dataclass(frozen=True)
class SessionSummary:
    """What a list of sessions shows about one."""

    session_id: str
    problem: str
    started: datetime
    engine: str
    level: str
    length: int
    finished: bool
    score: float | None = None
    verdict: str | None = None
    phase_scores: dict[str, float] = field(default_factory=dict)  # assessed phases only
    turns: int = 0
    damaged: str | None = None  # why the transcript could not be read, if it could not


def _summary(path: Path) -> SessionSummary:
    try:
        events = read_transcript(path)
    except UsageError as exc:
        return SessionSummary(
            session_id=path.stem,
            problem="?",
            started=datetime.fromtimestamp(path.stat().st_mtime),
            engine="?",
            level="?",
            length=0,
            finished=False,
            damaged=str(exc),
        )
    header: dict[str, Any] = next((e for e in events if e["event"] == "session"), {})
    report: dict[str, Any] | None = next((e for e in reversed(events) if e["event"] == "report"), None)
    return SessionSummary(
        session_id=header.get("session_id", path.stem),
        problem=header.get("problem", "?"),
        started=datetime.fromtimestamp(header.get("time", path.stat().st_mtime)),
        engine=header.get("engine", "?"),
        level=header.get("level", "senior"),
        length=int(header.get("length", 45)),
        finished=report is not None,
        score=report.get("score") if report else None,
        verdict=report.get("verdict") if report else None,
        phase_scores={
            p["phase"]: p["score"] for p in (report or {}).get("phases", []) if p.get("score") is not None
        },
        turns=sum(1 for e in events if e["event"] == "turn"),
        damaged=None if header else f"{path}: no session header",
    )


def list_sessions(home: Path) -> list[SessionSummary]:
    """Every session under `home`, newest first; a damaged transcript is listed as damaged, not dropped."""
    folder = home / SESSIONS_DIR
    if not folder.is_dir():
        return []
    summaries = [_summary(p) for p in folder.glob("*.jsonl")]
    return sorted(summaries, key=lambda s: s.started, reverse=True)
