"""``pgcrisis capacity`` on a terminal: the headline first (what runs out first, when, the
plan needed now), then one line per resource, the plans, the months' changes, and what more
would let it say more."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from pgcrisis import quantities
from pgcrisis.capacity.report import CapacityReport
from pgcrisis.capacity.resources import order
from pgcrisis.presentation.capacity_text import headline, standing, today_of, when


def render(report: CapacityReport, console: Console) -> None:
    """Print the report."""
    source = ("one pass over the live server" if report.source == "one pass"
              else f"{report.history_days} days recorded")
    console.print(f"[bold]Capacity of {report.name}[/bold] ({source})")
    for line in headline(report):
        console.print(f"[bold]{line}[/bold]", highlight=False)
    today = today_of(report)
    table = Table(show_edge=False, pad_edge=False)
    for column in ("resource", "now", "runs out", "why"):
        table.add_column(column)
    for r in sorted(report.resources, key=order):
        table.add_row(r.label, standing(r), when(r.exhaustion, today), r.exhaustion.reason)
    console.print(table)
    if report.plans:
        console.print("[bold]Plans[/bold] (smallest first)")
        for p in report.plans:
            mark = "fits now" if p.fits_now else "outgrown"
            console.print(f"  {p.name}: {mark}; {p.summary}", highlight=False)
    if report.months:
        console.print("[bold]Rows changed per month[/bold]")
        for m in report.months[-12:]:
            console.print(f"  {m.month:%Y-%m}  {quantities.count(m.inserted):>7} inserted  "
                          f"{quantities.count(m.updated):>7} updated  "
                          f"{quantities.count(m.deleted):>7} deleted", highlight=False)
    for need in report.needs:
        console.print(f"[dim]needs: {need}[/dim]", highlight=False)
