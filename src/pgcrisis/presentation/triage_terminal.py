"""The default ``pgcrisis triage`` output: a rich report, worst first."""

from __future__ import annotations

from rich.console import Console, Group
from rich.padding import Padding
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from pgcrisis.model.findings import Finding, Severity
from pgcrisis.triage import TriageReport

STYLE = {Severity.CRITICAL: "bold white on red", Severity.WARNING: "bold black on yellow",
         Severity.INFO: "bold white on blue"}
BORDER = {Severity.CRITICAL: "red", Severity.WARNING: "yellow", Severity.INFO: "blue"}


def _finding_panel(index: int, f: Finding, cause: int | None = None) -> Panel:
    parts: list[Text | Syntax | Table] = []
    if cause is not None:
        parts.append(Text(f"↳ consequence of #{cause}", style="bold"))
    parts.append(Text(f.detail))
    if f.evidence:
        ev = Table.grid(padding=(0, 2))
        ev.add_column(style="dim")
        ev.add_column()
        for key, value in list(f.evidence.items())[:10]:
            ev.add_row(key, str(value))
        parts.append(ev)
    if f.remedy is not None:
        parts.append(Text.assemble(("Remedy: ", "bold green"), f.remedy.summary))
        if f.remedy.sql:
            code = "\n".join(s.rstrip(";") + ";" for s in f.remedy.sql)
            parts.append(Syntax(code, "sql", theme="ansi_dark", word_wrap=True))
    header = Text.assemble((f" {f.severity.value.upper()} ", STYLE[f.severity]), " ",
                           (f.code, "bold"), "  ", f.title)
    return Panel(Group(*parts), title=header, title_align="left",
                 border_style=BORDER[f.severity], subtitle=f"#{index}", subtitle_align="right")


def _rest_table(findings: list[tuple[int, Finding, int]]) -> Table:
    table = Table(title="More findings", title_justify="left", box=None, padding=(0, 1))
    table.add_column("#", justify="right", style="dim")
    table.add_column("severity")
    table.add_column("code", style="bold")
    table.add_column("title", overflow="fold")
    for index, f, depth in findings:
        table.add_row(str(index), Text(f.severity.value, style=BORDER[f.severity]), f.code,
                      ("  " * depth + "↳ " if depth else "") + f.title)
    return table


def render(report: TriageReport, console: Console, *, panels: int | None = None) -> None:
    """Print the report: a header line, one panel per finding (the first ``panels`` only,
    the rest one line each), then what was skipped."""
    s = report.snapshot.server
    counts = {sev: sum(1 for f in report.findings if f.severity is sev) for sev in Severity}
    console.print(Text.assemble(
        ("pgcrisis triage ", "bold"), f"{s.database} @ PostgreSQL {s.server_version}  ",
        (f"{counts[Severity.CRITICAL]} critical", "red"), " · ",
        (f"{counts[Severity.WARNING]} warning", "yellow"), " · ",
        (f"{counts[Severity.INFO]} info", "blue"),
        (f"   {report.duration_ms:.0f} ms, {report.queries or report.snapshot.query_count}"
         " queries", "dim"),
        (f", {len(report.databases)} databases" if len(report.databases) > 1 else "", "dim"),
    ))
    if not report.findings:
        console.print(Text("No findings: nothing above info.", style="green"))
    # print order: each root cause, then its consequences beneath it (indented)
    order = report.tree()
    number = {index: n for n, (index, _) in enumerate(order, 1)}
    parent = {index: number[causes[0]] for index, causes in enumerate(report.caused_by)
              if causes}
    ranked = [(number[i], report.findings[i], depth, parent.get(i)) for i, depth in order]
    limit = len(ranked) if panels is None else panels
    for n, f, depth, cause in ranked[:limit]:
        panel = _finding_panel(n, f, cause)
        console.print(Padding(panel, (0, 0, 0, 4 * depth)) if depth else panel)
    if ranked[limit:]:
        console.print(_rest_table([(n, f, depth) for n, f, depth, _ in ranked[limit:]]))
    if report.results.skipped:
        console.print(Text("Skipped checks:", style="dim bold"))
        for sk in report.results.skipped:
            console.print(Text(f"  {sk.check}: {sk.reason}", style="dim"))
