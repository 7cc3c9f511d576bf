"""``pgcrisis capacity --format html``: one self-contained page (no script, no fetch): the
headline, then per resource an inline SVG chart of its daily history, its limit, the
forecast's median path and the interval's band shaded; the months' changes as bars (the
seed's chart)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

from pgcrisis import quantities
from pgcrisis.capacity.report import CapacityReport, MonthChanges, Resource
from pgcrisis.capacity.resources import order
from pgcrisis.presentation.capacity_text import amount, headline, standing, today_of, when

WIDTH, HEIGHT, PAD = 640, 180, 36
_STYLE = """body{font:14px sans-serif;margin:2em;max-width:60em;color:#222}
h1{font-size:1.4em} .lead{font-weight:bold} svg text{font:11px sans-serif}
table{border-collapse:collapse} td,th{padding:2px 8px;text-align:left;vertical-align:top}
.band{fill:#3a7bd5;fill-opacity:.2;stroke:none} .median{stroke:#3a7bd5;stroke-dasharray:4 3;
fill:none} .history{stroke:#222;fill:none;stroke-width:1.5} .limit{stroke:#c0392b}
.ins{fill:#3a7bd5} .upd{fill:#f39c12} .del{fill:#c0392b}"""


class _Scale:
    """Days and values onto the chart's pixels."""

    def __init__(self, days: Sequence[date], values: Sequence[float]) -> None:
        self.start, end = min(days), max(days)
        self.span = max(1, (end - self.start).days)
        self.top = max(values) * 1.05 or 1.0

    def x(self, d: date) -> float:
        return PAD + (WIDTH - 2 * PAD) * (d - self.start).days / self.span

    def y(self, v: float) -> float:
        return HEIGHT - PAD + (2 * PAD - HEIGHT) * max(0.0, min(v, self.top)) / self.top


def _points(scale: _Scale, days: Sequence[date], values: Sequence[float]) -> str:
    return " ".join(f"{scale.x(d):.1f},{scale.y(v):.1f}" for d, v in zip(days, values,
                                                                          strict=True))


def chart(r: Resource) -> str:
    """The resource's history, limit and forecast band as one SVG."""
    if not r.history:
        return ""
    days = [d for d, _ in r.history]
    values = [v for _, v in r.history]
    fit = r.fit
    all_days = days + (list(fit.days) if fit else [])
    all_values = values + (list(fit.high) + list(fit.median) if fit else [])
    scale = _Scale(all_days, [*all_values, *([r.limit] if r.limit else [])])
    body = []
    if fit:
        band = _points(scale, fit.days, fit.high) + " " + _points(
            scale, fit.days[::-1], fit.low[::-1])
        body.append(f"<polygon class='band' points='{band}'/>")
        body.append(f"<polyline class='median' points='{_points(scale, fit.days, fit.median)}'/>")
    body.append(f"<polyline class='history' points='{_points(scale, days, values)}'/>")
    if r.limit:
        y = scale.y(r.limit)
        body.append(f"<line class='limit' x1='{PAD}' x2='{WIDTH - PAD}' y1='{y:.1f}' "
                    f"y2='{y:.1f}'/><text x='{PAD + 2}' y='{y - 3:.1f}'>limit "
                    f"{escape(amount(r.limit, r.unit))}</text>")
    axis = (f"<text x='{PAD}' y='{HEIGHT - 8}'>{min(all_days).isoformat()}</text>"
            f"<text x='{WIDTH - PAD}' y='{HEIGHT - 8}' text-anchor='end'>"
            f"{max(all_days).isoformat()}</text>")
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{HEIGHT}' "
            f"role='img' aria-label='{escape(r.label, quote=True)}'>" + "".join(body) + axis
            + "</svg>")


def months_chart(months: Sequence[MonthChanges]) -> str:
    """Rows inserted, updated and deleted per month, stacked bars."""
    if not months:
        return ""
    top = max(m.inserted + m.updated + m.deleted for m in months) or 1
    step = (WIDTH - 2 * PAD) / len(months)
    bars = []
    for i, m in enumerate(months):
        base = float(HEIGHT - PAD)
        for cls, value in (("ins", m.inserted), ("upd", m.updated), ("del", m.deleted)):
            h = (HEIGHT - 2 * PAD) * value / top
            base -= h
            bars.append(f"<rect class='{cls}' x='{PAD + i * step + 1:.1f}' y='{base:.1f}' "
                        f"width='{max(1.0, step - 2):.1f}' height='{h:.1f}'/>")
        bars.append(f"<text x='{PAD + (i + 0.5) * step:.1f}' y='{HEIGHT - PAD + 14}' "
                    f"text-anchor='middle'>{m.month:%m}</text>")
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{HEIGHT}' "
            f"role='img' aria-label='rows changed per month'>" + "".join(bars)
            + f"<text x='{PAD}' y='14'>up to {quantities.count(top)} rows a month: "
            "inserted, updated, deleted</text></svg>")


def render(report: CapacityReport) -> str:
    """The whole page."""
    today = today_of(report)
    parts = [f"<h1>Capacity of {escape(report.name)}</h1>"]
    parts += [f"<p class='lead'>{escape(line)}</p>" for line in headline(report)]
    if report.months:
        parts += ["<h2>Rows changed per month</h2>", months_chart(report.months)]
    parts.append("<h2>Resources</h2>")
    for r in sorted(report.resources, key=order):
        e = r.exhaustion
        parts.append(f"<h3>{escape(r.label)}</h3><p>{escape(standing(r))}; runs out "
                     f"{escape(when(e, today))}. <small>{escape(e.reason)}</small></p>")
        parts.append(chart(r))
    if report.plans:
        rows = "".join(f"<tr><td>{escape(p.name)}</td><td>"
                       f"{'fits' if p.fits_now else 'outgrown'}</td><td>{escape(p.summary)}"
                       "</td></tr>" for p in report.plans)
        parts.append(f"<h2>Plans</h2><table><tr><th>plan</th><th>now</th><th>verdict</th>"
                     f"</tr>{rows}</table>")
    if report.needs:
        parts.append("<h2>To say more</h2><ul>" + "".join(
            f"<li>{escape(n)}</li>" for n in report.needs) + "</ul>")
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>Capacity of {escape(report.name)}</title><style>{_STYLE}</style></head>"
            f"<body>{''.join(parts)}</body></html>\n")
