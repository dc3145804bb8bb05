"""The terminal app: pick a problem, practise a whole interview, read the feedback.

Heavy parts (the embedding model, Chroma, LangGraph) load in a worker thread after the first
frame is drawn, so the app is on screen at once; the interview screen waits for them.

The app owns navigation: screens ask it to open another screen, they do not import each other.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.driver import Driver
from textual.screen import Screen
from textual.theme import Theme
from textual.widgets import Input, TextArea

from agent.config import Settings

if TYPE_CHECKING:
    from agent.content.loader import KnowledgeBase
    from agent.session import Interview, Toolkit
    from tui.screens.confirm import ConfirmModal

#: Where the palette's Screenshot command saves, under MLSD_HOME (Textual's default is ~/Downloads).
SCREENSHOTS_DIR = "screenshots"
#: What to do after an interview failed in a way the app could not go on from.
RESUME_TODO = "every answer you sent is saved, and `mlsd practice --resume` brings the session back"


class MlsdApp(App[None]):
    """mlsd-interviewer's terminal app."""

    CSS_PATH = "mlsd.tcss"
    TITLE = "mlsd-interviewer"
    SUB_TITLE = "ML system design mock interviews"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("ctrl+t", "toggle_theme", "Theme"),
        Binding("escape", "leave_input", "Leave the box", show=False),
    ]

    def __init__(
        self,
        settings: Settings,
        *,
        backend: str = "offline",
        model: str | None = None,
        problem: str | None = None,
        resume: str | None = None,
        level: str = "senior",
        length: int = 45,
        toolkit: Toolkit | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.settings = settings
        #: Seconds, monotonic: how long the candidate had each question. Tests hand in a fake.
        self.clock = clock
        self.backend = backend
        self.model = model
        self._initial = (problem, resume, level, length)
        self._toolkit = toolkit  # tests hand in one already loaded
        self._toolkit_lock = threading.Lock()
        self._knowledge: KnowledgeBase | None = None
        self._knowledge_lock = threading.Lock()
        #: Why the app stopped, when it stopped on an error it could not go on from.
        self.failure: str | None = None
        self._quit_question: ConfirmModal | None = None  # the open "quit mid-interview?" modal
        from agent.preferences import Preferences, load_preferences

        self.preferences, self._preferences_notice = load_preferences(settings.home)
        if self.preferences.theme not in self.available_themes:  # e.g. a theme of a newer Textual
            self.preferences = self.preferences.model_copy(update={"theme": Preferences().theme})
        self.theme = self.preferences.theme

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver, with pastes kept whole on Linux and macOS (see tui.terminal)."""
        driver = super().get_driver_class()
        from textual.drivers.linux_driver import LinuxDriver

        if driver is LinuxDriver:
            from tui.terminal import PasteSafeDriver

            return PasteSafeDriver
        return driver

    # ------------------------------------------------------------------ shared services

    def knowledge(self) -> KnowledgeBase:
        """The notes and rubrics, read once and shared by every screen (call from a worker thread: the
        first call parses the whole knowledge folder)."""
        with self._knowledge_lock:
            if self._knowledge is None:
                from agent.content.loader import load_knowledge_base

                self._knowledge = load_knowledge_base(self.settings.knowledge_dir, self.settings.rubrics_dir)
            return self._knowledge

    def toolkit(self) -> Toolkit:
        """Content, index and model, loaded once (call from a worker thread: it can take seconds)."""
        with self._toolkit_lock:
            if self._toolkit is None:
                from agent.session import load_toolkit

                self._toolkit = load_toolkit(self.settings, later=True, kb=self.knowledge())
            return self._toolkit

    def engine_label(self) -> str:
        """What the user sees as the engine."""
        from agent.engines.registry import engine_label

        return engine_label(self.backend, self.model)

    def fail(self, what: str, error: BaseException, todo: str = RESUME_TODO) -> None:
        """Something the app cannot go on from: leave with exit code 1 and one line saying what to do."""
        # Printed by `mlsd practice` once the terminal is restored (Textual's exit message would be
        # wrapped at the terminal's width).
        self.failure = f"{what} ({type(error).__name__}: {error}); {todo}"
        self.exit(return_code=1)

    # ------------------------------------------------------------------ screens

    def on_mount(self) -> None:
        """Open the start screen, or go straight to an interview with --problem / --resume."""
        from tui.screens.start import StartScreen

        problem, resume, level, length = self._initial
        if self._preferences_notice:
            self.notify(self._preferences_notice, severity="warning", timeout=15)
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self.push_screen(StartScreen())
        if problem or resume:
            self.open_interview(problem=problem, session_id=resume, level=level, length=length)

    def open_interview(
        self, *, problem: str | None, session_id: str | None, level: str = "senior", length: int = 45
    ) -> None:
        """A new interview on `problem`, or the session `session_id` resumed."""
        from tui.screens.interview import InterviewScreen

        self.push_screen(
            InterviewScreen(
                problem=problem, session_id=session_id, level=level, length=length, now=self.clock
            )
        )

    def show_feedback(self, interview: Interview) -> None:
        """The feedback of a finished interview, in place of the interview."""
        from tui.screens.feedback import FeedbackScreen

        self.switch_screen(FeedbackScreen(interview))

    def show_start(self) -> None:
        """Back to the problem list, in place of the current screen."""
        from tui.screens.start import StartScreen

        self.switch_screen(StartScreen())

    def show_history(self) -> None:
        """Past sessions and score trends."""
        from tui.screens.history import HistoryScreen

        self.push_screen(HistoryScreen())

    def show_session(self, session_id: str) -> None:
        """One past session, read-only: its report and its conversation."""
        from tui.screens.session_view import SessionScreen

        self.push_screen(SessionScreen(session_id))

    def confirm(self, question: str, *, yes: str, no: str, then: Callable[[], object]) -> ConfirmModal:
        """Ask `question`; run `then` only if the answer is yes. Returns the question's modal."""
        from tui.screens.confirm import ConfirmModal

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                then()

        modal = ConfirmModal(question, yes=yes, no=no)
        self.push_screen(modal, answered)
        return modal

    async def action_quit(self) -> None:
        """Quit; mid-interview, only once the candidate confirms (the unsent answer is kept)."""
        from tui.screens.interview import InterviewScreen

        interviews = [s for s in self.screen_stack if isinstance(s, InterviewScreen)]

        def leave() -> None:
            for screen in interviews:
                screen.save_draft()
            self.exit()

        interrupted = any(s.in_progress() for s in interviews)
        if not interrupted or self.screen is self._quit_question:  # Ctrl+Q twice quits
            leave()
            return
        self._quit_question = self.confirm(
            "Quit mid-interview? Everything you sent is saved, and so is the answer in the box: "
            "`mlsd practice --resume` brings it all back.",
            yes="quit",
            no="keep going",
            then=leave,
        )

    def action_leave_input(self) -> None:
        """Esc in a text box: move to the screen's first other widget, so its keys work again."""
        if not isinstance(self.focused, (Input, TextArea)):
            return
        others = [w for w in self.screen.focus_chain if not isinstance(w, (Input, TextArea))]
        if others:
            others[0].focus()
        else:
            self.screen.set_focus(None)

    # ------------------------------------------------------------------ theme and screenshots

    def action_toggle_theme(self) -> None:
        """Switch between the dark and the light theme."""
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"

    def _theme_changed(self, theme: Theme) -> None:
        # Ctrl+T and the palette's Theme command both land here, so either choice is remembered.
        if theme.name != self.preferences.theme:
            self.remember(theme=theme.name)

    def remember(self, **choices: object) -> None:
        """Save choices for the next run; a read-only home only loses the memory, not the action."""
        from agent.preferences import Preferences, save_preferences

        self.preferences = Preferences.model_validate({**self.preferences.model_dump(), **choices})
        try:
            save_preferences(self.settings.home, self.preferences)
        except OSError as exc:
            self.notify(f"could not save your settings: {exc}", severity="warning", timeout=8)

    def deliver_screenshot(
        self, filename: str | None = None, path: str | None = None, time_format: str | None = None
    ) -> str | None:
        """Save an SVG screenshot, by default under MLSD_HOME/screenshots (created when first needed)."""
        if path is None:
            folder = self.settings.home / SCREENSHOTS_DIR
            try:
                folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            except OSError as exc:
                self.notify(f"could not save the screenshot in {folder}: {exc}", severity="error")
                return None
            path = str(folder)
        return super().deliver_screenshot(filename, path, time_format)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The command palette: Textual's commands (its Theme picker is the one theme command) plus
        those of the current screen."""
        yield from super().get_system_commands(screen)
        commands = getattr(screen, "palette_commands", None)
        if commands is not None:
            yield from commands()
