"""``pgcrisis logs`` on a terminal: the first screen is what a tired person on call needs.

In order: what was read and the window, the records by severity, the lines not understood,
the findings (printed as triage prints them), the worst minutes, then the errors by
SQLSTATE, the minute table (only minutes with something), the slow statements and views,
and how the report was made. On a terminal long tables are cut (the rest: ``--format json``
or ``html``); piped or redirected, every row is printed and no line is cut.

Renderers never compute: every figure comes with the :class:`LogReport`.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pgcrisis import durations, shorten
from pgcrisis.logs.summary import LogReport, TimedGroup
from pgcrisis.presentation import logs_text
from pgcrisis.presentation.triage_terminal import STYLE, log_lines

#: rows a table shows on a terminal before "N more" (all of them when piped)
ROWS = 15
#: minutes the minute table shows on a terminal
MINUTE_ROWS = 240
#: where the rest is, said wherever a table is cut
MORE = "--format json or html"


def _heading(console: Console, text: str) -> None:
    console.print()
    console.print(Text(text, style="bold"))


def _cut(console: Console, rows: Sequence[object], limit: int, plain: bool) -> int:
    """How many rows to print: all when plain, else at most ``limit``."""
    return len(rows) if plain else min(limit, len(rows))


def _more(console: Console, rows: Sequence[object], shown: int, what: str) -> None:
    if shown < len(rows):
        console.print(Text(f"… {len(rows) - shown:,} more {what} ({MORE})", style="dim"))


def _header(report: LogReport, console: Console, plain: bool) -> None:
    console.print(Text.assemble(("pgcrisis logs ", "bold"), logs_text.source_line(report)),
                  soft_wrap=plain)
    console.print(Text(logs_text.window_line(report)), soft_wrap=plain)
    line = Text()
    for text, style in logs_text.severity_parts(report):
        if line:
            line.append(" · ", style="dim")
        line.append(text, style=style)
    console.print(line, soft_wrap=plain)
    unread = report.source.unread.count
    console.print(Text(logs_text.unread_line(report), style="yellow" if unread else "dim"),
                  soft_wrap=plain)


def _findings(report: LogReport, console: Console, plain: bool) -> None:
    """One line per finding and its remedy's summary: the first screen keeps room for the
    worst minutes; each in full is ``triage --log``'s."""
    if not report.findings:
        console.print(Text("No findings from the log: nothing above info.", style="green"))
        return
    for number, f in enumerate(report.findings, 1):
        console.print(Text.assemble(
            (f"{number:>2}. ", "dim"), (f" {f.severity.value.upper()} ", STYLE[f.severity]),
            " ", f.title, (f"  {f.code}", "dim")), soft_wrap=plain)
        where = f.evidence.get("log")
        said = f"     {f.remedy.summary}" if f.remedy is not None else ""
        if isinstance(where, dict):
            said += f" [from {log_lines(where)}]"
        if said:
            console.print(Text(said, style="dim"), soft_wrap=plain)
    console.print(Text("     Each in full (evidence, remedy, log lines): pgcrisis triage --log "
                       "with the same files", style="dim"), soft_wrap=plain)


def _worst(report: LogReport, console: Console, plain: bool) -> None:
    if not report.worst:
        return
    _heading(console, f"Worst minutes ({logs_text.zone_name(report)})")
    for minute in report.worst:
        console.print(Text.assemble((f"  {logs_text.minute_label(report, minute.start)}  ",
                                     "bold"), logs_text.trouble(report, minute)),
                      soft_wrap=plain)


def _table(title: str, plain: bool, expand: bool = True) -> Table:
    return Table(title=title, title_justify="left", title_style="bold", box=None,
                 padding=(0, 1), expand=expand and not plain, show_edge=False)


def _errors(report: LogReport, console: Console, plain: bool) -> None:
    if not report.errors:
        return
    console.print()
    table = _table(f"Errors by SQLSTATE ({logs_text.zone_name(report)})", plain)
    for name in ("count", "severity", "SQLSTATE", "when"):
        table.add_column(name, no_wrap=True, justify="right" if name == "count" else "left")
    table.add_column("message", overflow="fold" if plain else "ellipsis", no_wrap=not plain,
                     ratio=1)
    n = _cut(console, report.errors, ROWS, plain)
    for e in report.errors[:n]:
        table.add_row(f"{e.count:,}", Text(e.severity, logs_text.SEVERITY_STYLE.get(
            e.severity, "")), e.sqlstate or "-", logs_text.span(report, e.first, e.last),
            e.message if plain else shorten.one_line(e.message, 200))
    console.print(table, soft_wrap=plain)
    _more(console, report.errors, n, "error groups")


def _minutes(report: LogReport, console: Console, plain: bool) -> None:
    if not report.minutes:
        return
    console.print()
    table = _table(f"Minute by minute, minutes with something ({logs_text.zone_name(report)})",
                   plain, expand=False)
    table.add_column("minute", no_wrap=True)
    for _, label, _ in report.columns:
        table.add_column(label, justify="right", no_wrap=True)
    table.add_column("slowest", justify="right", no_wrap=True)
    n = _cut(console, report.minutes, MINUTE_ROWS, plain)
    for m in report.minutes[:n]:
        cells = [f"{m.counts.get(key, 0):,}" if m.counts.get(key) else "·"
                 for key, _, _ in report.columns]
        table.add_row(logs_text.minute_label(report, m.start), *cells,
                      durations.ms(m.slow_max_ms) if m.slow_max_ms else "·")
    console.print(table, soft_wrap=plain)
    _more(console, report.minutes, n, "minutes")


def _timed(console: Console, title: str, rows: Sequence[TimedGroup], what: str,
           plain: bool) -> None:
    if not rows:
        return
    console.print()
    table = _table(title, plain)
    for name in ("count", "total", "p95", "max"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column(what, overflow="fold" if plain else "ellipsis", no_wrap=not plain,
                     ratio=1)
    n = _cut(console, rows, ROWS, plain)
    for g in rows[:n]:
        table.add_row(f"{g.count:,}", durations.ms(g.total_ms), durations.ms(g.p95_ms),
                      durations.ms(g.max_ms), g.key if plain else shorten.query(g.key, 300))
    console.print(table, soft_wrap=plain)
    _more(console, rows, n, what + "s")


def render(report: LogReport, console: Console, *, plain: bool | None = None) -> None:
    """Print the report (``plain``, default when ``console`` is not a terminal: every row,
    no line cut)."""
    plain = not console.is_terminal if plain is None else plain
    _header(report, console, plain)
    console.print()
    _findings(report, console, plain)
    _worst(report, console, plain)
    _errors(report, console, plain)
    _minutes(report, console, plain)
    _timed(console, "Slow statements (by total time; p95 within 9 %)", report.slow,
           "statement", plain)
    _timed(console, "Views (sqlcommenter tags of the slow statements)", report.views, "view",
           plain)
    if report.notes:
        _heading(console, "How this report was made")
        for note in report.notes:
            console.print(Text(f"  {note}", style="dim"), soft_wrap=plain)
