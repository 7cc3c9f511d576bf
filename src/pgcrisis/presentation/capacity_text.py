"""Words every ``capacity`` renderer shares: a resource's figure against its limit, when it
runs out, and the first screen's headline (the resource that runs out first, when, and the
plan verdict), written once so the terminal, the Markdown and the page say the same."""

from __future__ import annotations

from datetime import date

from pgcrisis import durations, quantities, sizes
from pgcrisis.capacity.forecast import Exhaustion, Verdict
from pgcrisis.capacity.report import CapacityReport, Resource


def amount(value: float | None, unit: str) -> str:
    """A figure in its unit's words (bytes as sizes, the rest as counts)."""
    if value is None:
        return "?"
    if unit == "bytes":
        return sizes.words(value)
    if unit == "sessions":
        return f"{value:,.1f}"
    return quantities.count(value)


def standing(resource: Resource) -> str:
    """``1.2 GB of 500 GB (0 %)``, or the figure alone without a limit."""
    now = amount(resource.current, resource.unit)
    if resource.limit is None:
        return now
    share = "" if resource.current is None else f" ({resource.current / resource.limit:.0%})"
    return f"{now} of {amount(resource.limit, resource.unit)}{share}"


def when(e: Exhaustion, today: date) -> str:
    """When it runs out, in words, with the interval: ``in about 7 weeks (5-11)``."""
    if e.verdict is Verdict.REACHED:
        return "reached"
    if e.verdict is Verdict.NOT_WITHIN:
        return "not within the horizon"
    if e.verdict is Verdict.CANNOT_TELL or e.when is None:
        return "cannot tell"
    low = None if e.low is None else (e.low - today).days
    high = None if e.high is None else (e.high - today).days
    return f"in about {durations.ahead((e.when - today).days, low, high)}"


def today_of(report: CapacityReport) -> date:
    """The day the forecasts count from."""
    return report.today or report.generated_at.date()


def headline(report: CapacityReport) -> list[str]:
    """The first screen: what runs out first and when, then the plan needed now."""
    from pgcrisis.capacity.advice import needed

    first = report.first
    today = today_of(report)
    lines = []
    if first is None:
        lines.append("Nothing runs out within the horizon that pgcrisis can tell"
                     + (" (one pass: no dates without a recording)"
                        if report.source == "one pass" else ""))
    else:
        e = first.exhaustion
        lines.append(f"First to run out: {first.label} {when(e, today)}"
                     + (f", {e.level:.0%} interval" if e.verdict is Verdict.DATE else "")
                     + f"; now {standing(first)}")
    plan = needed(report.plans)
    if plan is not None:
        lines.append(f"Plan needed now: {plan.summary}")
    elif report.plans:
        lines.append("No plan fits now: " + "; ".join(p.summary for p in report.plans))
    return lines
