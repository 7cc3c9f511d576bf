"""What the Slow page shows: the slow statements of the server's log (``record --log`` counted
them per minute), by statement and by view (tag), most time first, over the shown range.

A group's p95 is read from its minutes' histograms added up (:mod:`pgcrisis.store.histogram`:
within 9 % of the exact one), never above its longest; its plan is the latest the log gave
(auto_explain) in the range. Figures, not wording: :mod:`pgcrisis.presentation.web.documents`
makes the JSON.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from pgcrisis.serve.data import kept
from pgcrisis.serve.reduce import Reduced, columns, reduce
from pgcrisis.serve.timeline import width_of
from pgcrisis.store import LogSlowCount, Store, histogram, to_us

#: the groups each table shows at most (the most time first)
SHOWN = 100
#: the percentile the page shows
P = 0.95


@dataclass(slots=True)
class SlowGroup:
    """Slow statements sharing a statement (and queryid), or a view: how many, their total,
    p95 and longest duration (ms), and the latest plan logged for them (``""``: none)."""

    statement: str
    queryid: int | None
    tag: str
    count: int = 0
    total_ms: float = 0.0
    max_ms: float = 0.0
    p95_ms: float | None = None
    plan: str = ""
    plan_t: int = -1
    hist: dict[int, int] = field(default_factory=dict)

    def add(self, row: LogSlowCount) -> None:
        self.count += row.count
        self.total_ms += row.total_ms
        self.max_ms = max(self.max_ms, row.max_ms)
        self.hist = histogram.merged([self.hist, row.histogram])
        if row.plan and row.t >= self.plan_t:
            self.plan, self.plan_t = row.plan, row.t


@dataclass(frozen=True, slots=True)
class Slow:
    """The slow statements of a window: how many and their time, the time per view over the
    window in ``width`` columns (ms a minute), and the groups by statement and by view."""

    count: int
    total_ms: float
    width: int
    columns: list[int]
    per_tag: list[tuple[str, Reduced]]
    statements: list[SlowGroup]
    views: list[SlowGroup]


def _ranked(groups: Iterable[SlowGroup]) -> list[SlowGroup]:
    out = sorted(groups, key=lambda g: -g.total_ms)[:SHOWN]
    for g in out:
        g.p95_ms = histogram.quantile(g.hist, P, g.max_ms)
    return out


def slow(store: Store, name: str, start: datetime, end: datetime, width: int,
         filters: Mapping[str, str] | None = None) -> Slow:
    """The slow statements the log gave between ``start`` and ``end`` that ``filters`` keep
    (the errors page's: :func:`pgcrisis.serve.data.kept`)."""
    by_statement: dict[tuple[str, int | None], SlowGroup] = {}
    by_view: dict[str, SlowGroup] = {}
    per_tag: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    count, total = 0, 0.0
    for row in store.log_slow(name, start, end):
        if filters and not kept(row, filters):
            continue
        count += row.count
        total += row.total_ms
        per_tag[row.tag][row.t] += row.total_ms
        key = (row.statement, row.queryid)
        by_statement.setdefault(key, SlowGroup(row.statement, row.queryid, row.tag)).add(row)
        by_view.setdefault(row.tag, SlowGroup("", None, row.tag)).add(row)
    w = width_of(width)
    s, e = to_us(start), to_us(end)
    series = []
    for tag, per_minute in sorted(per_tag.items()):
        ts = sorted(per_minute)
        series.append((tag, reduce(ts, [per_minute[t] for t in ts], s, e, w)))
    return Slow(count, total, w, columns(s, e, w), series, _ranked(by_statement.values()),
                _ranked(by_view.values()))
