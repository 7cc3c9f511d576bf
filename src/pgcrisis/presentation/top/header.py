"""The header every screen shows: where the moment comes from, connections against their
limits, throughput, waits, the oldest transaction, the xmin horizon, slots, findings."""

from __future__ import annotations

from datetime import tzinfo

from rich.text import Text
from textual.widgets import Static

from pgcrisis import durations
from pgcrisis.top.view import Moment, events_line
from pgcrisis.when import shown

_SEVERITY_STYLE = {"critical": "bold red", "warning": "bold yellow"}


def header_text(moment: Moment | None, *, where: str, zone: tzinfo | None,
                read_only: bool) -> Text:
    """The header's lines for ``moment`` (a placeholder before the first sample)."""
    out = Text()
    if moment is None:
        out.append(f"{where}: waiting for the first sample…", style="bold")
        return out
    view, h = moment.view, moment.view.header
    status_style = "bold green" if moment.status == "live" else "bold yellow"
    out.append(moment.status, style=status_style)
    out.append(f"  {where}  {shown(view.taken_at, zone)}")
    if read_only:
        out.append("  read-only", style="bold cyan")
    out.append("\nconnections ")
    out.append(" · ".join(f"{state} {n}" for state, n in sorted(h.by_state.items(),
                                                                  key=lambda kv: -kv[1]))
               or "none")
    for limit in h.limits:
        style = "bold red" if limit.share >= 0.9 else "yellow" if limit.share >= 0.75 else ""
        out.append("  │  ")
        label = limit.name if limit.scope == "server" else f"{limit.scope} {limit.name}"
        out.append(f"{label} {limit.used}/{limit.limit} ({limit.share:.0%})", style=style)
    out.append("\ntps ")
    out.append("–" if h.tps is None else f"{h.tps:,.1f}")
    out.append("  │  waiting on locks ")
    out.append(str(h.waiting), style="bold red" if h.waiting else "")
    out.append("  │  oldest transaction ")
    out.append(f"pid {h.oldest_xact[0]} {durations.compact(h.oldest_xact[1])}"
               if h.oldest_xact else "none")
    out.append("  │  xmin horizon ")
    out.append(h.horizon or "not held back")
    out.append("\nfindings ")
    if h.findings:
        for i, severity in enumerate(("critical", "warning")):
            n = h.findings.get(severity, 0)
            out.append(("  " if i else "") + f"{severity} {n}",
                       style=_SEVERITY_STYLE[severity] if n else "")
    else:
        out.append("nothing above info", style="green")
    out.append("  │  slots ")
    out.append(", ".join(h.slots) or "none")
    note = events_line(list(moment.events))
    if note:
        out.append(f"  │  {note}", style="yellow")
    for line in view.notes:
        out.append(f"\n{line}", style="italic")
    return out


class HeaderPanel(Static):
    """The header, redrawn with every new moment."""

    def show(self, moment: Moment | None, *, where: str, zone: tzinfo | None,
             read_only: bool) -> None:
        self.update(header_text(moment, where=where, zone=zone, read_only=read_only))
