"""Past and unfinished sessions, read from their transcripts under `MLSD_HOME/sessions`."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent.errors import UsageError
from agent.report_model import Report
from agent.transcript import SESSIONS_DIR, lock_path, read_transcript, transcript_path

#: A finished session shorter than this (interview clock) was abandoned, not practised: it stays
#: out of the trends, like a scripted run.
MIN_TREND_MINUTES = 5.0


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
    scripted: bool = False  # run by `mlsd interview --answers`, not practised by a person
    minutes: float = 0.0  # interview clock over all phases, from the report

    @property
    def in_trends(self) -> bool:
        """True for a session practised by a person, finished, assessed and not abandoned at once.

        docs/interfaces.md: a session that is not assessed takes no part in progress trends.
        """
        return (
            self.finished
            and self.score is not None
            and not self.scripted
            and not self.damaged
            and self.minutes >= MIN_TREND_MINUTES
        )


@dataclass(frozen=True)
class PastSession:
    """One session as read back from its transcript: the summary, the conversation, the report."""

    summary: SessionSummary
    turns: list[dict[str, Any]]
    report: Report | None
    grades: list[dict[str, Any]] = field(default_factory=list)  # per answer, as the session graded


def _damaged(path: Path, reason: str) -> SessionSummary:
    return SessionSummary(
        session_id=path.stem,
        problem="?",
        started=datetime.fromtimestamp(path.stat().st_mtime),
        engine="?",
        level="?",
        length=0,
        finished=False,
        damaged=reason,
    )


def _summary(path: Path, events: list[dict[str, Any]]) -> SessionSummary:
    header: dict[str, Any] = next((e for e in events if e["event"] == "session"), {})
    line = next((e for e in reversed(events) if e["event"] == "report"), None)
    try:
        report = None if line is None else Report.from_event(line)
    except ValidationError as exc:  # listed as damaged, like any line that cannot be read
        return _damaged(path, f"{path}: the report line cannot be read ({_first_error(exc)})")
    phases = report.phases if report else []
    return SessionSummary(
        session_id=header.get("session_id", path.stem),
        problem=header.get("problem", "?"),
        started=datetime.fromtimestamp(header.get("time", path.stat().st_mtime)),
        engine=header.get("engine", "?"),
        level=header.get("level", "senior"),
        length=int(header.get("length", 45)),
        finished=report is not None,
        score=report.score if report else None,
        verdict=report.verdict if report else None,
        phase_scores={p.phase: p.score for p in phases if p.score is not None},
        turns=sum(1 for e in events if e["event"] == "turn"),
        damaged=None if header else f"{path}: no session header",
        scripted=bool(header.get("scripted", False)),
        minutes=sum(p.minutes for p in phases),
    )


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else str(error["msg"])


def _read(path: Path) -> tuple[SessionSummary, list[dict[str, Any]]]:
    try:
        events = read_transcript(path)
    except UsageError as exc:
        return _damaged(path, str(exc)), []
    return _summary(path, events), events


def list_sessions(home: Path) -> list[SessionSummary]:
    """Every session under `home`, newest first; a damaged transcript is listed as damaged, not dropped."""
    folder = home / SESSIONS_DIR
    if not folder.is_dir():
        return []
    summaries = [_read(p)[0] for p in folder.glob("*.jsonl")]
    return sorted(summaries, key=lambda s: s.started, reverse=True)


def read_session(home: Path, session_id: str) -> PastSession:
    """A session's conversation and report, from its transcript (nothing is locked or written)."""
    path = transcript_path(home, session_id)
    if not path.is_file():
        raise UsageError(f"no session {session_id!r} under {home}")
    summary, events = _read(path)
    if summary.damaged:
        raise UsageError(summary.damaged)
    # Turns by index: after a crash the transcript may repeat a turn it had already written.
    turns = {e["index"]: e for e in events if e["event"] == "turn" and "index" in e}
    line = next((e for e in reversed(events) if e["event"] == "report"), None)
    report = None if line is None else Report.from_event(line)  # _read checked that it reads
    # Per-answer grades by the turn they graded (repeats after a crash carry the same grade).
    grades = {e["turn"]: e for e in events if e["event"] == "grade" and e.get("turn", -1) >= 0}
    ordered = [turns[i] for i in sorted(turns)]
    return PastSession(summary, ordered, report, [grades[t] for t in sorted(grades)])


def delete_session(home: Path, session_id: str) -> None:
    """Delete a session for good: its checkpoints, transcript and unsent draft (exported reports stay).

    Refused (UsageError) while another window has the session open.
    """
    from agent.drafts import draft_path
    from agent.session import CHECKPOINTS, open_checkpointer
    from agent.session_lock import SessionLock

    lock = SessionLock(lock_path(home, session_id), session_id)  # nobody may open it meanwhile
    try:
        if (home / CHECKPOINTS).is_file():
            import sqlite3

            # A damaged checkpoint file is set aside on the next interview; the transcript is what
            # the history lists, and it goes below all the same.
            with contextlib.suppress(sqlite3.DatabaseError):
                checkpointer = open_checkpointer(home)
                try:
                    checkpointer.delete_thread(session_id)
                finally:
                    checkpointer.conn.close()
        for path in (transcript_path(home, session_id), draft_path(home, session_id)):
            path.unlink(missing_ok=True)
    finally:
        lock.release()
    lock_path(home, session_id).unlink(missing_ok=True)
