"""The default ``pgcrisis triage`` output: root causes first, in full; the rest one line each.

In a crisis a person reads the first screen. So by default the worst root causes (findings no
other finding explains) come first, in full: title, detail, evidence, remedy and its SQL. Every
other finding (the remaining causes, and the consequences beneath them, ``↳ #n`` naming their
cause) follows as one row of a short table. With ``panels=None`` (``pgcrisis triage --all``,
``pgcrisis demo --full-report``) every finding is printed in full, each cause followed by its
consequences, a grouped finding with each of its members.

On a terminal, findings are boxed panels and table rows are cut to the width, with an
ellipsis, so each stays one line. Anywhere else (a file, a pipe: ``plain``) nothing is cut or
wrapped: each finding, row and statement is printed whole, without boxes, whatever the width.

Renderers never compute: grouping, ranking and cause links come with the report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from pgcrisis.checks.grouping import member_titles
from pgcrisis.judge import TriageReport
from pgcrisis.model.findings import Finding, JsonValue, Severity
from pgcrisis.presentation import load_text

STYLE = {Severity.CRITICAL: "bold white on red", Severity.WARNING: "bold black on yellow",
         Severity.INFO: "bold white on blue"}
BORDER = {Severity.CRITICAL: "red", Severity.WARNING: "yellow", Severity.INFO: "blue"}

#: lines of remedy SQL a finding shows before "… N more statements" (all of them with --all)
SQL_LINES = 3
#: list entries an evidence value shows before "+N more" (all of them with --all)
LIST_ITEMS = 4
#: evidence figures a finding shows (checks put the telling ones first; all with --all)
EVIDENCE_ITEMS = 6
#: where the rest is: said wherever a finding or its SQL is shortened
MORE = "pgcrisis triage --all, or --format json"


@dataclass(frozen=True, slots=True)
class _Shown:
    """A finding in print order: its number, tree depth, and its first cause's number."""

    number: int
    finding: Finding
    depth: int
    cause: int | None


def _layout(report: TriageReport, panels: int | None) -> tuple[list[_Shown], list[_Shown]]:
    """``(in full, as rows)``: with ``panels`` set, that many root causes in full, then every
    other finding in tree order; else every finding in full, in tree order."""
    order = report.tree()
    if panels is None:
        full, rest = order, []
    else:
        roots = [(i, d) for i, d in order if d == 0][:max(panels, 0)]
        chosen = {i for i, _ in roots}
        full, rest = roots, [(i, d) for i, d in order if i not in chosen]
    number = {i: n for n, (i, _) in enumerate([*full, *rest], 1)}

    def shown(i: int, depth: int) -> _Shown:
        causes = report.caused_by[i] if i < len(report.caused_by) else ()
        return _Shown(number[i], report.findings[i], depth,
                      number[causes[0]] if causes else None)

    return [shown(i, d) for i, d in full], [shown(i, d) for i, d in rest]


# -- values ---------------------------------------------------------------------------------


def _value(v: JsonValue, full: bool) -> str:
    """An evidence value in a few characters (lists shortened unless ``full``).

    >>> _value(4.196559, False), _value(11815.7, False), _value(5995, False), _value(None, False)
    ('4.2', '11,816', '5995', '-')
    >>> _value(["a", "b", "c", "d", "e", "f"], False), _value([{"x": 1}], False)
    ('a, b, c, d +2 more', '1 entry')
    >>> _value({"file": "pg.log", "lines": [17, 20], "records": 4}, False)
    'pg.log lines 17-20 (4 records)'
    """
    if v is None:
        return "-"
    if isinstance(v, dict):
        if "file" in v and "lines" in v:  # the log lines a finding of the log comes from
            return log_lines(v)
        return ", ".join(f"{k} {_value(x, full)}" for k, x in v.items())
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"
    if isinstance(v, list | tuple):
        if any(isinstance(x, dict | list) for x in v):
            return f"{len(v)} entr{'y' if len(v) == 1 else 'ies'}"
        shown = v if full or len(v) <= LIST_ITEMS + 1 else v[:LIST_ITEMS]
        more = f" +{len(v) - len(shown)} more" if len(shown) < len(v) else ""
        return ", ".join(_value(x, full) for x in shown) + more
    return str(v)


def log_lines(ref: Mapping[str, JsonValue]) -> str:
    """Where in the log a finding of the log was read (its evidence's ``log``)."""
    lines = ref.get("lines") or [0, 0]
    at = f"line {lines[0]}" if lines[0] == lines[-1] else f"lines {lines[0]}-{lines[-1]}"
    more = ref.get("files")
    files = f" (and {len(more) - 1} more files)" if isinstance(more, list) and len(more) > 1 else ""
    n = ref.get("records")
    records = f" ({n:,} record{'s' * (n != 1)})" if isinstance(n, int) and n > 1 else ""
    return f"{ref.get('file', '?')} {at}{records}{files}"


def _evidence(evidence: Mapping[str, JsonValue], full: bool) -> Text:
    """``key=value · key=value`` on as few lines as the width allows (the first
    ``EVIDENCE_ITEMS`` unless ``full``); a grouped finding's ``items`` are its members, shown
    by the caller, not here."""
    pairs = [(k, v) for k, v in evidence.items() if k != "items"]
    shown = pairs if full or len(pairs) <= EVIDENCE_ITEMS + 1 else pairs[:EVIDENCE_ITEMS]
    text = Text()
    for key, value in shown:
        if text:
            text.append(" · ", style="dim")
        text.append(key + "=", style="dim")
        text.append(_value(value, full))
    if len(shown) < len(pairs):
        text.append(f" · +{len(pairs) - len(shown)} more", style="dim")
    return text


def _sql(f: Finding, full: bool) -> tuple[str, int]:
    """The remedy statements as SQL text (each ends with ``;``), and how many were left out
    (at most ``SQL_LINES`` lines unless ``full``; always at least one statement)."""
    if f.remedy is None:
        return "", 0
    statements = [s.rstrip().rstrip(";") + ";" for s in f.remedy.sql]
    kept: list[str] = []
    lines = 0
    for s in statements:
        n = s.count("\n") + 1
        if not full and kept and lines + n > SQL_LINES:
            break
        kept.append(s)
        lines += n
    return "\n".join(kept), len(statements) - len(kept)


def _header(row: _Shown, with_code: bool = True, with_title: bool = True) -> Text:
    f = row.finding
    header = Text.assemble((f" {f.severity.value.upper()} ", STYLE[f.severity]))
    if with_code:
        header.append(" " + f.code, style="bold")
    if with_title:
        header.append(("  " if with_code else " ") + f.title)
    return header


# -- terminal -------------------------------------------------------------------------------


def _panel(row: _Shown, full: bool, width: int) -> Panel:
    f = row.finding
    # severity and title go in the top border when they fit there, else the title goes first
    # in the body (never cut); the code and number go in the bottom border
    fits = cell_len(_header(row, with_code=False).plain) + 6 <= width
    parts: list[RenderableType] = []
    if not fits:
        parts.append(Text(f.title, style="bold"))
    if row.cause is not None:
        parts.append(Text(f"↳ consequence of #{row.cause}", style="bold"))
    parts.append(Text(f.detail))
    if f.evidence:
        parts.append(_evidence(f.evidence, full))
    members = member_titles(f) if full else []
    if members:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="dim")
        grid.add_column(style="dim")
        for title in members:
            grid.add_row(" •", title)
        parts.append(grid)
    if f.remedy is not None:
        parts.append(Text.assemble(("Remedy: ", "bold green"), f.remedy.summary))
        code, left_out = _sql(f, full)
        if code:
            parts.append(Syntax(code, "sql", theme="ansi_dark", word_wrap=True))
        if left_out:
            parts.append(Text(f"-- … {left_out} more statement{'s' if left_out > 1 else ''}"
                              f" ({MORE})", style="dim"))
    return Panel(Group(*parts), title=_header(row, with_code=False, with_title=fits),
                 title_align="left", border_style=BORDER[f.severity],
                 subtitle=Text.assemble((f.code, "bold"), f"  #{row.number}"),
                 subtitle_align="right")


def _row_title(row: _Shown) -> str:
    if row.cause is None:
        return row.finding.title
    return "  " * (row.depth - 1) + f"↳ #{row.cause} " + row.finding.title


def _rest_table(rows: Sequence[_Shown]) -> Table:
    table = Table(title=f"More findings (in full: {MORE})", title_justify="left",
                  title_style="bold", box=None, padding=(0, 1), show_header=False,
                  expand=True)
    # every column but the title keeps its width; the title takes the rest, cut at the end
    table.add_column("#", justify="right", style="dim", no_wrap=True,
                     min_width=max(len(str(r.number)) for r in rows))
    table.add_column("severity", no_wrap=True, min_width=8)
    table.add_column("code", style="bold", no_wrap=True,
                     min_width=max(len(r.finding.code) for r in rows))
    table.add_column("finding", no_wrap=True, overflow="ellipsis", ratio=1)
    for row in rows:
        f = row.finding
        table.add_row(str(row.number), Text(f.severity.value, style=BORDER[f.severity]),
                      f.code, _row_title(row))
    return table


# -- plain (files, pipes) ---------------------------------------------------------------------


def _plain_finding(console: Console, row: _Shown, full: bool) -> None:
    f = row.finding
    indent = "    " * row.depth
    line = Text(indent + f"#{row.number} ")
    line.append_text(_header(row))
    console.print(line, soft_wrap=True)
    body = indent + "    "
    if row.cause is not None:
        console.print(Text(f"{body}↳ consequence of #{row.cause}"), soft_wrap=True)
    console.print(Text(body + f.detail), soft_wrap=True)
    if f.evidence:
        console.print(Text(body).append_text(_evidence(f.evidence, full)), soft_wrap=True)
    if full:
        for title in member_titles(f):
            console.print(Text(f"{body}  • {title}"), soft_wrap=True)
    if f.remedy is not None:
        console.print(Text(body + "Remedy: " + f.remedy.summary), soft_wrap=True)
        code, left_out = _sql(f, full)
        for sql_line in code.splitlines():
            console.print(Text(body + "  " + sql_line), soft_wrap=True)
        if left_out:
            console.print(Text(f"{body}  -- … {left_out} more statement"
                               f"{'s' if left_out > 1 else ''} ({MORE})"), soft_wrap=True)


def _plain_rows(console: Console, rows: Sequence[_Shown]) -> None:
    console.print(Text(f"More findings (in full: {MORE}):"), soft_wrap=True)
    for row in rows:
        f = row.finding
        console.print(Text(f"{row.number:>3}  {f.severity.value:<8}  {f.code:<26}  "
                           + _row_title(row)), soft_wrap=True)


# -- the report -----------------------------------------------------------------------------


def _title_line(report: TriageReport) -> Text:
    s = report.snapshot.server
    counts = {sev: sum(1 for f in report.findings if f.severity is sev) for sev in Severity}
    return Text.assemble(
        ("pgcrisis triage ", "bold"), f"{s.database} @ PostgreSQL {s.server_version}  ",
        (f"{report.recording.line}  " if report.recording else "", "bold magenta"),
        (f"{counts[Severity.CRITICAL]} critical", "red"), " · ",
        (f"{counts[Severity.WARNING]} warning", "yellow"), " · ",
        (f"{counts[Severity.INFO]} info", "blue"),
        (f"   {report.duration_ms:.0f} ms, {report.queries or report.snapshot.query_count}"
         " queries", "dim"),
        (f", {len(report.databases)} databases" if len(report.databases) > 1 else "", "dim"),
    )


def _load_line(report: TriageReport) -> Text | None:
    """How long the load was sampled and where the active sessions' time went."""
    profile = report.snapshot.load
    return None if profile is None else Text(load_text.line(profile), style="dim")


def _skipped_line(report: TriageReport) -> Text:
    codes = ", ".join(dict.fromkeys(sk.check for sk in report.results.skipped))
    return Text(f"Skipped checks: {codes} (why: {MORE})", style="dim", no_wrap=True,
                overflow="ellipsis")


def _screen(report: TriageReport, console: Console, panels: int
            ) -> tuple[list[_Shown], list[_Shown]]:
    """The compact layout with as many of the first ``panels`` root causes in full as fit
    the terminal's height with everything else (at least one: the worst cause is always
    shown in full). Only layout is measured here; what is shown comes with the report."""
    def lines(renderable: RenderableType) -> int:
        return len(console.render_lines(renderable, console.options, pad=False))

    full, rows = _layout(report, panels)
    if len(full) <= 1:
        return full, rows
    load = _load_line(report)
    fixed = (lines(_title_line(report)) + (lines(load) if load is not None else 0)
             + (1 if report.results.skipped else 0))
    heights = [lines(_panel(row, False, console.width)) for row in full]
    for k in range(len(full), 1, -1):
        full, rows = _layout(report, k)
        if fixed + sum(heights[:k]) + (lines(_rest_table(rows)) if rows else 0) \
                <= console.height - 1:  # a line for the command (or the demo's step) above
            break
    else:
        full, rows = _layout(report, 1)
    return full, rows


def render(report: TriageReport, console: Console, *, panels: int | None = None,
           plain: bool | None = None) -> None:
    """Print the report: a header line, the first ``panels`` root causes in full, the other
    findings one row each, then what was skipped. ``panels=None`` prints every finding in
    full. ``plain`` (default: when ``console`` is not a terminal) prints without boxes and
    without wrapping or cutting any line; on a terminal, fewer root causes are printed in
    full when ``panels`` of them would not fit its height."""
    plain = not console.is_terminal if plain is None else plain
    full = panels is None
    console.print(_title_line(report), soft_wrap=plain)
    load = _load_line(report)
    if load is not None:
        console.print(load, soft_wrap=plain)
    if not report.findings:
        console.print(Text("No findings: nothing above info.", style="green"))
    if panels is None or plain:
        in_full, rows = _layout(report, panels)
    else:
        in_full, rows = _screen(report, console, panels)
    for row in in_full:
        if plain:
            _plain_finding(console, row, full)
            continue
        panel = _panel(row, full, console.width - 4 * row.depth)
        console.print(Padding(panel, (0, 0, 0, 4 * row.depth)) if row.depth else panel)
    if rows:
        if plain:
            _plain_rows(console, rows)
        else:
            console.print(_rest_table(rows))
    if report.results.skipped and not full and not plain:
        console.print(_skipped_line(report))
    elif report.results.skipped:
        console.print(Text("Skipped checks:", style="dim bold"), soft_wrap=plain)
        for sk in report.results.skipped:
            console.print(Text(f"  {sk.check}: {sk.reason}", style="dim"), soft_wrap=plain)
