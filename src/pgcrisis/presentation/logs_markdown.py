"""``pgcrisis logs --format markdown``: pasteable into an incident update or a ticket; the
findings as triage's Markdown writes them, then the worst minutes and every table in full."""

from __future__ import annotations

from collections.abc import Sequence

from pgcrisis import durations, shorten
from pgcrisis.logs.summary import LogReport, TimedGroup
from pgcrisis.presentation import logs_text
from pgcrisis.presentation.triage_markdown import finding_section


def _cell(text: str) -> str:
    return shorten.one_line(text, 10_000).replace("|", "\\|")


def _timed(title: str, rows: Sequence[TimedGroup], what: str) -> list[str]:
    if not rows:
        return []
    lines = [f"### {title}", "", f"| count | total | p95 | max | {what} |",
             "|--:|--:|--:|--:|---|"]
    lines += [f"| {g.count:,} | {durations.ms(g.total_ms)} | {durations.ms(g.p95_ms)} | "
              f"{durations.ms(g.max_ms)} | `{_cell(g.key)}` |" for g in rows]
    return [*lines, ""]


def _errors(report: LogReport, zone: str) -> list[str]:
    if not report.errors:
        return []
    lines = [f"### Errors by SQLSTATE ({zone})", "",
             "| count | severity | SQLSTATE | when | message |", "|--:|---|---|---|---|"]
    lines += [f"| {e.count:,} | {e.severity} | {e.sqlstate or '-'} | "
              f"{logs_text.span(report, e.first, e.last)} | {_cell(e.message)} |"
              for e in report.errors]
    return [*lines, ""]


def _minutes(report: LogReport, zone: str) -> list[str]:
    if not report.minutes:
        return []
    labels = [label for _, label, _ in report.columns]
    lines = [f"### Minute by minute, minutes with something ({zone})", "",
             "| minute | " + " | ".join(labels) + " | slowest |",
             "|---|" + "--:|" * (len(labels) + 1)]
    for m in report.minutes:
        cells = [f"{m.counts.get(key, 0):,}" if m.counts.get(key) else "·"
                 for key, _, _ in report.columns]
        lines.append(f"| {logs_text.minute_label(report, m.start)} | " + " | ".join(cells)
                     + f" | {durations.ms(m.slow_max_ms) if m.slow_max_ms else '·'} |")
    return [*lines, ""]


def render(report: LogReport) -> str:
    """Markdown text."""
    zone = logs_text.zone_name(report)
    lines = [f"## pgcrisis logs — {logs_text.source_line(report)}", "",
             logs_text.window_line(report), "",
             " · ".join(text for text, _ in logs_text.severity_parts(report)), "",
             logs_text.unread_line(report), ""]
    if report.findings:
        for number, finding in enumerate(report.findings, 1):
            lines += finding_section(number, finding)
    else:
        lines += ["No findings from the log: nothing above info.", ""]
    if report.worst:
        lines += [f"### Worst minutes ({zone})", ""]
        lines += [f"- **{logs_text.minute_label(report, m.start)}** "
                  f"{logs_text.trouble(report, m)}" for m in report.worst]
        lines.append("")
    lines += _errors(report, zone)
    lines += _minutes(report, zone)
    lines += _timed("Slow statements (by total time; p95 within 9 %)", report.slow,
                    "statement")
    lines += _timed("Views (sqlcommenter tags of the slow statements)", report.views, "view")
    if report.notes:
        lines += ["### How this report was made", "", *(f"- {n}" for n in report.notes), ""]
    return "\n".join(lines)
