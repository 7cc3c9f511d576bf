"""``pgcrisis triage --format markdown``: pasteable into an incident update or a ticket."""

from __future__ import annotations

from collections.abc import Sequence

from pgcrisis.checks.grouping import member_titles
from pgcrisis.judge import TriageReport
from pgcrisis.model.findings import Finding, Severity
from pgcrisis.presentation import load_text

_BADGE = {Severity.CRITICAL: "🔴 CRITICAL", Severity.WARNING: "🟠 WARNING",
          Severity.INFO: "🔵 info"}


def _object(finding: Finding) -> str:
    """The first objects, each by its identifying key and name (a client's, a prepared
    transaction's and a slot's names are their keys already)."""
    parts = []
    for o in finding.objects[:3]:
        label = o.name if o.name is not None else ""
        number = o.queryid if o.queryid is not None else o.jobid
        if o.pid is not None:
            label = f"pid {o.pid}" + (f" ({o.name})" if o.name else "")
        elif number is not None:
            label = f"#{number}" + (f" {o.name}" if o.name else "")
        parts.append(f"{o.kind} `{label}`")
    return ", ".join(parts)


def finding_section(number: int, f: Finding, caused: Sequence[int] = ()) -> list[str]:
    """One finding's section (its lines): title, code and severity, the findings causing it,
    detail, a grouped finding's members, remedy and SQL (``pgcrisis logs`` prints its
    findings with it too)."""
    lines = [f"### {number}. {f.title}", "", f"`{f.code}` · {_BADGE[f.severity]}"
             + ("".join(f" · consequence of #{c}" for c in caused)), "", f.detail, ""]
    members = member_titles(f)
    if members:  # a grouped finding: each of its findings, folded
        lines += [f"<details><summary>Each of the {len(members)}</summary>", "",
                  *(f"- {title}" for title in members), "", "</details>", ""]
    if f.remedy is not None:
        lines += [f"**Remedy:** {f.remedy.summary}", ""]
        if f.remedy.sql:
            lines += ["```sql", *(stmt.rstrip(";") + ";" for stmt in f.remedy.sql), "```", ""]
    return lines


def render(report: TriageReport) -> str:
    """Markdown text: a summary table, then one section per finding with its SQL."""
    s = report.snapshot.server
    lines = [
        f"## pgcrisis triage — {s.database} on PostgreSQL {s.server_version}",
        "",
        (f"{report.recording.line} · " if report.recording else "")
        + f"{report.started_at:%Y-%m-%d %H:%M:%S} UTC · {report.duration_ms:.0f} ms · "
        f"{len(report.findings)} findings",
        "",
        *([load_text.line(report.snapshot.load), ""] if report.snapshot.load is not None
          else []),
    ]
    # print order: each root cause, then its consequences beneath it
    order = report.tree()
    number = {index: n for n, (index, _) in enumerate(order, 1)}
    causes = {index: [number[c] for c in cs] for index, cs in enumerate(report.caused_by)}
    rows = [(number[i], report.findings[i], depth, causes.get(i, [])) for i, depth in order]
    if report.findings:
        lines += ["| # | severity | finding | about |", "|---|---|---|---|"]
        for n, f, depth, _ in rows:
            title = f.title.replace("|", "\\|")
            about = _object(f).replace("|", "\\|")
            arrow = "&nbsp;&nbsp;" * (depth - 1) + "↳ " if depth else ""
            lines.append(f"| {n} | {_BADGE[f.severity]} | {arrow}`{f.code}`: {title} | {about} |")
        lines.append("")
    else:
        lines += ["No findings: nothing above info.", ""]
    for n, f, _, caused in rows:
        lines += finding_section(n, f, caused)
    if report.results.skipped:
        lines += ["<details><summary>Checks skipped</summary>", ""]
        lines += [f"- `{sk.check}`: {sk.reason}" for sk in report.results.skipped]
        lines += ["", "</details>", ""]
    return "\n".join(lines)
