"""The sentences of ``pgcrisis logs``' report, written once for the terminal, Markdown and
HTML alike: what was read, the window, the severities, the lines not understood, a minute's
label and its trouble. Times are shown in the report's zone, which every heading names."""

from __future__ import annotations

from datetime import datetime

from pgcrisis import durations, quantities, shorten
from pgcrisis.logs.summary import LogReport, Minute
from pgcrisis.when import shown

#: severities shown in colour, and how (terminal styles; Markdown and HTML ignore them)
SEVERITY_STYLE = {"PANIC": "bold red", "FATAL": "red", "ERROR": "red", "WARNING": "yellow"}
#: a minute's SQLSTATEs named beside its errors
STATES_NAMED = 3


def source_line(report: LogReport) -> str:
    """``app.log (stderr, log_line_prefix '%m [%p] ' inferred from the lines)``."""
    s = report.source
    files = shorten.listed(list(s.files), 3) if s.files else "stdin"
    how = [s.format or "format unknown"]
    if s.wrapper:
        how.append(f"in {s.wrapper}")
    if s.prefix is not None:
        said = {"given": "as given", "server": "the server's",
                "inferred": "inferred from the lines"}.get(s.prefix_source, s.prefix_source)
        how.append(f"log_line_prefix {s.prefix!r} {said}".rstrip())
    return f"{files} ({', '.join(how)})"


def window_line(report: LogReport) -> str:
    """``2026-11-26 09:00:03 CET to 2026-11-26 11:59:58 CET (2 h 59 min) · 120,345 records``
    and the window asked, when one was."""
    z = report.zone
    line = (f"{shown(report.start, z)} to {shown(report.end, z)} "
            f"({durations.words((report.end - report.start).total_seconds())}) · "
            f"{quantities.figure(report.records, 'records', singular=True)}")
    start, end = report.asked
    if start is not None or end is not None:
        line += (f" · asked: {shown(start, z) if start else 'the start'} to "
                 f"{shown(end, z) if end else 'the end'}")
    return line


def severity_parts(report: LogReport) -> list[tuple[str, str]]:
    """``[("ERROR 1,234", "red"), ("LOG 119,000", "")]``: every severity seen, worst first."""
    return [(f"{sev} {n:,}", SEVERITY_STYLE.get(sev, "")) for sev, n in report.severities]


def unread_line(report: LogReport) -> str:
    """``1,204 lines of 2.1M not understood; first at app.log:88: …`` (or that all were)."""
    s = report.source
    u = s.unread
    if not u.count:
        return f"every line understood ({quantities.count(s.lines)} lines)"
    return (f"{u.count:,} lines of {quantities.count(s.lines)} not understood; first at "
            f"{u.file}:{u.line}: {shorten.one_line(u.text, 100)}")


def zone_name(report: LogReport) -> str:
    """The zone the report's times are in, as its first moment names it."""
    local = report.start.astimezone(report.zone)
    return local.tzname() or local.strftime("%z")


def minute_label(report: LogReport, moment: datetime) -> str:
    """``09:14``, or ``11-26 09:14`` when the report spans more than one day."""
    z = report.zone
    several = report.start.astimezone(z).date() != report.end.astimezone(z).date()
    return moment.astimezone(z).strftime("%m-%d %H:%M" if several else "%H:%M")


def trouble(report: LogReport, minute: Minute) -> str:
    """What went wrong in a minute: ``312 errors (53300 x300, 22012 x12) · 4 lock waits ·
    slowest 12.3 s`` (with a multiplication sign)."""
    parts = []
    for key, label, one in report.columns:
        n = minute.counts.get(key, 0)
        if not n:
            continue
        text = f"{n:,} {one if n == 1 else label}"
        if key == "errors" and minute.sqlstates:
            states = [f"{state or 'no SQLSTATE'} ×{k:,}"
                      for state, k in minute.sqlstates[:STATES_NAMED]]
            more = len(minute.sqlstates) - STATES_NAMED
            text += f" ({', '.join(states)}{f' +{more} more' if more > 0 else ''})"
        parts.append(text)
    if minute.slow_max_ms:
        parts.append(f"slowest {durations.ms(minute.slow_max_ms)}")
    return " · ".join(parts)


def span(report: LogReport, first: datetime, last: datetime) -> str:
    """``09:14-09:31`` with an en dash (one label when both are the same minute)."""
    a, b = minute_label(report, first), minute_label(report, last)
    return a if a == b else f"{a}–{b}"
