"""The terminal app: pick a problem, practise a whole interview, read the feedback.

Heavy parts (the embedding model, Chroma, LangGraph) load in a worker thread after the first
frame is drawn, so the app is on screen at once; the interview screen waits for them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from agent.config import Settings

if TYPE_CHECKING:
    from agent.content.loader import KnowledgeBase


class MlsdApp(App[None]):
    """mlsd-interviewer's terminal app."""

    CSS_PATH = "mlsd.tcss"
    TITLE = "mlsd-interviewer"
    SUB_TITLE = "ML system design mock interviews"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("ctrl+t", "toggle_theme", "Theme"),
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
        toolkit: Any = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.backend = backend
        self.model = model
        self._initial = (problem, resume, level, length)
        self._toolkit: Any = toolkit  # tests hand in one already loaded
        self._toolkit_lock = threading.Lock()
        self._knowledge: KnowledgeBase | None = None
        self._knowledge_lock = threading.Lock()
        from agent.preferences import load_preferences

        self.preferences, self._preferences_notice = load_preferences(settings.home)
        self.theme = self.preferences.theme

    # ------------------------------------------------------------------ shared services

    def knowledge(self) -> KnowledgeBase:
        """The notes and rubrics, read once (call from a worker thread)."""
        with self._knowledge_lock:
            if self._knowledge is None:
                from agent.content.loader import load_knowledge_base

                self._knowledge = load_knowledge_base(self.settings.knowledge_dir, self.settings.rubrics_dir)
            return self._knowledge

    def toolkit(self) -> Any:
        """Content, index and model, loaded once (call from a worker thread: it can take seconds)."""
        with self._toolkit_lock:
            if self._toolkit is None:
                from agent.session import load_toolkit

                self._toolkit = load_toolkit(self.settings, later=True, kb=self.knowledge())
            return self._toolkit

    def toolkit_problems(self) -> list[str]:
        """The problem ids of the knowledge base (from the files alone, without the model)."""
        return list(self.knowledge().problems)

    def engine_label(self) -> str:
        """What the user sees as the engine."""
        return (
            "offline engine" if self.backend == "offline" else f"LLM engine: {self.model or 'default model'}"
        )

    # ------------------------------------------------------------------ screens

    def on_mount(self) -> None:
        """Open the start screen, or go straight to an interview with --problem / --resume."""
        from tui.screens.interview import InterviewScreen
        from tui.screens.start import StartScreen

        problem, resume, level, length = self._initial
        # LangGraph takes ~1 s to import: start now, while the first screen draws and the
        # candidate reads, rather than when the interview opens.
        threading.Thread(target=_import_interview_core, name="preload", daemon=True).start()
        if self._preferences_notice:
            self.notify(self._preferences_notice, severity="warning", timeout=15)
        self.push_screen(StartScreen())
        if problem or resume:
            self.push_screen(InterviewScreen(problem=problem, session_id=resume, level=level, length=length))

    def action_toggle_theme(self) -> None:
        """Switch between the dark and the light theme."""
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"
        self.remember(theme=self.theme)

    def remember(self, **choices: Any) -> None:
        """Save choices for the next run; a read-only home only loses the memory, not the action."""
        from agent.preferences import Preferences, save_preferences

        self.preferences = Preferences.model_validate({**self.preferences.model_dump(), **choices})
        try:
            save_preferences(self.settings.home, self.preferences)
        except OSError as exc:
            self.notify(f"could not save your settings: {exc}", severity="warning", timeout=8)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The command palette: the app's commands plus those of the current screen."""
        yield from super().get_system_commands(screen)
        yield SystemCommand("Toggle theme", "Switch between light and dark", self.action_toggle_theme)
        commands = getattr(screen, "palette_commands", None)
        if commands is not None:
            yield from commands()


def _import_interview_core() -> None:
    """Import the graph and the session modules (their first import is the slow part of opening)."""
    import agent.graph
    import agent.session  # noqa: F401
