"""Reports of a run: a terminal table, JUnit XML for CI systems, and an HTML page with charts."""

from __future__ import annotations

import html
import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from agent.ids import PHASE_TITLES, PHASES
from evals.results import RunResult, SplitMetrics, SuiteMetrics

METRICS = ("qwk", "spearman", "exact", "within_one", "pairwise", "mean_abs_error", "hit_at_1", "hit_at_3")


def _fmt(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _cell(split: SplitMetrics, name: str) -> str:
    """A metric with its bootstrap interval when there is one."""
    interval = split.interval(name)
    value = _fmt(split.value(name))
    return f"{value} ({interval[0]:.2f}-{interval[1]:.2f})" if interval else value


def _clarifications(metrics: SuiteMetrics) -> list[str]:
    """Per split, the clarification matcher's right outcomes and wrong facts, for both reports."""
    return [
        f"{split} {_fmt(c.accuracy)} of {c.questions} (wrong facts {_fmt(c.wrong_facts)})"
        for split, c in metrics.clarifications.items()
    ]


def print_summary(
    console: Console, run: RunResult, gate: dict[str, Any] | None, baseline_written: bool = False
) -> None:
    """The metrics per split, the robustness figures, and what the gate found."""
    metrics = run.metrics
    table = Table(title=f"mlsd eval: {run.engine} ({len(run.cases)} cases, {run.seconds:.1f} s)")
    table.add_column("metric")
    for split in ("dev", "test", "all"):
        table.add_column(f"{split} (n={metrics.split(split).n})", justify="right")
    for name in METRICS:
        table.add_row(name, *(_cell(metrics.split(s), name) for s in ("dev", "test", "all")))
    console.print(table)
    console.print("(low-high): 95% bootstrap interval, resampling cases", markup=False)
    usage = metrics.usage
    console.print(
        f"adversarial max {_fmt(metrics.adversarial_max)}   phase flow {_fmt(metrics.phase_flow)}   "
        f"evidence verbatim {_fmt(metrics.evidence_validity)} of {metrics.evidence_quotes} quotes"
        f"\nwrong claims challenged {_fmt(metrics.wrong_claims_challenged)}"
        f" of {metrics.wrong_claims_heard} heard ({metrics.wrong_claims} labelled)"
        f"   follow-ups on covered ground {metrics.covered_repeats}"
        + (
            f"   tokens {int(usage.get('prompt_tokens', 0))}+{int(usage.get('completion_tokens', 0))}"
            f"   cost ${usage.get('cost_usd', 0):.4f}"
            if usage.get("calls")
            else ""
        )
    )
    if metrics.clarifications:
        console.print(
            "clarifying questions answered right: " + ", ".join(_clarifications(metrics)), markup=False
        )
    by_profile = metrics.adversarial_by_profile
    if by_profile:
        console.print("adversarial max by kind: " + ", ".join(f"{k} {v:.2f}" for k, v in by_profile.items()))
    if gate is None:
        if baseline_written:
            return
        console.print("[yellow]no baseline for this engine yet: run with --update-baseline to create one[/]")
        return
    for entry in gate["regressions"]:
        console.print(f"[red]REGRESSION[/] {describe(entry)}")
    for entry in gate["changes"]:
        console.print(f"[yellow]changed[/] {describe(entry)}")
    for entry in gate["improvements"]:
        console.print(f"[green]better[/] {describe(entry)}")
    if not gate["compared_metrics"]:
        console.print(
            "[yellow]metrics not gated (only whole-suite runs are); cases were compared one by one[/]"
        )
    verdict = "[green]no regression against the baseline[/]" if gate["passed"] else "[red]regressed[/]"
    console.print(verdict)


def describe(entry: dict[str, Any]) -> str:
    """One line for a gate entry."""
    kind = entry["kind"]
    if kind == "metric":
        return (
            f"{entry['metric']}: {_fmt(entry['baseline'])} -> {_fmt(entry['current'])} "
            f"(tolerance {entry['tolerance']})"
        )
    if kind == "case":
        return (
            f"{entry['case']} {entry['phase']}: {entry['baseline']:.2f} -> {entry['current']:.2f} "
            f"(human {entry['label']})"
        )
    if kind == "flow":
        flow = entry["flow"]
        return f"{entry['case']}: phase flow broke (order ok {flow['in_order']}, overruns {flow['overruns']})"
    return f"{entry['case']}: {kind.replace('_', ' ')}"


def write_junit(run: RunResult, gate: dict[str, Any] | None, path: Path) -> None:
    """One test case per eval case (failing on its regressions) and one per gated metric."""
    regressions = gate["regressions"] if gate else []
    suite = ET.Element(
        "testsuite",
        name=f"mlsd-eval-{run.engine}",
        tests=str(len(run.cases) + 1),
        failures=str(
            len({e.get("case") for e in regressions if "case" in e})
            + any(e["kind"] == "metric" for e in regressions)
        ),
        time=f"{run.seconds:.3f}",
    )
    for result in run.cases:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"eval.{result.split}",
            name=result.case,
            time=str(result.seconds),
        )
        mine = [e for e in regressions if e.get("case") == result.case]
        if mine:
            failure = ET.SubElement(case, "failure", message=f"{len(mine)} regression(s)")
            failure.text = "\n".join(describe(e) for e in mine)
    metrics = ET.SubElement(suite, "testcase", classname="eval.metrics", name="metrics")
    failing = [e for e in regressions if e["kind"] == "metric"]
    if failing:
        failure = ET.SubElement(metrics, "failure", message=f"{len(failing)} metric(s) regressed")
        failure.text = "\n".join(describe(e) for e in failing)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree = ET.ElementTree(suite)
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)


def _bars(metrics: SuiteMetrics) -> str:
    """Grouped bars of the agreement metrics for dev and test, as inline SVG."""
    names = ("qwk", "spearman", "exact", "within_one", "pairwise", "hit_at_3")
    width, height, group = 560, 200, 90
    colours = {"dev": "#6b8fd6", "test": "#d68f3b"}
    parts = [
        f'<svg viewBox="0 -16 {width} {height + 56}" width="{width}" role="img" aria-label="agreement">'
    ]  # the band above 0 leaves room for the value over a full bar
    for i, name in enumerate(names):
        for j, split in enumerate(("dev", "test")):
            found = metrics.split(split).value(name)
            value = 0.0 if found is None or math.isnan(found) else max(found, 0.0)
            h = value * height
            x = 10 + i * group + j * 32
            parts.append(
                f'<rect x="{x}" y="{height - h:.1f}" width="28" height="{h:.1f}" fill="{colours[split]}">'
                f"<title>{split} {name} {value:.3f}</title></rect>"
            )
            parts.append(
                f'<text x="{x + 14}" y="{height - h - 3:.1f}" font-size="9" '
                f'text-anchor="middle">{value:.2f}</text>'
            )
        parts.append(
            f'<text x="{10 + i * group + 30}" y="{height + 16}" font-size="11" '
            f'text-anchor="middle">{name}</text>'
        )
    parts.append(f'<text x="10" y="{height + 34}" font-size="11" fill="{colours["dev"]}">■ dev</text>')
    parts.append(f'<text x="60" y="{height + 34}" font-size="11" fill="{colours["test"]}">■ test</text>')
    parts.append("</svg>")
    return "".join(parts)


def _confusion_table(phase: str, matrix: list[list[int]]) -> str:
    peak = max((v for row in matrix for v in row), default=1) or 1
    rows = []
    for h, row in enumerate(matrix, 1):
        cells = "".join(
            f'<td style="background: rgba(60,120,200,{v / peak:.2f})">{v or ""}</td>' for v in row
        )
        rows.append(f"<tr><th>{h}</th>{cells}</tr>")
    return (
        f'<table class="confusion"><caption>{html.escape(PHASE_TITLES[phase])}</caption>'
        "<tr><th>human \\ engine</th><th>1</th><th>2</th><th>3</th><th>4</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def write_html(
    run: RunResult, gate: dict[str, Any] | None, baseline: dict[str, Any] | None, path: Path
) -> None:
    """A page a person can open: agreement chart, per-phase confusion, per-case scores and diffs."""
    metrics = run.metrics
    base_cases = (baseline or {}).get("cases", {})
    status = "no baseline" if gate is None else "passed" if gate["passed"] else "REGRESSED"
    rows = []
    for r in run.cases:
        cells = []
        for phase in PHASES:
            score = r.scores.get(phase)
            label = r.labels.get(phase)
            old = base_cases.get(r.case, {}).get("scores", {}).get(phase)
            diff = (
                "" if old is None or score is None or abs(score - old) < 0.005 else f" ({score - old:+.2f})"
            )
            off = label is not None and score is not None and abs(score - label) >= 1.0
            cells.append(
                f'<td class="{"off" if off else ""}">{_fmt(score)}{diff}'
                f"<br><small>human {label or '-'}</small></td>"
            )
        hits = sum(bool(set(p.expected) & set(p.ranked[:3])) for p in r.probes)
        rows.append(
            f"<tr><td>{html.escape(r.case)}</td><td>{r.split}</td><td>{html.escape(r.profile)}</td>"
            + "".join(cells)
            + f"<td>{hits}/{len(r.probes)}</td><td>{'ok' if r.flow.ok else 'broken'}</td></tr>"
        )
    gate_items = ""
    if gate:
        items = [("regression", e) for e in gate["regressions"]] + [("changed", e) for e in gate["changes"]]
        items += [("better", e) for e in gate["improvements"]]
        gate_items = "".join(f'<li class="{k}">{k}: {html.escape(describe(e))}</li>' for k, e in items)
    confusion = "".join(
        _confusion_table(p, m) for p, m in sorted(run.confusion.items(), key=lambda x: PHASES.index(x[0]))
    )
    phase_heads = "".join(f"<th>{p}</th>" for p in PHASES)
    clarify = (
        f"<p>Clarifying questions answered right: {'; '.join(_clarifications(metrics))}.</p>"
        if metrics.clarifications
        else ""
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mlsd eval: {html.escape(run.engine)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.85rem; }}
td, th {{ border: 1px solid #ccc; padding: 0.25rem 0.45rem; text-align: center; }}
td.off {{ background: #fbe3e3; }}
.confusion {{ display: inline-table; margin-right: 1rem; }}
li.regression {{ color: #b00020; }} li.better {{ color: #1b7a1b; }}
</style></head><body>
<h1>mlsd eval: {html.escape(run.engine)} — {status}</h1>
<p>{len(run.cases)} cases in {run.seconds:.1f} s. Rubrics: {html.escape(run.rubrics_dir)}.
Knowledge: {html.escape(run.knowledge_dir)}.</p>
<h2>Agreement with human labels</h2>{_bars(metrics)}
<p>Adversarial max {_fmt(metrics.adversarial_max)}; phase flow {_fmt(metrics.phase_flow)};
evidence verbatim {_fmt(metrics.evidence_validity)} of {metrics.evidence_quotes} quotes;
wrong claims challenged {_fmt(metrics.wrong_claims_challenged)} of {metrics.wrong_claims_heard} heard.</p>
{clarify}
<h2>Gate</h2><ul>{gate_items or "<li>nothing changed</li>"}</ul>
<h2>Per-phase confusion (rows: human level, columns: engine level)</h2>{confusion}
<h2>Cases (engine score, change against the baseline, human label)</h2>
<table><tr><th>case</th><th>split</th><th>profile</th>{phase_heads}<th>probes hit@3</th><th>flow</th></tr>
{"".join(rows)}</table>
</body></html>
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
