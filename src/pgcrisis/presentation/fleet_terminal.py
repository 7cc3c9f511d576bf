"""``pgcrisis capacity --store postgresql://… --all`` on a terminal: every recording of the
store, the one that runs out first on top, one line each (recorded now?, the worst finding
now, minutes seized up this week, the time to its first exhausted resource, a sparkline).

A renderer only: it prints the rows :func:`pgcrisis.capacity.fleet.rank` made, in their
order, worded by :mod:`.fleet_text`.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from pgcrisis.capacity.fleet import FleetRow
from pgcrisis.capacity.forecast import Verdict
from pgcrisis.presentation.fleet_text import (
    first_words,
    seized_words,
    sparkline,
    worst_words,
)
from pgcrisis.when import shown

_SEVERITY_STYLES = {"critical": "bold red", "warning": "yellow"}


def fleet(out: Console, rows: list[FleetRow]) -> None:
    """The fleet's table, then what it could not say (once, not on every row)."""
    if not rows:
        out.print("The store holds no recording yet.")
        return
    table = Table(title=f"{len(rows)} recordings, the first to run out first", title_justify="left")
    for column in ("recording", "recorded", "worst finding now", "seized up this week",
                   "runs out first", "trend"):
        table.add_column(column, overflow="fold")
    for r in rows:
        when = shown(r.last_sample) if r.last_sample else "no sample"
        style = _SEVERITY_STYLES.get(str(r.worst.severity)) if r.worst else None
        table.add_row(r.name, ("live · " if r.live else "stopped · ") + when,
                      f"[{style}]{worst_words(r)}[/{style}]" if style else worst_words(r),
                      seized_words(r),
                      first_words(r.first, r.note if r.first is None else "", reason=False),
                      sparkline(r.spark.values[-30:]))
    out.print(table)
    labels = sorted({r.spark.label for r in rows if r.spark.label})
    if labels:
        out.print(f"[dim]trend: {'; '.join(labels)}[/dim]")
    notes = sorted({r.note for r in rows if r.note} | {
        f"{r.first.label}: {r.first.exhaustion.verdict.value}: {r.first.exhaustion.reason}"
        for r in rows if r.first is not None and r.first.exhaustion.reason
        and r.first.exhaustion.verdict in (Verdict.CANNOT_TELL, Verdict.NOT_WITHIN)})
    for note in notes:
        out.print(f"[dim]{note}[/dim]")
