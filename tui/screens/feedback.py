"""The feedback: verdict, a chart of phase scores, criteria with evidence, time, topics to study.

Export writes Markdown and HTML reports; "discuss" answers questions about the feedback from the notes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Markdown, Static

from agent.grading.scale import colour, score_text
from agent.ids import PHASE_TITLES
from agent.report_model import CriterionView, PhaseEntry, ShownReport
from tui.screens.base import mlsd_app

if TYPE_CHECKING:
    from agent.session import Interview


def score_bars(phases: Sequence[PhaseEntry[CriterionView]], width: int = 20) -> Text:
    """A horizontal bar chart of phase scores on the 1-4 scale."""
    text = Text()
    for phase in phases:
        filled = 0 if phase.score is None else round(width * (phase.score - 1) / 3)
        title = PHASE_TITLES[phase.phase]
        text.append(f"{title if len(title) <= 24 else title[:23] + '…':<25}")
        text.append("█" * filled, style=colour(phase.score))
        text.append("░" * (width - filled), style="dim")
        text.append(f" {score_text(phase.score)} {phase.minutes:4.1f}/{phase.budget_minutes:.0f}m\n")
    return text


class FeedbackScreen(Screen[None]):
    """What the candidate did well, what they missed, and what to read next."""

    BINDINGS = [
        Binding("e", "export", "Export"),
        Binding("d", "discuss", "Discuss"),
        Binding("n", "new", "New interview"),
        Binding("h", "history", "History"),
    ]

    def __init__(self, interview: Interview) -> None:
        super().__init__()
        self.interview = interview
        # The app opens the feedback only once the interview has finished (else this raises).
        self.feedback = interview.feedback()
        self.report: ShownReport = self.feedback.report

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="feedback"):
            verdict = Text(f"{self.report.verdict.upper()}", style="bold")
            verdict.append(
                f"   {score_text(self.report.score)} of 4   graded by {self.report.backend}", style=""
            )
            yield Static(verdict, id="verdict")
            yield Static(score_bars(self.report.phases), id="chart")
            yield Markdown(self.feedback.markdown.split("\n", 1)[1], id="report")
            yield Markdown("", id="discussion")
        yield Input(
            placeholder="Ask about your feedback, e.g. how should I have handled calibration?", id="discuss"
        )
        yield Footer()

    def on_mount(self) -> None:
        """Start on the report, so single-letter keys work until the candidate opens the question box."""
        self.query_one("#feedback", VerticalScroll).focus()

    def action_export(self) -> None:
        """Write the report as Markdown and HTML under MLSD_HOME/reports."""
        from agent.export import export_report

        markdown, page = export_report(
            self.report,
            mlsd_app(self).settings.home / "reports",
            problem_title=self.feedback.problem_title,
            session_id=self.interview.session_id,
            study=self.feedback.study,
        )
        self.notify(f"Saved {markdown} and {page}", title="Report exported", timeout=8)

    def action_discuss(self) -> None:
        """Focus the question box."""
        self.query_one("#discuss", Input).focus()

    def action_new(self) -> None:
        """Back to the problem list."""
        mlsd_app(self).show_start()

    def action_history(self) -> None:
        """Past sessions and score trends."""
        mlsd_app(self).show_history()

    @on(Input.Submitted, "#discuss")
    def _ask(self, event: Input.Submitted) -> None:
        question = event.value.strip()
        if not question:
            return
        event.input.value = ""
        self._answer(question)

    @work(exclusive=True, group="discuss")
    async def _answer(self, question: str) -> None:
        # The search embeds the question: off the event loop, so the screen stays responsive.
        reply = await asyncio.to_thread(self.interview.discuss, question, self.feedback)
        # Anchored, the report stays scrolled to its end through every layout pass of the reply
        # (a paragraph's height settles only once its width is known), until the reader scrolls
        # up. One scroll after the append could run before the last pass and leave it below the fold.
        self.query_one("#feedback", VerticalScroll).anchor()
        await self.query_one("#discussion", Markdown).append("\n\n" + reply)
