"""A yes/no question before something that cannot be undone (ending, quitting, deleting)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class ConfirmModal(ModalScreen[bool]):
    """Ask once; Enter or y says yes, Esc or n says no."""

    BINDINGS = [
        Binding("enter,y", "answer(True)", "Yes", priority=True),
        Binding("escape,n", "answer(False)", "No", priority=True),
    ]

    def __init__(self, question: str, yes: str, no: str) -> None:
        super().__init__()
        self._question = question
        self._keys = f"Enter or y: {yes}\nEsc or n: {no}"

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-modal"):
            yield Static(self._question, id="confirm-question", markup=False)
            yield Static(self._keys, classes="hint", markup=False)

    def action_answer(self, yes: bool) -> None:
        """Close with the answer."""
        self.dismiss(yes)
