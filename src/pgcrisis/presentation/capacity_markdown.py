"""``pgcrisis capacity --format markdown``: pasteable into a customer e-mail or a ticket; the
headline, the resources, the plans and the months' changes as tables."""

from __future__ import annotations

from pgcrisis import quantities
from pgcrisis.capacity.report import CapacityReport
from pgcrisis.capacity.resources import order
from pgcrisis.presentation.capacity_text import headline, standing, today_of, when


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(report: CapacityReport) -> str:
    """The Markdown document."""
    source = ("one pass over the live server" if report.source == "one pass"
              else f"{report.history_days} days recorded")
    lines = [f"## Capacity of {report.name}", "", f"_{source}; intervals at "
             f"{report.level:.0%}_", ""]
    lines += [f"**{_cell(line)}**  " for line in headline(report)]
    today = today_of(report)
    lines += ["", "| resource | now | runs out | why |", "|---|---|---|---|"]
    lines += [f"| {_cell(r.label)} | {_cell(standing(r))} | {when(r.exhaustion, today)} | "
              f"{_cell(r.exhaustion.reason)} |" for r in sorted(report.resources, key=order)]
    if report.plans:
        lines += ["", "### Plans", "", "| plan | now | verdict |", "|---|---|---|"]
        lines += [f"| {_cell(p.name)} | {'fits' if p.fits_now else 'outgrown'} | "
                  f"{_cell(p.summary)} |" for p in report.plans]
    if report.months:
        lines += ["", "### Rows changed per month", "",
                  "| month | inserted | updated | deleted |", "|---|--:|--:|--:|"]
        lines += [f"| {m.month:%Y-%m} | {quantities.count(m.inserted)} | "
                  f"{quantities.count(m.updated)} | {quantities.count(m.deleted)} |"
                  for m in report.months]
    if report.needs:
        lines += ["", "### To say more", ""] + [f"- {_cell(n)}" for n in report.needs]
    return "\n".join(lines) + "\n"
