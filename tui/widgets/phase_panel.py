"""The side panel: the seven phases, the phase and overall clocks, and the rubric coverage so far."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.widgets import Static

from agent.grading.scale import colour
from agent.ids import PHASE_MINUTES, PHASE_TITLES, PHASES, Length


def clock(seconds: float) -> str:
    """m:ss."""
    seconds = max(int(seconds), 0)
    return f"{seconds // 60}:{seconds % 60:02d}"


class PhasePanel(Static):
    """Where the interview stands."""

    def show(
        self,
        *,
        phase: str,
        length: Length,
        phase_elapsed: float,
        total_elapsed: float,
        coverage: Mapping[str, tuple[str, float | None]],
    ) -> None:
        """Redraw the panel for the current state."""
        text = Text()
        current = PHASES.index(phase) if phase in PHASES else len(PHASES)
        for i, p in enumerate(PHASES):
            mark, style = ("✓", "dim") if i < current else ("▶", "bold") if i == current else ("·", "")
            text.append(f"{mark} {PHASE_TITLES[p]}\n", style=style)
        text.append("\n")
        if phase in PHASES:
            budget = PHASE_MINUTES[length][phase] * 60
            warn = (
                "bold red" if phase_elapsed >= budget else "yellow" if phase_elapsed >= 0.8 * budget else ""
            )
            text.append("Phase  ", style="dim")
            text.append(f"{clock(phase_elapsed)} / {clock(budget)}\n", style=warn)
        text.append("Total  ", style="dim")
        text.append(f"{clock(total_elapsed)} / {length}:00\n\n")
        if coverage:
            text.append("Rubric so far\n", style="bold")
            for title, score in coverage.values():
                shown = "-" if score is None else f"{score:.0f}"
                style = "" if score is None else colour(score)
                text.append(f" {shown} ", style=style)
                text.append(f"{title}\n", style="dim" if score is None else "")
            text.append_text(legend())
        self.update(text)


def legend() -> Text:
    """What the coverage marks mean: the score scale, and "-" for a criterion with no evidence yet."""
    text = Text("\n")
    for score, word in ((1, "poor"), (2, "weak"), (3, "solid"), (4, "strong")):
        text.append(str(score), style=colour(score))
        text.append(f" {word}" + (" " if score < 4 else "\n"), style="dim")
    text.append("- no evidence yet\n", style="dim")
    return text
