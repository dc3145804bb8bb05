"""Export a finished interview's report as Markdown and as a self-contained HTML page with a chart."""

from __future__ import annotations

import html
import re
from pathlib import Path

from agent.grading.scale import INCOMPLETE, MIN_ASSESSED_PHASES, SCORE_NAMES, band, score_text
from agent.report_model import CriterionView, Gap, PhaseEntry, ShownReport, Strength, StudyNote
from agent.study import Exchange, NextBand, PhaseStudy, StudyGuide


def report_markdown(
    report: ShownReport, *, problem_title: str, session_id: str, study: StudyGuide | None = None
) -> str:
    """The report as Markdown: verdict, phases with time, what would move the verdict, criteria with
    evidence, gaps, topics to study and, with a study guide, the annotated conversation and model answers."""
    lines = [
        f"# Mock interview feedback: {problem_title}",
        "",
        f"**Verdict: {report.verdict}** — overall {score_text(report.score)} of 4 "
        f"(level {report.level}, graded by `{report.backend}`, session `{session_id}`)",
        "",
        "| phase | score | minutes (budget) |",
        "|---|---|---|",
    ]
    for phase in report.phases:
        time = f"{phase.minutes:.1f} ({phase.budget_minutes:.0f})"
        lines.append(f"| {phase.title} | {score_text(phase.score)} | {time} |")
    if report.verdict == INCOMPLETE:
        lines += ["", _incomplete_text(report.phases)]
    if study is not None and study.next_band is not None and report.score is not None:
        lines += ["", *_next_band_markdown(study.next_band, report.score)]
    if report.strengths:
        lines += ["", "## Strengths", ""]
        for strength in report.strengths:
            quote = f' — "{escape_markdown(strength.evidence[0])}"' if strength.evidence else ""
            lines.append(f"- **{strength.title}** ({strength.phase}){quote}")
    if report.gaps:
        lines += ["", "## Gaps", ""]
        for g in report.gaps:
            lines.append(f"- **{g.title}** ({g.phase}): solid looks like: {g.what_solid_looks_like}")
    if report.study:
        lines += ["", "## Missed critical topics: notes to study", ""]
        for note in report.study:
            lines.append(f"- **{note.title}**: {note.summary} ({_note_link(note)})")
    lines += ["", "## Per criterion", ""]
    for phase in report.phases:
        if not phase.criteria:
            continue
        lines += [f"### {phase.title} — {score_text(phase.score)}", ""]
        for c in phase.criteria:
            lines.append(f"- **{c.title or c.id}**: {_criterion_score(c)}. {c.rationale}")
            lines += [f'  > "{escape_markdown(q)}"' for q in c.evidence]
        lines.append("")
    if study is not None:
        lines += ["## The interview, answer by answer", ""]
        for phase_study in study.phases:
            lines += _phase_markdown(phase_study)
        if study.wrap_up:
            lines += ["### Wrap-up", ""]
            for exchange in study.wrap_up:
                lines += _exchange_markdown(exchange)
    return "\n".join(lines).rstrip() + "\n"


def _incomplete_text(phases: list[PhaseEntry[CriterionView]]) -> str:
    assessed = sum(1 for p in phases if p.assessed)
    return (
        f"No verdict: {assessed} of {len(phases)} phases were assessed, and a verdict needs "
        f"at least {MIN_ASSESSED_PHASES}. Answer more of the interview next time."
    )


def _next_band_markdown(step: NextBand, score: float) -> list[str]:
    lines = [
        f"## What would have moved the verdict up: {step.verdict}",
        "",
        f"{step.verdict.capitalize()} starts at {step.target:.2f}; this interview scored "
        f"{score_text(score)}, {step.needed:.2f} short. The biggest levers, each raised to solid:",
        "",
    ]
    for lever in step.levers:
        now = "not assessed" if lever.criterion is None else _level_text(lever.now)
        lines.append(
            f"- **{lever.phase_title}: {lever.title}** (now {now}; +{lever.gain:.2f} overall). "
            f"Solid: {lever.solid}"
        )
    if not step.reached:
        lines += ["", "These alone do not close the gap: most criteria need to reach solid."]
    return lines


def _level_text(score: float | None) -> str:
    return "insufficient evidence" if score is None else f"{score:.0f}"


def _before_text(score: float | None) -> str:
    return "none" if score is None else f"{score:.0f}"


def _movement_text(exchange: Exchange) -> str:
    if not exchange.answered:
        return ""
    if exchange.score is None:
        return "_Not graded._"
    moved = ", ".join(f"{m.title} ({_before_text(m.before)} → {m.after:.0f})" for m in exchange.moved)
    raised = f"; raised {moved}" if moved else "; raised no criterion above what earlier answers showed"
    return f"_This answer: {exchange.score:.2f}{raised}._"


def _exchange_markdown(exchange: Exchange) -> list[str]:
    reply = _quoted("You", exchange.reply, untrusted=exchange.answered)
    lines = [*_quoted("Interviewer", exchange.question), "", *reply]
    note = _movement_text(exchange)
    return [*lines, *(["", note] if note else []), ""]


def _quoted(who: str, text: str, *, untrusted: bool = False) -> list[str]:
    # Blockquoted line by line, so a reply cannot end the quote or add headings of its own.
    shown = escape_markdown(text) if untrusted else text
    body = [f"> {line}" if line.strip() else ">" for line in shown.strip().splitlines()] or [">"]
    return [f"> **{who}:**", ">", *body]


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~!])")


def escape_markdown(text: str) -> str:
    """Candidate text for a Markdown page: shown as typed, never read as markup or links."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _phase_markdown(phase: PhaseStudy) -> list[str]:
    lines = [f"### {phase.title} — {score_text(phase.score)}", ""]
    if not phase.exchanges:
        lines += ["_Not reached in this interview._", ""]
    for exchange in phase.exchanges:
        lines += _exchange_markdown(exchange)
    if phase.model_answer:
        lines += ["**A model answer** (how a strong candidate might put it):", ""]
        lines += [f"> {line}" if line.strip() else ">" for line in phase.model_answer.strip().splitlines()]
        lines.append("")
    return lines


def _criterion_score(criterion: CriterionView) -> str:
    if criterion.insufficient_evidence:
        return "insufficient evidence"
    return f"{criterion.score:.0f} ({SCORE_NAMES[int(criterion.score)]})"


def _strength(s: Strength) -> str:
    quote = f"<blockquote>{html.escape(s.evidence[0])}</blockquote>" if s.evidence else ""
    return f"<b>{html.escape(s.title)}</b> ({s.phase}){quote}"


def _gap(g: Gap) -> str:
    solid = html.escape(g.what_solid_looks_like)
    return f"<b>{html.escape(g.title)}</b> ({g.phase}): solid looks like: {solid}"


def _note_link(s: StudyNote) -> str:
    # The link text is the note's place in the knowledge folder, the same on every machine, so the
    # feedback reads (and wraps) alike wherever the project is installed. The target is the file's
    # path, not a file:// URI: Markdown renderers (the app's among them) refuse file: links as
    # unsafe and would print the whole link as text.
    return f"[{_note_name(s)}](<{_note_path(s)}>)"


def _note_name(s: StudyNote) -> str:
    # Reports saved before notes carried their source name only have the full path.
    return s.source or _note_path(s).name


def _note_path(s: StudyNote) -> Path:
    # Set by agent.report.report_with_titles; resolved, since a file link (and as_uri) needs an
    # absolute path. A note the knowledge in use cannot place is named by its source, as saved.
    return Path(s.note or s.source or "").resolve()


def _study(s: StudyNote) -> str:
    link = f'<a href="{html.escape(_note_path(s).as_uri())}"><code>{html.escape(_note_name(s))}</code></a>'
    return f"<b>{html.escape(s.title)}</b>: {html.escape(s.summary)} {link}"


#: The report page's colour for each band of agent.grading.scale.
_HTML_COLOURS = {
    "strong": "#2e7d32",
    "solid": "#2e7d32",
    "weak": "#f9a825",
    "poor": "#c62828",
    "none": "#9e9e9e",
}


def _bar_chart_svg(phases: list[PhaseEntry[CriterionView]]) -> str:
    """A horizontal bar chart of phase scores on the 1-4 scale, as inline SVG."""
    row, label_w, bar_w = 28, 260, 320
    height = row * len(phases) + 30
    parts = [f'<svg role="img" aria-label="Phase scores" width="{label_w + bar_w + 60}" height="{height}">']
    for tick in (1, 2, 3, 4):
        x = label_w + bar_w * (tick - 1) / 3
        parts.append(f'<line x1="{x:.0f}" y1="0" x2="{x:.0f}" y2="{height - 20}" stroke="#ddd"/>')
        parts.append(f'<text x="{x:.0f}" y="{height - 5}" font-size="11" text-anchor="middle">{tick}</text>')
    for i, phase in enumerate(phases):
        y = i * row + 4
        width = 0.0 if phase.score is None else bar_w * (phase.score - 1) / 3
        colour = _HTML_COLOURS[band(phase.score)]
        parts.append(f'<text x="0" y="{y + 15}" font-size="13">{html.escape(phase.title)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{max(width, 2):.0f}" height="18" fill="{colour}"/>')
        label = score_text(phase.score)
        parts.append(f'<text x="{label_w + width + 6:.0f}" y="{y + 14}" font-size="12">{label}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _next_band_html(step: NextBand, score: float) -> str:
    items = "".join(
        f"<li><b>{html.escape(lever.phase_title)}: {html.escape(lever.title)}</b> (now "
        f"{'not assessed' if lever.criterion is None else _level_text(lever.now)}; "
        f"+{lever.gain:.2f} overall). Solid: {html.escape(lever.solid)}</li>"
        for lever in step.levers
    )
    short = (
        "" if step.reached else "<p>These alone do not close the gap: most criteria need to reach solid.</p>"
    )
    return (
        f"<h2>What would have moved the verdict up: {html.escape(step.verdict)}</h2>"
        f"<p>{html.escape(step.verdict.capitalize())} starts at {step.target:.2f}; this interview scored "
        f"{score_text(score)}, {step.needed:.2f} short. The biggest levers, each raised to solid:</p>"
        f"<ul>{items}</ul>{short}"
    )


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{html.escape(p.strip())}</p>" for p in text.strip().split("\n\n") if p.strip())


def _exchange_html(exchange: Exchange) -> str:
    note = _movement_text(exchange).strip("_")
    return (
        f"<div class=turn><b>Interviewer:</b>{_paragraphs(exchange.question)}</div>"
        f"<div class='turn you'><b>You:</b>{_paragraphs(exchange.reply)}</div>"
        + (f"<p class=moved>{html.escape(note)}</p>" if note else "")
    )


def _study_html(study: StudyGuide) -> str:
    parts = ["<h2>The interview, answer by answer</h2>"]
    for phase in study.phases:
        parts.append(f"<h3>{html.escape(phase.title)} — {score_text(phase.score)}</h3>")
        if not phase.exchanges:
            parts.append("<p><i>Not reached in this interview.</i></p>")
        parts += [_exchange_html(e) for e in phase.exchanges]
        if phase.model_answer:
            parts.append(
                "<p><b>A model answer</b> (how a strong candidate might put it):</p>"
                f"<blockquote>{_paragraphs(phase.model_answer)}</blockquote>"
            )
    if study.wrap_up:
        parts.append("<h3>Wrap-up</h3>")
        parts += [_exchange_html(e) for e in study.wrap_up]
    return "".join(parts)


def report_html(
    report: ShownReport, *, problem_title: str, session_id: str, study: StudyGuide | None = None
) -> str:
    """A self-contained HTML page: the chart of phase scores and the whole report (and, with a study
    guide, what would move the verdict and the annotated conversation with model answers)."""
    body: list[str] = [
        f"<h1>Mock interview feedback: {html.escape(problem_title)}</h1>",
        f"<p class=verdict><strong>{html.escape(report.verdict)}</strong> — "
        f"overall {score_text(report.score)} of 4 "
        f"(level {html.escape(report.level)}, graded by <code>{html.escape(report.backend)}</code>, "
        f"session <code>{html.escape(session_id)}</code>)</p>",
        _bar_chart_svg(report.phases),
        "<table><tr><th>phase</th><th>score</th><th>minutes</th><th>budget</th></tr>",
    ]
    for p in report.phases:
        body.append(
            f"<tr><td>{html.escape(p.title)}</td><td>{score_text(p.score)}</td>"
            f"<td>{p.minutes:.1f}</td><td>{p.budget_minutes:.0f}</td></tr>"
        )
    body.append("</table>")
    if report.verdict == INCOMPLETE:
        body.append(f"<p>{html.escape(_incomplete_text(report.phases))}</p>")
    if study is not None and study.next_band is not None and report.score is not None:
        body.append(_next_band_html(study.next_band, report.score))
    sections = (
        ("Strengths", [_strength(s) for s in report.strengths]),
        ("Gaps", [_gap(g) for g in report.gaps]),
        ("Missed critical topics: notes to study", [_study(s) for s in report.study]),
    )
    for title, items in sections:
        if items:
            body.append(f"<h2>{title}</h2><ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>")
    body.append("<h2>Per criterion</h2>")
    for phase in report.phases:
        if not phase.criteria:
            continue
        body.append(f"<h3>{html.escape(phase.title)} — {score_text(phase.score)}</h3><ul>")
        for c in phase.criteria:
            quotes = "".join(f"<blockquote>{html.escape(q)}</blockquote>" for q in c.evidence)
            title = html.escape(c.title or c.id)
            body.append(f"<li><b>{title}</b>: {_criterion_score(c)}. {html.escape(c.rationale)}{quotes}</li>")
        body.append("</ul>")
    if study is not None:
        body.append(_study_html(study))
    style = (
        "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
        "line-height:1.5}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .6rem}"
        "blockquote{margin:.2rem 0 .2rem 1rem;color:#444;border-left:3px solid #bbb;padding-left:.6rem}"
        ".turn{margin:.6rem 0}.turn p{margin:.2rem 0 .2rem 1rem}.you{background:#f4f7fb}"
        ".moved{color:#555;font-style:italic;margin:.2rem 0 1rem 1rem}"
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>Feedback: {html.escape(problem_title)}</title><style>{style}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )


def export_report(
    report: ShownReport,
    folder: Path,
    *,
    problem_title: str,
    session_id: str,
    study: StudyGuide | None = None,
) -> tuple[Path, Path]:
    """Write `<session>.md` and `<session>.html` into `folder` (created private) and return both paths."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    markdown = folder / f"{session_id}.md"
    page = folder / f"{session_id}.html"
    markdown.write_text(
        report_markdown(report, problem_title=problem_title, session_id=session_id, study=study),
        encoding="utf-8",
    )
    page.write_text(
        report_html(report, problem_title=problem_title, session_id=session_id, study=study),
        encoding="utf-8",
    )
    for path in (markdown, page):
        path.chmod(0o600)
    return markdown, page
