"""``pgcrisis logs --format html``: one self-contained page (inline CSS and SVG, no scripts,
no network), to attach to an incident or open on a laptop without pgcrisis.

The charts are small multiples: one strip per column of the minute table (errors, refused
connections, lock waits, slow statements...), each on its own scale over the same time axis,
so three lock waits are as visible as three thousand errors beside them.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from pgcrisis import durations
from pgcrisis.logs.summary import LogReport, TimedGroup
from pgcrisis.model.findings import Finding
from pgcrisis.presentation import logs_text

WIDTH = 1100
STRIP = 54
LEFT = 150
#: a strip's colour per column key (others: grey)
COLOURS = {"errors": "#c62828", "refused-connection": "#ad1457", "lock-wait": "#ef6c00",
           "deadlock": "#6a1b9a", "cancelled": "#f9a825", "crash": "#000000",
           "checkpoint": "#1565c0", "slow-statement": "#2e7d32", "temp-file": "#00838f"}
_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}
h1{font-size:1.3em} h2{font-size:1.1em;margin-top:1.5em}
.note{color:#666} .unread{color:#a60}
table{border-collapse:collapse} td,th{padding:2px 10px 2px 0;text-align:left;vertical-align:top}
td.n,th.n{text-align:right} code{white-space:pre-wrap}
.finding{border-left:5px solid #39c;padding:4px 10px;margin:8px 0;background:#f6f9fc}
.finding.critical{border-color:#c00;background:#fdf2f2}
.finding.warning{border-color:#e90;background:#fdf8ee}
.finding pre{background:#eef;padding:4px;margin:4px 0}
.sev{font-weight:bold;padding:0 4px;color:#fff;background:#39c}
.sev.critical{background:#c00} .sev.warning{background:#e90;color:#000}
svg text{font:11px sans-serif}
"""


def _finding(f: Finding) -> str:
    sev = escape(f.severity.value)
    remedy = ""
    if f.remedy is not None:
        sql = "".join(f"<pre>{escape(s.rstrip().rstrip(';'))};</pre>" for s in f.remedy.sql)
        remedy = f"<p><b>Remedy:</b> {escape(f.remedy.summary)}</p>{sql}"
    return (f"<div class='finding {sev}'><span class='sev {sev}'>{sev.upper()}</span> "
            f"<b>{escape(f.code)}</b> {escape(f.title)}<p>{escape(f.detail)}</p>{remedy}"
            "</div>")


def chart(report: LogReport) -> str:
    """The minute table as SVG strips, one per column, time across."""
    if not report.minutes or not report.columns:
        return ""
    t0 = report.start.timestamp() // 60 * 60
    span = max(60.0, report.end.timestamp() - t0 + 60)
    plot = WIDTH - LEFT - 10
    bar = max(1.0, plot * 60 / span - 1)
    body = []
    for row, (key, label, _) in enumerate(report.columns):
        top = row * STRIP
        peak = max(m.counts.get(key, 0) for m in report.minutes) or 1
        body.append(f"<text x='0' y='{top + STRIP / 2:.0f}'>{escape(label)} "
                    f"(peak {peak:,})</text>")
        body.append(f"<line x1='{LEFT}' x2='{WIDTH - 10}' y1='{top + STRIP - 4}' "
                    f"y2='{top + STRIP - 4}' stroke='#ccc'/>")
        colour = COLOURS.get(key, "#757575")
        for m in report.minutes:
            n = m.counts.get(key, 0)
            if not n:
                continue
            h = max(1.0, (STRIP - 10) * n / peak)
            x = LEFT + plot * (m.start.timestamp() - t0) / span
            body.append(f"<rect x='{x:.1f}' y='{top + STRIP - 4 - h:.1f}' width='{bar:.1f}' "
                        f"height='{h:.1f}' fill='{colour}'><title>"
                        f"{escape(logs_text.minute_label(report, m.start))}: {n:,} "
                        f"{escape(label)}</title></rect>")
    height = len(report.columns) * STRIP + 18
    axis = (f"<text x='{LEFT}' y='{height - 4}'>"
            f"{escape(logs_text.minute_label(report, report.start))}</text>"
            f"<text x='{WIDTH - 10}' y='{height - 4}' text-anchor='end'>"
            f"{escape(logs_text.minute_label(report, report.end))} "
            f"({escape(logs_text.zone_name(report))})</text>")
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{height}' "
            f"viewBox='0 0 {WIDTH} {height}' role='img' aria-label='minute by minute'>"
            + "".join(body) + axis + "</svg>")


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], numeric: int) -> str:
    """An HTML table whose first ``numeric`` columns are right-aligned numbers."""
    def cells(row: Sequence[str], tag: str) -> str:
        return "".join(f"<{tag}{' class=n' if i < numeric else ''}>{escape(c)}</{tag}>"
                       for i, c in enumerate(row))
    return ("<table><tr>" + cells(head, "th") + "</tr>"
            + "".join("<tr>" + cells(r, "td") + "</tr>" for r in rows) + "</table>")


def _timed(title: str, rows: Sequence[TimedGroup], what: str) -> str:
    if not rows:
        return ""
    return f"<h2>{escape(title)}</h2>" + _table(
        ("count", "total", "p95", "max", what),
        [(f"{g.count:,}", durations.ms(g.total_ms), durations.ms(g.p95_ms),
          durations.ms(g.max_ms), g.key) for g in rows], 4)


def _sections(report: LogReport, zone: str) -> list[str]:
    parts = []
    if report.worst:
        parts.append(f"<h2>Worst minutes ({escape(zone)})</h2><ul>" + "".join(
            f"<li><b>{escape(logs_text.minute_label(report, m.start))}</b> "
            f"{escape(logs_text.trouble(report, m))}</li>" for m in report.worst) + "</ul>")
    if report.minutes:
        parts.append(f"<h2>Minute by minute ({escape(zone)})</h2>" + chart(report))
    if report.errors:
        parts.append(f"<h2>Errors by SQLSTATE ({escape(zone)})</h2>" + _table(
            ("count", "severity", "SQLSTATE", "when", "message"),
            [(f"{e.count:,}", e.severity, e.sqlstate or "-",
              logs_text.span(report, e.first, e.last), e.message) for e in report.errors], 1))
    if report.minutes:
        parts.append("<details><summary>The minute table</summary>" + _table(
            ("minute", *(label for _, label, _ in report.columns), "slowest"),
            [(logs_text.minute_label(report, m.start),
              *(f"{m.counts.get(k, 0):,}" for k, _, _ in report.columns),
              durations.ms(m.slow_max_ms) if m.slow_max_ms else "") for m in report.minutes],
            0) + "</details>")
    parts.append(_timed("Slow statements (by total time; p95 within 9 %)", report.slow,
                        "statement"))
    parts.append(_timed("Views (sqlcommenter tags of the slow statements)", report.views,
                        "view"))
    if report.notes:
        parts.append("<h2>How this report was made</h2><ul>"
                     + "".join(f"<li>{escape(n)}</li>" for n in report.notes) + "</ul>")
    return parts


def render(report: LogReport) -> str:
    """The page."""
    zone = logs_text.zone_name(report)
    severities = " · ".join(escape(text) for text, _ in logs_text.severity_parts(report))
    findings = ("".join(_finding(f) for f in report.findings) if report.findings
                else "<p>No findings from the log: nothing above info.</p>")
    unread = " unread" if report.source.unread.count else " note"
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>pgcrisis logs</title><style>{_CSS}</style></head><body>"
            f"<h1>pgcrisis logs — {escape(logs_text.source_line(report))}</h1>"
            f"<p>{escape(logs_text.window_line(report))}</p><p>{severities}</p>"
            f"<p class='{unread.strip()}'>{escape(logs_text.unread_line(report))}</p>"
            f"<h2>Findings</h2>{findings}" + "".join(_sections(report, zone))
            + "</body></html>\n")
