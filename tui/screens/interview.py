"""The interview: the chat, the answer box and the side panel. The interviewer thinks in a worker."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header, Label, Markdown, ProgressBar, Static

from agent.cli.inputs import MAX_ANSWER_CHARS
from agent.ids import LENGTHS, PHASE_MINUTES, PHASE_TITLES, PHASES, is_length
from agent.snapshot import CriterionCoverage, rubric_coverage
from agent.state import Turn
from tui.screens.base import mlsd_app
from tui.widgets.answer_box import AnswerBox
from tui.widgets.chat import ACTIONS, ChatLog, InterviewerMessage
from tui.widgets.phase_panel import PhasePanel, clock

if TYPE_CHECKING:  # the session module loads in the worker, after the first frame
    from agent.content.loader import KnowledgeBase
    from agent.session import Interview

#: Under this many columns the side panel starts collapsed, so the chat keeps room to read.
NARROW = 100


def _offline_opening(kb: KnowledgeBase, problem: str, session_id: str) -> str:
    """The offline engine's first message in a session, from the notes and templates alone: the
    words the graph will record (the same plan and the same salt)."""
    from dataclasses import replace

    from agent.engines.base import opening_plan
    from agent.engines.offline import compose_turn, load_templates
    from agent.policy import turn_salt

    plan = replace(opening_plan(kb, problem), salt=turn_salt(session_id, 0))
    return compose_turn(load_templates(), plan)


#: The F4 modal's section on what the interviewer has told the candidate about the problem.
LEARNED_HEADING = "What you have learned so far"
#: Shown under that heading before any clarifying question has been answered with a fact.
NO_FACTS_YET = "Nothing yet: ask about scale, data or constraints, and the answers are kept here."


def facts_text(facts: Sequence[str]) -> Text:
    """The learned facts as a plain-text bullet list (notes are content, never markup)."""
    return Text("\n".join(f"• {fact}" for fact in facts)) if facts else Text(NO_FACTS_YET)


class ProblemModal(ModalScreen[None]):
    """The problem statement, shown again on request, with the facts the candidate has learned."""

    BINDINGS = [Binding("escape,f4,enter", "dismiss", "Close")]

    def __init__(self, title: str, prompt: str, facts: Sequence[str] = ()) -> None:
        super().__init__()
        self._markdown = f"## {title}\n\n{prompt}"
        self._facts = list(facts)

    def compose(self) -> ComposeResult:
        # Scrolls: a long statement plus a dozen facts outgrows an 80x24 terminal.
        with VerticalScroll(id="problem-modal"):
            yield Markdown(self._markdown)
            yield Label(LEARNED_HEADING, classes="section")
            yield Static(facts_text(self._facts), id="learned-facts", classes="" if self._facts else "hint")
            yield Static("Press Esc to close.", classes="hint")

    async def action_dismiss(self, result: None = None) -> None:
        """Close the modal."""
        self.dismiss(result)


def _above(text: str, typed: str) -> str:
    """`text` above what has been typed in the box (a blank line between), or `text` alone."""
    return f"{text}\n\n{typed}" if typed.strip() else text


ANSWER_PLACEHOLDER = "Your answer. Enter sends, Ctrl+J adds a new line."


class InterviewScreen(Screen[None]):
    """One interview, new or resumed."""

    BINDINGS = [
        Binding("f2", "hint", "Hint"),
        Binding("f3", "skip", "Next phase"),
        Binding("f4", "problem", "Problem"),
        Binding("f10", "end", "End interview"),
        Binding("f5", "go_offline", "Continue offline"),
        Binding("f8", "toggle_panel", "Panel"),  # F5-F7 select in the answer box
        # Priority: the answer box has focus while typing, and its own keys would move its cursor.
        Binding("pageup", "scroll_chat('page_up')", "Scroll up", show=False, priority=True),
        Binding("pagedown", "scroll_chat('page_down')", "Scroll down", show=False, priority=True),
        Binding("ctrl+home", "scroll_chat('home')", "First message", show=False, priority=True),
        Binding("ctrl+end", "scroll_chat('end')", "Last message", show=False, priority=True),
    ]

    def __init__(
        self,
        *,
        problem: str | None,
        session_id: str | None,
        level: str = "senior",
        length: int = 45,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        #: The candidate's clock (how long they had each question); the app's, a fake in tests.
        self._now = now
        self.problem = problem
        self.session_id = session_id
        self.level = level
        self.length = length
        self.interview: Interview | None = None
        self._streaming: InterviewerMessage | None = None
        self._streamed = ""
        # Set once the answer box is ready: loading is not the candidate's time.
        self._asked_at: float | None = None
        # A new offline session takes its first answer as soon as the opening is shown, before the
        # graph and the index have loaded. The answer is held here and the loading worker sends it
        # itself once the interview exists: so it is saved even if the candidate quits meanwhile
        # (the process waits for its workers). `_hold_open` says the worker has not taken it yet.
        self._hold_lock = threading.Lock()
        self._hold_open = False
        self._pending: tuple[str, str, float] | None = None
        self._open_done = False  # `_opened` ran: answers go to the interviewer directly
        self._panel_wanted: bool | None = None  # the candidate's choice (F8); None: by the width
        self._draft_saved = ""  # the draft file's text as last written
        # A resumed session's draft as it was on disk before this screen wrote anything, until
        # `_opened` puts it back in the box: every save until then keeps it above what was typed.
        self._draft_kept = ""
        self._box_text = ""  # the answer box's text as last changed
        self._build_started = now()  # when the index build started, on the same clock

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
        self.set_interval(1.0, self._tick)
        self._fit_panel()
        self._open()

    def on_resize(self) -> None:
        """Collapse the side panel in a narrow terminal (unless the candidate chose otherwise)."""
        self._fit_panel()

    def on_unmount(self) -> None:
        """Keep what is in the answer box for the next time this session opens."""
        self.save_draft()

    # ------------------------------------------------------------------ workers

    @work(thread=True, exclusive=True, group="opening")  # not "interviewer": it starts the first send
    def _open(self) -> None:
        from agent.engines.registry import make_engine, uses_llm
        from agent.errors import MlsdError
        from agent.session import Interview, build_context, new_session_id

        app = mlsd_app(self)
        preview = not self.session_id and not uses_llm(app.backend)
        new_id = new_session_id(self.problem or "") if not self.session_id else None
        try:
            if preview and new_id is not None:
                # The offline opening is a pure function of the notes: show it while the rest loads.
                opening = _offline_opening(app.knowledge(), self.problem or "", new_id)
                self.app.call_from_thread(self._on_token, opening)
                self.app.call_from_thread(self._preview_shown)
            toolkit = app.toolkit()
            engine = make_engine(app.backend, toolkit, model=app.model)
            context = build_context(toolkit, engine, auto_advance=True)
            app.settings.ensure_home()
            if self.session_id:
                interview = Interview.resume(context, app.settings.home, self.session_id)
                from agent.drafts import load_draft

                # Read before `self.interview` is set: no save may write over it unread.
                self._draft_kept = self._draft_saved = load_draft(interview.home, interview.session_id)
            else:
                interview = Interview.create(
                    context,
                    app.settings.home,
                    problem=self.problem or "",
                    level=self.level,
                    length=self.length,
                    session_id=new_id,
                    model=getattr(engine, "model", None),
                    # An opening already shown needs no streaming, and a candidate who quits while
                    # it is written must not break the writing of the session (no screen to stream to).
                    on_token=None if preview else self._token_from_thread,
                )
        except MlsdError as exc:
            self.app.call_from_thread(self._open_failed, str(exc))
            return
        except Exception as exc:  # a bug or the system (a full disk): say so, do not wedge the screen
            self.app.call_from_thread(app.fail, "the interview could not open", exc)
            return
        self.interview = interview
        # Text typed while this loaded is the session's draft (below a resumed session's own): written
        # now, because a candidate who quit meanwhile had no session to keep it in (the process
        # waits for this worker).
        self.save_draft_from_worker()
        # The opening is on screen: now fill the index and load the model while the candidate reads.
        self._build_started = self._now()
        toolkit.finish_loading(progress=self._build_progress_from_thread)
        with self._hold_lock:  # from here on answers go to the interviewer, not to the hold
            held, self._pending, self._hold_open = self._pending, None, False
        sent: list[Turn] | None = None
        failure: tuple[str, str] | None = None
        if held is not None:  # answered while loading: send it now, from this thread (see __init__)
            action, text, seconds = held
            try:
                sent = interview.send(text, action=action, seconds=seconds)
            except MlsdError as exc:
                failure = (text, str(exc))
            except Exception as exc:  # unexpected: the answer is kept all the same
                failure = (text, f"Unexpected error: {type(exc).__name__}: {exc}")
        try:
            if interview.notice:
                self.app.call_from_thread(self.notify, interview.notice, severity="warning", timeout=20)
            self.app.call_from_thread(self._opened, sent, failure)
        except Exception:  # the candidate quit while this loaded: the session is saved, no screen is left
            if self.app.is_running:
                raise

    @work(thread=True, exclusive=True, group="interviewer")
    def _send(self, action: str, text: str, seconds: float) -> None:
        from agent.errors import MlsdError

        try:
            turns = self._live().send(text, action=action, seconds=seconds, on_token=self._token_from_thread)
        except MlsdError as exc:
            self.app.call_from_thread(self._send_failed, text, str(exc))
            return
        except Exception as exc:  # unexpected: the answer is kept all the same
            self.app.call_from_thread(
                self._send_failed, text, f"Unexpected error: {type(exc).__name__}: {exc}"
            )
            return
        self.app.call_from_thread(self._sent, turns)

    def _build_progress_from_thread(self, done: int, total: int) -> None:
        # Called by the build's thread: a progress report must never fail the build (whose error the
        # next search would raise), so a candidate who quit or left the screen meanwhile is no error.
        if self.app.is_running:
            with contextlib.suppress(RuntimeError):  # the app stopped since the line above
                self.app.call_from_thread(self._show_build_progress, done, total)

    def _show_build_progress(self, done: int, total: int) -> None:
        # Shown only when the build takes a while: the bundled notes' shipped vectors fill the index in
        # about a second, a custom knowledge folder is embedded unit by unit.
        if not self.is_attached:  # the interview ended (or a finished session was resumed) meanwhile
            return
        slow = self._now() - self._build_started > 0.5
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

    def _preview_shown(self) -> None:
        """The opening is on screen: the candidate may answer now; the answer waits for the graph."""
        if self.interview is not None:
            return
        with self._hold_lock:
            self._hold_open = True
        self._asked_at = self._now()
        self._set_busy(False)
        self.query_one(AnswerBox).placeholder = ANSWER_PLACEHOLDER
        self._refresh_panel()

    def _opened(self, sent: list[Turn] | None = None, failure: tuple[str, str] | None = None) -> None:
        """The interview is loaded (and an answer held while it loaded was sent: `sent`, or
        `failure` with its text and why)."""
        self._open_done = True
        interview = self._live()
        state = interview.state()
        self.problem = state.problem
        self.length = state.length
        chat = self.query_one(ChatLog)
        if self._streaming is not None:  # new: the whole opening as recorded (an early answer's
            self._streaming.update(state.turns[0]["text"])  # reply may follow it already)
        else:  # resumed: show the history
            for turn in state.turns:
                chat.add_turn(turn)
        self._streaming = None
        if state.finished:
            self._show_feedback()
            return
        box = self.query_one(AnswerBox)
        kept, self._draft_kept = self._draft_kept, ""
        if kept:  # resumed: the answer left unsent last time, above anything typed while loading
            # (the draft file holds the two so already: see `_draft_text`)
            self._put_back(kept)
            box.move_cursor(box.document.end)
        box.placeholder = ANSWER_PLACEHOLDER
        if sent is not None:
            self._sent(sent)
            return
        if failure is not None:
            self._send_failed(*failure)
            return
        if self._asked_at is None:  # an opening shown early started the candidate's clock then
            self._asked_at = self._now()
        self._set_busy(False)
        self._refresh_panel()

    def _open_failed(self, message: str) -> None:
        self.notify(message, severity="error", timeout=10)
        box = self.query_one(AnswerBox)
        box.placeholder = "The interviewer could not start (see the message)."
        with self._hold_lock:
            held, self._pending, self._hold_open = self._pending, None, False
        if held is not None:  # the answer sent early comes back to the box, not lost
            self._put_back(held[1])
        self._set_busy(True)

    def in_progress(self) -> bool:
        """True while leaving would interrupt an interview (or lose text typed before it loaded)."""
        if self.interview is None:
            return self._pending is not None or bool(self.query_one(AnswerBox).text.strip())
        return not self.interview.finished

    def _tick(self) -> None:
        self._refresh_panel()
        self.save_draft()

    @on(AnswerBox.Changed, "#answer")
    def _typed(self, event: AnswerBox.Changed) -> None:
        # Kept here too: on unmount (quitting) the box is already gone.
        self._box_text = event.text_area.text

    def _draft_text(self, typed: str) -> str:
        """The draft to keep for the box's text: a resumed session's kept draft above it until the
        box has it back (as `_put_back` will put it, so nothing is kept twice)."""
        return _above(self._draft_kept, typed) if self._draft_kept.strip() else typed

    def save_draft_from_worker(self) -> None:
        """Write the answer box's last known text as the session's draft, off the UI thread (the box
        itself may be gone: the candidate may have quit while the interview loaded)."""
        text = self._draft_text(self._box_text)
        if self.interview is None or not text.strip() or text == self._draft_saved:
            return
        from agent.drafts import save_draft

        with contextlib.suppress(OSError):  # the UI thread's next save reports a full disk
            save_draft(self.interview.home, self.interview.session_id, text)
            self._draft_saved = text

    def save_draft(self) -> None:
        """Write the answer box to the session's draft file when it changed (cheap when it did not)."""
        if self.interview is None:
            return
        boxes = self.query(AnswerBox)
        text = self._draft_text(boxes.first().text if boxes else self._box_text)
        if text == self._draft_saved:
            return
        from agent.drafts import save_draft

        try:
            save_draft(self.interview.home, self.interview.session_id, text)
        except OSError as exc:
            self.notify(f"Could not keep your unsent answer on disk: {exc}", severity="warning", timeout=8)
        self._draft_saved = text  # tried once per change: a full disk is not re-reported every second

    def _sent(self, turns: list[Turn]) -> None:
        chat = self.query_one(ChatLog)
        interviewer = [t for t in turns if t["role"] == "interviewer"]
        if self._streaming is not None and interviewer:
            self._streaming.update(interviewer[-1]["text"])
        elif interviewer:
            chat.add_interviewer(interviewer[-1]["text"])
        self._streaming = None
        self._asked_at = self._now()
        self._set_busy(False)
        self._refresh_panel()
        if self._live().finished:
            self.save_draft()
            self._show_feedback()

    def _send_failed(self, text: str, message: str) -> None:
        self._streaming = None
        offline = " or F5 to continue on the offline engine" if self._on_llm() else ""
        self.notify(
            f"{message}\nYour answer is still in the box: press Enter to try again{offline}.",
            severity="error",
            timeout=15,
        )
        if text:
            self._put_back(text)
        self._set_busy(False)
        self.refresh_bindings()

    def _put_back(self, text: str) -> None:
        """Return text to the answer box, above whatever has been typed there since."""
        box = self.query_one(AnswerBox)
        box.text = _above(text, box.text)
        self._box_text = box.text  # before its Changed event: a quit may come first

    def _set_busy(self, busy: bool) -> None:
        # The box stays editable while the interviewer thinks; only sending waits.
        self.set_class(busy, "-awaiting-response")
        if not busy:
            self.query_one(AnswerBox).focus()

    def _refresh_panel(self) -> None:
        coverage: Mapping[str, CriterionCoverage]
        if self.interview is not None:
            state = self.interview.state()
            phase, length = state.phase, state.length
            coverage = self.interview.coverage()
            clock_s, phase_started_s = state.clock_s, state.phase_started_s
        elif self._hold_open:  # the opening shown before the interview loaded: the first phase at 0
            phase = PHASES[0]
            length = self.length if is_length(self.length) else LENGTHS[0]
            # Already read: the worker read the knowledge to write the opening it shows.
            coverage = rubric_coverage(mlsd_app(self).knowledge(), self.problem or "", phase)
            clock_s, phase_started_s = 0.0, 0.0
        else:
            return
        waiting = self._waiting()
        phase_elapsed = clock_s - phase_started_s + waiting
        self.query_one(PhasePanel).show(
            phase=phase,
            length=length,
            phase_elapsed=phase_elapsed,
            total_elapsed=clock_s + waiting,
            coverage=coverage,
        )
        # With the panel collapsed, the header keeps the phase and its clock in sight.
        if self.query_one(PhasePanel).display or phase not in PHASES:
            self.sub_title = None
        else:
            budget = PHASE_MINUTES[length][phase] * 60
            # The clock first: an 80-column header cuts the end off a long phase title.
            self.sub_title = f"{clock(phase_elapsed)} / {clock(budget)}  {PHASE_TITLES[phase]}"

    def _waiting(self) -> float:
        """Seconds the candidate has had the current question (0 while the interviewer works)."""
        if self._asked_at is None or self.has_class("-awaiting-response"):
            return 0.0
        return self._now() - self._asked_at

    def _fit_panel(self) -> None:
        wanted = self._panel_wanted
        self.query_one(PhasePanel).display = self.size.width >= NARROW if wanted is None else wanted
        self._refresh_panel()

    def action_toggle_panel(self) -> None:
        """Show or hide the side panel (phases, clocks, rubric coverage)."""
        self._panel_wanted = not self.query_one(PhasePanel).display
        self._fit_panel()

    def action_scroll_chat(self, where: str) -> None:
        """Scroll the conversation without leaving the answer box."""
        chat = self.query_one(ChatLog)
        if where == "page_up":
            chat.scroll_page_up()
        elif where == "page_down":
            chat.scroll_page_down()
        elif where == "home":
            chat.scroll_home()
        else:
            chat.scroll_end()

    def _show_feedback(self) -> None:
        mlsd_app(self).show_feedback(self._live())

    def _live(self) -> Interview:
        """The interview, once loaded: what the screen's handlers after `_opened` work on."""
        if self.interview is None:
            raise RuntimeError("the interview has not loaded yet")
        return self.interview

    # ------------------------------------------------------------------ input and actions

    def opened(self) -> bool:
        """True once the interview has loaded and the screen has finished opening it: from then on
        answers, hints, skips and ending go to the interviewer directly."""
        return self._open_done

    def takes_answers(self) -> bool:
        """True when an answer sent now is taken (by the interviewer, or held for it while it loads)."""
        return (self._open_done or self._hold_open) and not self.has_class("-awaiting-response")

    def _not_ready(self) -> bool:
        """True (and the candidate is told why) when nothing can be sent yet."""
        if self.has_class("-awaiting-response"):  # also while an answer held during loading is read
            self.notify("The interviewer is still writing; your answer stays in the box.", timeout=3)
        elif not self._open_done:
            self.notify("The interviewer is still loading; your answer stays in the box.", timeout=3)
        else:
            return False
        return True

    @on(AnswerBox.Submitted)
    def _submit(self, event: AnswerBox.Submitted) -> None:
        hold = not self._open_done and self.takes_answers()
        if not hold and self._not_ready():
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
        seconds = self._waiting()
        if hold:
            with self._hold_lock:
                if self._hold_open:  # the loading worker sends it (see __init__)
                    self._pending = ("answer", text, seconds)
                else:
                    hold = False
            if not hold:  # the worker took over this very moment: not sent, and nothing lost
                self._not_ready()
                return
        event.box.text = ""
        self.save_draft()  # sent: it must not come back as a draft
        self.query_one(ChatLog).add_candidate(text)
        self._set_busy(True)
        if not hold:
            self._send("answer", text, seconds)

    def _act(self, action: str, shown: str) -> None:
        if self._not_ready():
            return
        seconds = self._waiting()
        self.query_one(ChatLog).add_candidate(shown)
        self._set_busy(True)
        self._send(action, "", seconds)

    def action_hint(self) -> None:
        """Ask the interviewer for a hint."""
        self._act("hint", ACTIONS["hint_request"])

    def action_skip(self) -> None:
        """Move on to the next phase."""
        self._act("skip", ACTIONS["skip"])

    def action_end(self) -> None:
        """End the interview now and get the feedback, once the candidate confirms."""
        if self._not_ready():
            return
        mlsd_app(self).confirm(
            "End the interview now? The phases you have not reached are not assessed.",
            yes="end and see the feedback",
            no="keep going",
            then=lambda: self._act("end", ACTIONS["end"]),
        )

    def action_problem(self) -> None:
        """Show the problem statement again."""
        if self.interview is None:
            return
        note = self.interview.problem_note()
        self.app.push_screen(ProblemModal(note.title, note.prompt, self.interview.learned_facts()))

    def _on_llm(self) -> bool:
        return self.interview is not None and self.interview.uses_llm()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer "continue offline" only while an LLM engine is in use."""
        if action == "go_offline":
            return self._on_llm()
        return True

    def action_go_offline(self) -> None:
        """Switch the rest of the interview to the offline engine (grades stay labelled by engine)."""
        if not self._on_llm() or self.has_class("-awaiting-response"):
            return
        self._live().go_offline(reason="the LLM failed")
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
