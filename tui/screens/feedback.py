"""The feedback: verdict, a chart of phase scores, criteria with evidence, time, topics to study.

Export writes Markdown and HTML reports; "discuss" answers questions about the feedback from the notes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

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

    def __init__(self, interview: Any) -> None:
        super().__init__()
        from agent.export import report_markdown
        from agent.report import report_with_titles
        from agent.study import study_guide

        self.interview = interview
        values = interview.values()
        self.problem = values["problem"]
        kb = interview.context.kb
        stored = interview.report
        if stored is None:  # the app opens the feedback only once the interview has finished
            raise ValueError(f"session {interview.session_id!r} has no report yet")
        self.report: ShownReport = report_with_titles(stored, kb, self.problem)
        self.problem_title = kb.problem_note(self.problem).title
        self.study = study_guide(kb, self.problem, self.report, values["turns"], values["grades"])
        self.markdown = report_markdown(
            self.report, problem_title=self.problem_title, session_id=interview.session_id, study=self.study
        )

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="feedback"):
            verdict = Text(f"{self.report.verdict.upper()}", style="bold")
            verdict.append(
                f"   {score_text(self.report.score)} of 4   graded by {self.report.backend}", style=""
            )
            yield Static(verdict, id="verdict")
            yield Static(score_bars(self.report.phases), id="chart")
            yield Markdown(self.markdown.split("\n", 1)[1], id="report")
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

        app: Any = self.app
        markdown, page = export_report(
            self.report,
            app.settings.home / "reports",
            problem_title=self.problem_title,
            session_id=self.interview.session_id,
            study=self.study,
        )
        self.notify(f"Saved {markdown} and {page}", title="Report exported", timeout=8)

    def action_discuss(self) -> None:
        """Focus the question box."""
        self.query_one("#discuss", Input).focus()

    def action_new(self) -> None:
        """Back to the problem list."""
        app: Any = self.app
        app.show_start()

    def action_history(self) -> None:
        """Past sessions and score trends."""
        app: Any = self.app
        app.show_history()

    @on(Input.Submitted, "#discuss")
    def _ask(self, event: Input.Submitted) -> None:
        question = event.value.strip()
        if not question:
            return
        event.input.value = ""
        self._answer(question)

    @work(exclusive=True, group="discuss")
    async def _answer(self, question: str) -> None:
        from agent.discuss import NoteHit, discuss

        index = self.interview.context.selector.index
        kb = self.interview.context.kb

        def search(text: str) -> list[NoteHit]:
            hits = index.search(text, k=3, problem=self.problem, kinds=["topic", "problem"])
            return [NoteHit(hit.text, hit.source) for hit in hits]

        # The search embeds the question: off the event loop, so the screen stays responsive.
        reply = await asyncio.to_thread(discuss, question, self.report, kb, self.problem, search)
        # Anchored, the report stays scrolled to its end through every layout pass of the reply
        # (a paragraph's height settles only once its width is known), until the reader scrolls
        # up. One scroll after the append could run before the last pass and leave it below the fold.
        self.query_one("#feedback", VerticalScroll).anchor()
        await self.query_one("#discussion", Markdown).append("\n\n" + reply)
