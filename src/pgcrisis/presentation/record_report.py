"""``pgcrisis report``: the incident's timeline for a window of a recording, as Markdown that
pastes into an incident channel, or one self-contained HTML page (inline SVG, no scripts).
Draws only: the figures come from :mod:`pgcrisis.history.timeline` and the window's report."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from pgcrisis.history.timeline import ROWS, Minute, sparkline
from pgcrisis.judge import TriageReport
from pgcrisis.quantities import figure
from pgcrisis.when import shown


def _value(minute: Minute, attribute: str) -> float:
    return float(getattr(minute, attribute))


def markdown(report: TriageReport, minutes: Sequence[Minute]) -> str:
    """The picture as sparklines (one character a minute), the per-minute table, the
    window's findings with when each held."""
    assert report.recording is not None
    rec = report.recording
    lines = [f"## Incident timeline — {report.snapshot.server.database}, "
             f"{shown(rec.start)} to {shown(rec.end)}", "",
             f"Recording `{rec.name}`, {sum(m.samples for m in minutes)} samples. "
             "One character a minute; each row scaled to its own peak.", "", "```"]
    width = max(len(label) for label, _, _ in ROWS)
    for label, attribute, unit in ROWS:
        values = [_value(m, attribute) for m in minutes]
        lines.append(f"{label:<{width}}  {sparkline(values)}  peak "
                     f"{figure(max(values, default=0), unit)}")
    lines += ["```", "", "| minute | active | lock waiters | refreshes | job runs | "
              "statement time |", "|---|---:|---:|---:|---:|---:|"]
    for m in minutes:
        lines.append(f"| {shown(m.start)[:16]} | {m.active} | {m.waiting} | {m.refreshing} | "
                     f"{m.job_runs} | {m.statement_ms:,.0f} ms |")
    lines += ["", f"### Findings of the window ({len(report.findings)})", ""]
    for f in report.findings:
        lines.append(f"- **{f.severity.value}** `{f.code}` {f.title}")
        if f.remedy is not None:
            lines.append(f"  - remedy: {f.remedy.summary}")
    if not report.findings:
        lines.append("Nothing above info in the window.")
    return "\n".join(lines) + "\n"


_W, _H, _GAP = 900, 46, 10


def _chart(label: str, values: Sequence[float], unit: str, y: int) -> str:
    top = max(values, default=0) or 1
    step = _W / max(len(values), 1)
    bars = "".join(
        f'<rect x="{i * step:.1f}" y="{y + _H - v / top * _H:.1f}" width="{max(step - 1, 1):.1f}"'
        f' height="{v / top * _H:.1f}"><title>{figure(v, unit)}</title></rect>'
        for i, v in enumerate(values))
    return (f'<text x="0" y="{y - 2}">{escape(label)} (peak {figure(max(values, default=0), unit)})'
            f'</text><g class="bars">{bars}</g>')


def html(report: TriageReport, minutes: Sequence[Minute]) -> str:
    """One self-contained page: a bar chart per measure, then the window's findings."""
    assert report.recording is not None
    rec = report.recording
    height = len(ROWS) * (_H + 2 * _GAP + 12)
    charts = "".join(_chart(label, [_value(m, a) for m in minutes], unit,
                            14 + i * (_H + 2 * _GAP + 12))
                     for i, (label, a, unit) in enumerate(ROWS))
    axis = (f'<text x="0" y="{height}">{escape(shown(minutes[0].start))}</text>'
            f'<text x="{_W}" y="{height}" text-anchor="end">{escape(shown(minutes[-1].start))}'
            "</text>") if minutes else ""
    items = "".join(
        f'<li class="{f.severity.value}"><b>{f.severity.value}</b> <code>{escape(f.code)}</code>'
        f" {escape(f.title)}" + (f"<br><small>{escape(f.remedy.summary)}</small>"
                                 if f.remedy else "") + "</li>" for f in report.findings)
    return f"""<!doctype html><html><head><meta charset="utf-8">
<title>pgcrisis report {escape(rec.name)}</title><style>
body{{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}}
svg text{{font:12px sans-serif}} .bars rect{{fill:#3a7bd5}}
li.critical b{{color:#c00}} li.warning b{{color:#b70}} li{{margin:4px 0}}
</style></head><body>
<h1>Incident timeline — {escape(report.snapshot.server.database)}</h1>
<p>{escape(shown(rec.start))} to {escape(shown(rec.end))}, recording <code>{escape(rec.name)}
</code>, {sum(m.samples for m in minutes)} samples; one bar a minute, each chart scaled to its
own peak.</p>
<svg width="{_W}" height="{height + 6}" viewBox="0 0 {_W} {height + 6}">{charts}{axis}</svg>
<h2>Findings of the window ({len(report.findings)})</h2>
<ul>{items or "<li>Nothing above info in the window.</li>"}</ul>
</body></html>
"""
