"""The interview: the chat, the answer box and the side panel. The interviewer thinks in a worker."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header, Markdown, ProgressBar, Static

from agent.cli.inputs import MAX_ANSWER_CHARS
from agent.ids import PHASES
from tui.widgets.answer_box import AnswerBox
from tui.widgets.chat import ChatLog, InterviewerMessage
from tui.widgets.phase_panel import PhasePanel


def _offline_opening(kb: Any, problem: str) -> str:
    """The offline engine's first message for a problem, from the notes and templates alone."""
    from agent.engines.base import opening_plan
    from agent.engines.offline import compose_turn, load_templates

    return compose_turn(load_templates(), opening_plan(kb, problem))


class ProblemModal(ModalScreen[None]):
    """The problem statement, shown again on request."""

    BINDINGS = [Binding("escape,f4,enter", "dismiss", "Close")]

    def __init__(self, title: str, prompt: str) -> None:
        super().__init__()
        self._markdown = f"## {title}\n\n{prompt}"

    def compose(self) -> ComposeResult:
        with Vertical(id="problem-modal"):
            yield Markdown(self._markdown)
            yield Static("Press Esc to close.", classes="hint")

    async def action_dismiss(self, result: None = None) -> None:
        """Close the modal."""
        self.dismiss(result)


class InterviewScreen(Screen[None]):
    """One interview, new or resumed."""

    BINDINGS = [
        Binding("f2", "hint", "Hint"),
        Binding("f3", "skip", "Next phase"),
        Binding("f4", "problem", "Problem"),
        Binding("f10", "end", "End interview"),
        Binding("f5", "go_offline", "Continue offline"),
    ]

    def __init__(
        self, *, problem: str | None, session_id: str | None, level: str = "senior", length: int = 45
    ) -> None:
        super().__init__()
        self.problem = problem
        self.session_id = session_id
        self.level = level
        self.length = length
        self.interview: Any = None
        self._streaming: InterviewerMessage | None = None
        self._streamed = ""
        self._asked_at = time.monotonic()
        self._pending = ""
        self._build_started = time.monotonic()

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="interview"):
            with Vertical(id="conversation"):
                yield ChatLog(id="chat")
                with Horizontal(id="preparing"):
                    yield Static("Preparing search over the notes (your answer can go now; the reply waits)")
                    yield ProgressBar(id="preparing-bar", show_eta=True)
                yield AnswerBox(id="answer")
            yield PhasePanel(id="panel")
        yield Footer()

    def on_mount(self) -> None:
        """Load the interviewer and show the first question (or the resumed history)."""
        self.query_one(AnswerBox).placeholder = "Loading the interviewer... (you can start typing)"
        self._set_busy(True)
        self.query_one(AnswerBox).focus()
        self.set_interval(1.0, self._refresh_panel)
        self._open()

    # ------------------------------------------------------------------ workers

    @work(thread=True, exclusive=True, group="interviewer")
    def _open(self) -> None:
        from agent.engines.factory import make_engine
        from agent.errors import MlsdError
        from agent.session import Interview, build_context

        app: Any = self.app
        preview = not self.session_id and app.backend == "offline"
        try:
            if preview:
                # The offline opening is a pure function of the notes: show it while the rest loads.
                opening = _offline_opening(app.knowledge(), self.problem or "")
                self.app.call_from_thread(self._on_token, opening)
            toolkit = app.toolkit()
            engine = make_engine(app.backend, toolkit, model=app.model)
            context = build_context(toolkit, engine, auto_advance=True)
            app.settings.ensure_home()
            if self.session_id:
                self.interview = Interview.resume(context, app.settings.home, self.session_id)
            else:
                self.interview = Interview.create(
                    context,
                    app.settings.home,
                    problem=self.problem or "",
                    level=self.level,
                    length=self.length,
                    model=getattr(engine, "model", None),
                    on_token=self._token_from_thread,
                )
        except MlsdError as exc:
            self.app.call_from_thread(self._open_failed, str(exc))
            return
        # The opening is on screen: now fill the index and load the model while the candidate reads.
        self._build_started = time.monotonic()
        toolkit.finish_loading(progress=self._build_progress_from_thread)
        if self.interview.notice:
            self.app.call_from_thread(self.notify, self.interview.notice, severity="warning", timeout=20)
        self.app.call_from_thread(self._opened)

    @work(thread=True, exclusive=True, group="interviewer")
    def _send(self, action: str, text: str, seconds: float) -> None:
        from agent.errors import MlsdError

        try:
            turns = self.interview.send(
                text, action=action, seconds=seconds, on_token=self._token_from_thread
            )
        except MlsdError as exc:
            self.app.call_from_thread(self._send_failed, text, str(exc))
            return
        self.app.call_from_thread(self._sent, turns)

    def _build_progress_from_thread(self, done: int, total: int) -> None:
        self.app.call_from_thread(self._show_build_progress, done, total)

    def _show_build_progress(self, done: int, total: int) -> None:
        # Shown only when the build takes a while: the bundled notes' shipped vectors fill the index in
        # about a second, a custom knowledge folder is embedded unit by unit.
        slow = time.monotonic() - self._build_started > 0.5
        self.query_one("#preparing").display = slow and done < total
        self.query_one("#preparing-bar", ProgressBar).update(total=total, progress=done)

    def _token_from_thread(self, token: str) -> None:
        self.app.call_from_thread(self._on_token, token)

    # ------------------------------------------------------------------ UI updates (main thread)

    def _on_token(self, token: str) -> None:
        chat = self.query_one(ChatLog)
        if self._streaming is None:
            # The first piece goes into the constructor: an update before mounting would be lost.
            self._streamed = token
            self._streaming = chat.add_interviewer(token)
        else:
            self._streamed += token
            self._streaming.update(self._streamed)

    def _opened(self) -> None:
        values = self.interview.values()
        self.problem = values["problem"]
        self.length = values["length"]
        chat = self.query_one(ChatLog)
        if self._streaming is not None:  # new: make sure the whole first message is shown
            self._streaming.update(values["turns"][-1]["text"])
        else:  # resumed: show the history
            for turn in values["turns"]:
                self._show_turn(chat, turn)
        self._streaming = None
        if self.interview.finished:
            self._show_feedback()
            return
        self._set_busy(False)
        self.query_one(AnswerBox).placeholder = "Your answer. Enter sends, Ctrl+J adds a new line."
        self._refresh_panel()

    def _open_failed(self, message: str) -> None:
        self.notify(message, severity="error", timeout=10)
        self.query_one(AnswerBox).placeholder = "The interviewer could not start (see the message)."

    def _show_turn(self, chat: ChatLog, turn: dict[str, Any]) -> None:
        if turn["role"] == "interviewer":
            chat.add_interviewer(turn["text"])
        elif turn["kind"] == "answer":
            chat.add_candidate(turn["text"])
        elif turn["kind"] in ("skip", "end", "hint_request"):
            chat.add_candidate(
                {"skip": "(moves on)", "end": "(ends the interview)", "hint_request": "(asks for a hint)"}[
                    turn["kind"]
                ]
            )

    def _sent(self, turns: list[dict[str, Any]]) -> None:
        chat = self.query_one(ChatLog)
        interviewer = [t for t in turns if t["role"] == "interviewer"]
        if self._streaming is not None and interviewer:
            self._streaming.update(interviewer[-1]["text"])
        elif interviewer:
            chat.add_interviewer(interviewer[-1]["text"])
        self._streaming = None
        self._asked_at = time.monotonic()
        self._set_busy(False)
        self._refresh_panel()
        if self.interview.finished:
            self._show_feedback()

    def _send_failed(self, text: str, message: str) -> None:
        self._streaming = None
        offline = " or F5 to continue on the offline engine" if self._on_llm() else ""
        self.notify(
            f"{message}\nYour answer is still in the box: press Enter to try again{offline}.",
            severity="error",
            timeout=15,
        )
        box = self.query_one(AnswerBox)
        if text:
            box.text = f"{text}\n\n{box.text}" if box.text.strip() else text
        self._set_busy(False)
        self.refresh_bindings()

    def _set_busy(self, busy: bool) -> None:
        # The box stays editable while the interviewer thinks; only sending waits.
        self.set_class(busy, "-awaiting-response")
        if not busy:
            self.query_one(AnswerBox).focus()

    def _refresh_panel(self) -> None:
        if self.interview is None:
            return
        from agent.nodes.grading import coverage

        values = self.interview.values()
        if not values:
            return
        waiting = 0.0 if self.has_class("-awaiting-response") else time.monotonic() - self._asked_at
        kb = self.interview.context.kb
        phase = values["phase"]
        rubric = {c.id: c.title for c in kb.rubric_for(values["problem"], phase)} if phase in PHASES else {}
        seen = coverage(self.interview.context, values) if rubric else {}
        self.query_one(PhasePanel).show(
            phase=values["phase"],
            length=values["length"],
            phase_elapsed=values["clock_s"] - values["phase_started_s"] + waiting,
            total_elapsed=values["clock_s"] + waiting,
            coverage={cid: (title, seen.get(cid)) for cid, title in rubric.items()},
        )

    def _show_feedback(self) -> None:
        from tui.screens.feedback import FeedbackScreen

        self.app.switch_screen(FeedbackScreen(self.interview))

    # ------------------------------------------------------------------ input and actions

    @on(AnswerBox.Submitted)
    def _submit(self, event: AnswerBox.Submitted) -> None:
        if self.interview is None or self.has_class("-awaiting-response"):
            self.notify("The interviewer is still writing; your answer stays in the box.", timeout=3)
            return
        text = event.text
        if len(text) > MAX_ANSWER_CHARS:  # grading 2 MB would take a minute and most of a GB
            self.notify(
                f"That answer is {len(text):,} characters; the limit is {MAX_ANSWER_CHARS:,}. "
                "Shorten it and press Enter again: it stays in the box.",
                severity="error",
                timeout=8,
            )
            return
        event.box.text = ""
        self.query_one(ChatLog).add_candidate(text)
        self._set_busy(True)
        self._send("answer", text, time.monotonic() - self._asked_at)

    def _act(self, action: str, shown: str) -> None:
        if self.interview is None or self.has_class("-awaiting-response"):
            return
        self.query_one(ChatLog).add_candidate(shown)
        self._set_busy(True)
        self._send(action, "", time.monotonic() - self._asked_at)

    def action_hint(self) -> None:
        """Ask the interviewer for a hint."""
        self._act("hint", "(asks for a hint)")

    def action_skip(self) -> None:
        """Move on to the next phase."""
        self._act("skip", "(moves on)")

    def action_end(self) -> None:
        """End the interview now and get the feedback."""
        self._act("end", "(ends the interview)")

    def action_problem(self) -> None:
        """Show the problem statement again."""
        if self.interview is None:
            return
        note = self.interview.context.kb.problem_note(self.interview.values()["problem"])
        self.app.push_screen(ProblemModal(note.title, note.prompt))

    def _on_llm(self) -> bool:
        return self.interview is not None and self.interview.context.engine.name != "offline"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer "continue offline" only while an LLM engine is in use."""
        if action == "go_offline":
            return self._on_llm()
        return True

    def action_go_offline(self) -> None:
        """Switch the rest of the interview to the offline engine (grades stay labelled by engine)."""
        if not self._on_llm() or self.has_class("-awaiting-response"):
            return
        from dataclasses import replace

        from agent.engines.offline import OfflineEngine

        context = self.interview.context
        self.interview.context = replace(context, engine=OfflineEngine(context.grader))
        self.interview.transcript.write("engine_changed", engine="offline", reason="the LLM failed")
        self.refresh_bindings()
        self.notify("Continuing on the offline engine. Earlier grades keep the LLM's label.", timeout=8)

    def palette_commands(self) -> Iterable[SystemCommand]:
        """This screen's entries in the command palette."""
        yield SystemCommand("Hint", "Ask the interviewer for a hint", self.action_hint)
        yield SystemCommand("Skip to next phase", "Move on to the next phase", self.action_skip)
        yield SystemCommand("End interview", "Finish now and see the feedback", self.action_end)
        yield SystemCommand("Show problem", "Show the problem statement again", self.action_problem)
        if self._on_llm():
            yield SystemCommand("Continue offline", "Finish on the offline engine", self.action_go_offline)
