"""The Growth page's JSON (``/api/growth``): a chart per figure of the recording's days, a
column per day from its first rolled-up day to the forecast's last, with the forecast band
(median and interval, from :class:`~pgcrisis.capacity.forecast.Fit`) and the limit where
``capacity`` has them; and the data changes per month (the seed's chart), drawn as steps.

The charts are drawn by the timeline's own code (``static/charts.js``: a line is its ``lo``
to ``hi`` per column): a figure has ``lo == hi``, the interval is a ``band``, a limit
``dash``-ed. Days are UTC days; a column's start is milliseconds since the epoch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pgcrisis.capacity.fleet import earliest
from pgcrisis.capacity.report import CapacityReport, Resource
from pgcrisis.capacity.rollups import History, ServerDay
from pgcrisis.presentation.fleet_text import exhaustion_words
from pgcrisis.serve.growth import Growth

JSON = dict[str, Any]
#: the colours of a figure, its forecast (median and band) and its limit
FIGURE, FORECAST, LIMIT = "#1f6feb", "#d97706", "#c62828"


@dataclass(frozen=True, slots=True)
class DailyChart:
    """A chart of one figure of :class:`ServerDay`: its key, title and unit, how to read the
    figure and its limit of a day, and the resource of the capacity report whose forecast
    and limit it draws."""

    key: str
    title: str
    unit: str
    figure: Callable[[ServerDay], float | None]
    resource: str
    limit: Callable[[ServerDay], float | None] | None = None


#: the Growth page's daily charts, in their order (the changes per month come second)
CHARTS = (
    DailyChart("bytes", "Database size (all databases)", "B",
               lambda d: d.database_bytes, "disk"),
    DailyChart("connections", "Client connections (95th percentile of the day)", "",
               lambda d: d.connections_p95, "connections", lambda d: d.max_connections),
    DailyChart("active", "Active sessions (95th percentile of the day)", "",
               lambda d: d.active_p95, "cpu"),
    DailyChart("xid", "Oldest transaction ID age", "xids",
               lambda d: d.xid_age, "xid-freeze", lambda d: d.autovacuum_freeze_max_age),
)


def _ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def _line(key: str, label: str, lo: Sequence[float | None], hi: Sequence[float | None],
          color: str, **style: bool) -> JSON:
    return {"key": key, "label": label, "lo": list(lo), "hi": list(hi), "color": color,
            **style}


def _on(days: list[date], values: dict[date, float | None]) -> list[float | None]:
    return [values.get(d) for d in days]


def daily_chart(spec: DailyChart, history: History, resource: Resource | None) -> JSON:
    """One figure's chart: its days, then the forecast's; the limit (per day, or the
    resource's) dashed; the interval as a band."""
    seen = {d.day: spec.figure(d) for d in history.server}
    fit = resource.fit if resource is not None else None
    first = min(seen)
    last = max([*seen, *(fit.days if fit else ())])
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    figure = _on(days, seen)
    lines = [_line(spec.key, spec.title.split(" (")[0].lower(), figure, figure, FIGURE)]
    limits: dict[date, float | None] = {}
    if spec.limit is not None:
        limits = {d.day: spec.limit(d) for d in history.server}
    if resource is not None and resource.limit is not None:
        limits = {d: limits.get(d) or resource.limit for d in days}
    if any(v is not None for v in limits.values()):
        limit = _on(days, limits)
        source = f" ({resource.limit_source})" if resource and resource.limit_source else ""
        lines.append(_line("limit", "limit" + source, limit, limit, LIMIT, dash=True))
    if fit is not None:
        median = _on(days, dict(zip(fit.days, fit.median, strict=True)))
        low = _on(days, dict(zip(fit.days, fit.low, strict=True)))
        high = _on(days, dict(zip(fit.days, fit.high, strict=True)))
        level = round(resource.exhaustion.level * 100) if resource else 80
        lines.append(_line("median", "forecast (median)", median, median, FORECAST, dash=True))
        lines.append(_line("interval", f"forecast ({level} % interval)", low, high, FORECAST,
                           band=True))
    return {"key": spec.key, "kind": "lines", "title": spec.title, "unit": spec.unit,
            "from": _ms(first), "to": _ms(last + timedelta(days=1)), "width": len(days),
            "lines": lines,
            "exhaustion": exhaustion_words(resource.exhaustion) if resource else None}


def months_chart(report: CapacityReport | None, history: History) -> JSON | None:
    """The rows inserted, updated and deleted per month, a step a month (None: none)."""
    months = report.months if report is not None else ()
    if not months:
        return None
    first = months[0].month
    end = (months[-1].month + timedelta(days=32)).replace(day=1)
    days = [first + timedelta(days=i) for i in range((end - first).days)]
    by_month = {m.month: m for m in months}
    lines = []
    for key, label in (("inserted", "inserted"), ("updated", "updated"),
                       ("deleted", "deleted")):
        values: list[float | None] = [
            float(getattr(by_month[d.replace(day=1)], key)) if d.replace(day=1) in by_month
            else None for d in days]
        lines.append({"key": key, "label": label, "lo": values, "hi": values})
    return {"key": "changes", "kind": "lines", "title": "Data changes per month (rows)",
            "unit": "rows", "from": _ms(first), "to": _ms(end), "width": len(days),
            "lines": lines, "exhaustion": None}


def growth(g: Growth) -> JSON:
    """``/api/growth``: the charts, the resource that runs out first (in words), what the
    report could not say, and the note where there is no history or forecast."""
    history, report = g.history, g.report
    charts: list[JSON] = []
    by_key = {r.key: r for r in report.resources} if report is not None else {}
    if history is not None and history.server:
        for spec in CHARTS:
            if any(spec.figure(d) is not None for d in history.server):
                charts.append(daily_chart(spec, history, by_key.get(spec.resource)))
        changes = months_chart(report, history)
        if changes is not None:
            charts.insert(1, changes)
    first = None
    if report is not None:
        found = earliest(report.resources)
        if found is not None:
            first = f"{found.label}: {exhaustion_words(found.exhaustion)}"
    return {"name": g.name, "today": g.today.isoformat(), "note": g.note or None,
            "days": len(history.server) if history is not None else 0, "first": first,
            "needs": list(report.needs) if report is not None else [], "charts": charts,
            "notes": list(history.notes) if history is not None else []}
