"""Running an interview: build the context, drive the graph, checkpoint it and write the transcript.

Used the same way by `mlsd interview`, the terminal app and the eval runner.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from agent import __version__
from agent.config import Settings
from agent.content.loader import KnowledgeBase
from agent.content.schemas import ProblemNote
from agent.context import InterviewContext
from agent.crashpoint import kill_point
from agent.discuss import NoteHit
from agent.engines.base import Engine
from agent.engines.offline import OfflineEngine
from agent.errors import UsageError
from agent.followups import FollowUpSelector, TopicMatcher
from agent.grading.offline import GradingReference, OfflineGrader
from agent.ids import LEVELS, PHASES, WRAP_UP, Length, Level, is_length, is_level
from agent.report_model import Report
from agent.search.embedding import Embedder
from agent.search.index import KnowledgeIndex, Progress
from agent.search.service import embedding_cache, index_later, load_kb, ready_index
from agent.session_lock import SessionLock
from agent.snapshot import CriterionCoverage, Feedback, SessionState, rubric_coverage
from agent.state import InterviewInput, InterviewState, Turn
from agent.transcript import TranscriptWriter, lock_path, read_transcript, transcript_path

CHECKPOINTS = "checkpoints.sqlite"
OnToken = Callable[[str], None]


@dataclass(frozen=True)
class Toolkit:
    """The parts every engine shares: content, index, embedding model and offline grader."""

    settings: Settings
    kb: KnowledgeBase
    index: KnowledgeIndex
    embedder: Embedder
    grader: OfflineGrader

    def finish_loading(self, progress: Progress | None = None) -> bool:
        """Build the index and load the embedding model in threads, if they are still to do; True
        when an index build started (`progress` then hears of it from the build's thread)."""
        started = self.index.start_preparing(progress)
        threading.Thread(target=self.embedder.warm, name="embedder-warm").start()
        return started


def load_toolkit(
    settings: Settings,
    embedder: Embedder | None = None,
    *,
    later: bool = False,
    kb: KnowledgeBase | None = None,
) -> Toolkit:
    """Load the content (unless `kb` is that content, already loaded) and make sure its index is built.

    With `later` (the app) the index build and the model load are left for
    :meth:`Toolkit.finish_loading` or their first use, so the opening question comes first.
    """
    kb = kb if kb is not None else load_kb(settings)
    settings.ensure_home()  # before the embedding cache is created in it
    embedder = embedder or Embedder(disk_cache=embedding_cache(settings))
    if later:
        index = index_later(settings, kb, embedder)
    else:
        index, _ = ready_index(settings, kb, embedder=embedder)
    grader = OfflineGrader(embedder, reference=GradingReference.from_kb(kb))
    return Toolkit(settings, kb, index, embedder, grader)


def build_context(
    toolkit: Toolkit,
    engine: Engine | None = None,
    *,
    auto_advance: bool = True,
    like: InterviewContext | None = None,
) -> InterviewContext:
    """The graph's run-time context for one engine; `like` shares another context's retrieval tools
    (their vectors are loaded once), as the eval runner does across cases."""
    return InterviewContext(
        kb=toolkit.kb,
        engine=engine or OfflineEngine(toolkit.grader),
        grader=toolkit.grader,
        selector=like.selector if like else FollowUpSelector(toolkit.index, toolkit.kb),
        topics=like.topics if like else TopicMatcher(toolkit.index, toolkit.kb),
        auto_advance=auto_advance,
    )


def open_checkpointer(home: Path) -> Any:
    """LangGraph's SQLite checkpointer under MLSD_HOME, in WAL mode so a crash loses no committed step.

    Call :func:`set_aside_damaged_checkpoints` first to turn a damaged file into a notice.
    """
    from langgraph.checkpoint.sqlite import SqliteSaver

    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = home / CHECKPOINTS
    connection = sqlite3.connect(str(path), check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    path.chmod(0o600)
    return SqliteSaver(connection)


def set_aside_damaged_checkpoints(home: Path) -> str | None:
    """If the checkpoint file is not a readable SQLite database, move it aside and say so.

    The sessions it held can no longer be resumed, but their transcripts are untouched and stay in
    the history; the file is kept (renamed) for anyone who wants to recover it by hand.
    """
    path = home / CHECKPOINTS
    if not path.is_file():
        return None
    # SQLite says only "unable to open database file"; Python's own open names the file and why.
    path.open("r+b").close()
    try:
        # Read-write, as the checkpointer opens it: a read-only open fails on a healthy database
        # whose write-ahead log a killed process left behind, which is no damage at all.
        db = sqlite3.connect(str(path))
        try:
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            db.close()
        return None
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorname", "") not in ("SQLITE_NOTADB", "SQLITE_CORRUPT"):
            raise  # busy, locked, unreadable: not damage, and not ours to hide
        from agent.damaged import set_aside

        aside = set_aside(path, companions=("-wal", "-shm"))
        return (
            f"the checkpoint file {path} was damaged ({exc}) and was moved to {aside.name}; sessions "
            "started before now cannot be resumed, but their transcripts are kept and listed in the history"
        )


class Interview:
    """One interview session: a thread in the checkpointer and a transcript file."""

    def __init__(
        self,
        context: InterviewContext,
        home: Path,
        session_id: str,
        checkpointer: Any = None,
        durable: bool = True,
    ) -> None:
        from agent.graph import compile_graph

        self.context = context
        self.home = home
        self.session_id = session_id
        # Before anything is read or written: a second process on the same session would interleave
        # turns and lose answers. Throwaway replays (not durable) have their own homes.
        self._lock = SessionLock(lock_path(home, session_id), session_id) if durable else None
        #: Something the user should be told about (a damaged checkpoint file set aside), or None.
        self.notice = None if checkpointer is not None else set_aside_damaged_checkpoints(home)
        self.checkpointer = checkpointer or open_checkpointer(home)
        self.graph = compile_graph(self.checkpointer)
        self.config: dict[str, Any] = {"configurable": {"thread_id": session_id}}
        self._values: dict[str, Any] | None = None  # the state, cached until the graph runs again
        # Durable: every step is checkpointed and every transcript line synced. Off only for
        # throwaway replays (the eval suite), where the graph checkpoints when it pauses.
        self.durable = durable
        self.transcript = TranscriptWriter(transcript_path(home, session_id), durable=durable)
        # What the transcript already holds: after a crash between a checkpoint and its transcript
        # line, the next write catches up, so the transcript never misses a checkpointed turn.
        self.transcript.repair()
        events = read_transcript(self.transcript.path) if self.transcript.path.is_file() else []
        indexes = [e.get("index", -1) for e in events if e["event"] == "turn"]
        self._written_turns = 1 + max(indexes, default=-1)
        self._written_grades = sum(1 for e in events if e["event"] == "grade")
        self._written_phases = {e["phase"] for e in events if e["event"] == "phase"}
        self._report_written = any(e["event"] == "report" for e in events)
        # A header and nothing else: a kill came before the first checkpoint (see `resume`).
        self._lone_header = events[0] if [e["event"] for e in events] == ["session"] else None

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def create(
        cls,
        context: InterviewContext,
        home: Path,
        *,
        problem: str,
        level: str = "senior",
        length: int = 45,
        session_id: str | None = None,
        model: str | None = None,
        checkpointer: Any = None,
        on_token: OnToken | None = None,
        durable: bool = True,
        scripted: bool = False,
    ) -> Interview:
        """Start a new interview: write the transcript header and ask the first question.

        `scripted` marks a run from an answers file, which the history keeps out of the trends.
        """
        if problem not in context.kb.problems:
            raise UsageError(
                f"unknown problem {problem!r} (expected one of: {', '.join(sorted(context.kb.problems))})"
            )
        if not is_level(level):
            raise UsageError(f"unknown level {level!r} (expected one of: {', '.join(LEVELS)})")
        if not is_length(length):
            raise UsageError(f"interview length must be 45 or 60 minutes, not {length}")
        session_id = session_id or new_session_id(problem)
        interview = cls(context, home, session_id, checkpointer, durable)
        if interview.values() or interview.transcript_path.is_file():
            raise UsageError(f"session {session_id!r} already exists; resume it instead")
        interview.transcript.start(
            "session",
            session_id=session_id,
            problem=problem,
            level=level,
            length=length,
            engine=context.engine.name,
            model=model,
            prompt_versions=context.engine.prompt_versions,
            mlsd_version=__version__,
            knowledge_dir=str(context.kb.knowledge_dir),
            rubrics_dir=str(context.kb.rubrics_dir),
            scripted=scripted,
        )
        kill_point("header")
        interview._begin(problem, level, length, on_token)
        return interview

    def _begin(self, problem: str, level: Level, length: Length, on_token: OnToken | None) -> None:
        """Run the graph's first step: the opening question, and the session's first checkpoint."""
        start: InterviewInput = {
            "session_id": self.session_id,
            "problem": problem,
            "level": level,
            "length": length,
        }
        self._run(start, on_token)

    @classmethod
    def resume(
        cls, context: InterviewContext, home: Path, session_id: str, checkpointer: Any = None
    ) -> Interview:
        """Reopen an interview from its checkpoints."""
        interview = cls(context, home, session_id, checkpointer)
        header = interview._lone_header
        if header is not None and not interview.values():
            # Killed between the header and the first checkpoint: nothing was asked yet, so the
            # session starts again from its header rather than being lost.
            interview.transcript.write("resumed", engine=context.engine.name)
            interview._begin(header["problem"], header["level"], header["length"], None)
            return interview
        if not interview.values():
            if interview.transcript_path.is_file():
                raise UsageError(
                    f"session {session_id!r} has a transcript ({interview.transcript_path}) but no "
                    "checkpoints (the checkpoint file was lost or damaged), so it cannot be resumed; "
                    "start a new interview"
                )
            raise UsageError(f"no session {session_id!r} under {home}")
        if not interview.finished:  # reopening a finished session only reads it
            interview.transcript.write("resumed", engine=context.engine.name)
            interview._settle()
        # Finished or not, the transcript catches up with the checkpoints: a kill between the last
        # checkpoint and its transcript line must not lose the report for good.
        interview._write_new_events()
        return interview

    def close(self) -> None:
        """Release the session for another process (the OS does it anyway when this one exits)."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _settle(self) -> None:
        """Finish a step a crash interrupted, so the graph waits for the candidate again.

        Without this, the next input would be spent resuming the pending step and silently lost.
        """
        snapshot = self.graph.get_state(self.config)
        # A task with a result already ran: a crash after it took the candidate's input but before
        # the step was checkpointed leaves it waiting with its input saved. A new input would be
        # dropped in favour of the saved one, so the graph must move past it first.
        # Such a task can even leave `next` empty, so the tasks are what is checked.
        if any(not task.interrupts or task.result is not None for task in snapshot.tasks):
            self._run(None, None)

    # ------------------------------------------------------------------ turns

    def send(
        self, text: str = "", *, action: str = "answer", seconds: float = 0.0, on_token: OnToken | None = None
    ) -> list[Turn]:
        """The candidate's input: an answer, a hint request, a skip or the end. Returns the new turns."""
        if self.finished:
            raise UsageError(f"session {self.session_id!r} is already finished")
        from langgraph.types import Command

        before = len(self.values()["turns"])
        self._run(Command(resume={"action": action, "text": text, "seconds": seconds}), on_token)
        turns: list[Turn] = self.values()["turns"][before:]
        return turns

    def _run(self, payload: Any, on_token: OnToken | None) -> None:
        self._values = None
        for mode, chunk in self.graph.stream(
            payload,
            self.config,
            context=self.context,
            stream_mode=["custom", "updates"],
            durability="sync" if self.durable else "exit",
        ):
            if mode == "custom" and on_token is not None and isinstance(chunk, dict) and "token" in chunk:
                on_token(chunk["token"])
            elif mode == "updates":
                self._values = None
                if _writes_events(chunk):  # each turn reaches the transcript as soon as it is taken
                    self._write_new_events()
        self._values = None
        self._write_new_events()

    def _write_new_events(self) -> None:
        values = self.values()
        turns = values.get("turns", [])
        for index in range(self._written_turns, len(turns)):
            self.transcript.write("turn", index=index, **turns[index])
        self._written_turns = len(turns)
        grades = values.get("grades", [])
        for grade in grades[self._written_grades :]:
            self.transcript.write("grade", **grade)
        self._written_grades = len(grades)
        for phase, result in values.get("phase_results", {}).items():
            if phase not in self._written_phases:
                self.transcript.write("phase", **result)
                self._written_phases.add(phase)
        report = values.get("report")
        if report is not None and not self._report_written:
            kill_point("final-checkpoint")  # the report is checkpointed: values() read it from there
            self.transcript.write("report", **report)
            self._report_written = True

    def play(self, script: dict[str, list[str]], seconds: Callable[[str], float] | None = None) -> None:
        """Answer from a script (phase -> answers in order) until the end; a phase with no answer
        left is moved on from, as docs/interfaces.md describes `mlsd interview --answers`."""
        timing = seconds or scripted_seconds
        # A resumed session goes on from where its script stood: answers already given are skipped.
        used: dict[str, int] = {}
        for turn in self.values().get("turns", []):
            if turn["role"] == "candidate" and turn["kind"] == "answer":
                used[turn["phase"]] = used.get(turn["phase"], 0) + 1
        while not self.finished:
            phase = self.values()["phase"]
            answers = script.get(phase, [])
            n = used.get(phase, 0)
            if n < len(answers):
                used[phase] = n + 1
                self.send(answers[n], seconds=timing(answers[n]))
            else:
                self.send(action="end" if phase == WRAP_UP else "skip")

    # ------------------------------------------------------------------ reading

    def values(self) -> dict[str, Any]:
        """The interview's current state (read from the checkpointer once per change)."""
        if self._values is None:
            snapshot = self.graph.get_state(self.config)
            self._values = dict(snapshot.values) if snapshot and snapshot.values else {}
        return dict(self._values)

    # ------------------------------------------------------------------ the app's view (agent.snapshot)

    def state(self) -> SessionState:
        """Where the interview stands: problem, phase, clocks, the conversation and whether it is over."""
        values = self.values()
        if not values:  # create and resume always checkpoint (or refuse) first
            raise UsageError(f"session {self.session_id!r} has not started")
        return SessionState(
            session_id=self.session_id,
            problem=values["problem"],
            level=values["level"],
            length=values["length"],
            phase=values["phase"],
            clock_s=values["clock_s"],
            phase_started_s=values["phase_started_s"],
            turns=tuple(values["turns"]),
            finished=values.get("report") is not None,
        )

    def problem_note(self) -> ProblemNote:
        """The problem's note: its title and statement (F4), its facts and practice."""
        return self.context.kb.problem_note(self.values()["problem"])

    def coverage(self) -> dict[str, CriterionCoverage]:
        """The current phase's rubric: criterion id -> title and grade so far (what the side panel shows);
        {} outside the seven phases."""
        from agent.nodes.grading import coverage

        values = self.values()
        problem, phase = values["problem"], values["phase"]
        seen = coverage(self.context, cast(InterviewState, values)) if phase in PHASES else {}
        return rubric_coverage(self.context.kb, problem, phase, seen)

    def learned_facts(self) -> list[str]:
        """The problem's facts the interviewer has given the candidate so far, each once (F4 lists them)."""
        from agent.clarifications import learned_facts

        return learned_facts(self.values().get("turns", []))

    def search_notes(self, query: str, k: int = 3) -> list[NoteHit]:
        """The passages of this problem's and the topic notes nearest in meaning to `query` (embeds it:
        call from a worker)."""
        hits = self.context.selector.index.search(
            query, k=k, problem=self.values()["problem"], kinds=["topic", "problem"]
        )
        return [NoteHit(hit.text, hit.source) for hit in hits]

    def feedback(self) -> Feedback:
        """The finished interview's report, titled, with its study guide and its Markdown."""
        from agent.export import report_markdown
        from agent.report import report_with_titles
        from agent.study import study_guide

        stored = self.report
        if stored is None:
            raise UsageError(f"session {self.session_id!r} has no report yet")
        values, kb = self.values(), self.context.kb
        problem = values["problem"]
        report = report_with_titles(stored, kb, problem)
        title = kb.problem_note(problem).title
        study = study_guide(kb, problem, report, values["turns"], values["grades"])
        markdown = report_markdown(report, problem_title=title, session_id=self.session_id, study=study)
        return Feedback(report=report, problem_title=title, study=study, markdown=markdown)

    def discuss(self, question: str, feedback: Feedback) -> str:
        """Markdown answering a question about the feedback from its grades and the notes (searches them:
        call from a worker)."""
        from agent.discuss import discuss

        return discuss(
            question, feedback.report, self.context.kb, self.values()["problem"], self.search_notes
        )

    @property
    def engine_name(self) -> str:
        """The engine writing the interviewer's turns now (offline or openai:<model>)."""
        return self.context.engine.name

    def uses_llm(self) -> bool:
        """True while an LLM engine writes the turns (the app then offers to go on offline)."""
        from agent.engines.registry import OFFLINE

        return self.engine_name != OFFLINE

    def go_offline(self, reason: str) -> str:
        """Switch the rest of the interview to the offline engine and record why; returns its name.

        Earlier grades keep the engine that gave them: every grade and turn is labelled with its engine.
        """
        from dataclasses import replace

        offline = OfflineEngine(self.context.grader)
        self.context = replace(self.context, engine=offline)
        self.transcript.write("engine_changed", engine=offline.name, reason=reason)
        return offline.name

    @property
    def finished(self) -> bool:
        """True once the report exists."""
        return self.values().get("report") is not None

    @property
    def report(self) -> Report | None:
        """The final report, once the interview is over (read from its checkpointed JSON)."""
        report = self.values().get("report")
        return None if report is None else Report.model_validate(report)

    @property
    def transcript_path(self) -> Path:
        """The session's transcript file."""
        return self.transcript.path


_EVENT_KEYS = frozenset({"turns", "grades", "phase_results", "report"})


def _writes_events(chunk: Any) -> bool:
    """True if a graph update touches what the transcript records."""
    if not isinstance(chunk, dict):
        return True
    return any(isinstance(update, dict) and _EVENT_KEYS & update.keys() for update in chunk.values())


def scripted_seconds(text: str) -> float:
    """Simulated time for a scripted answer: 30 s to think plus ~150 words a minute."""
    from agent.grading.sentences import word_count

    return 30.0 + 0.4 * word_count(text)


def new_session_id(problem: str) -> str:
    """A fresh session id: when, which problem, and six random hex digits."""
    import time

    return f"{time.strftime('%Y%m%d-%H%M%S')}-{problem.split('_')[0]}-{uuid.uuid4().hex[:6]}"
