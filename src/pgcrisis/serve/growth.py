"""What the Growth page of a recording shows, answered from the store: its daily rollups
(``Store.history``), and what ``pgcrisis capacity`` concludes of them (each resource's limit,
forecast and its band) through the same service as the CLI. Typed values only;
:mod:`pgcrisis.presentation.web.growth` makes the page's JSON of them.

A store without rollups, or a pgcrisis without the forecast, gives a Growth whose ``note``
says what is missing (the page shows it in place of charts that would be empty).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from pgcrisis.capacity.fleet import capacity, history_of
from pgcrisis.capacity.report import CapacityReport, MonthChanges
from pgcrisis.capacity.rollups import History
from pgcrisis.store import Store

#: the days of history the page draws (the forecast runs on from the last)
DAYS = 400


@dataclass(frozen=True, slots=True)
class Growth:
    """A recording's daily history and its capacity report (either None: ``note`` says
    why), and the day they were read."""

    name: str
    today: date
    history: History | None
    report: CapacityReport | None
    note: str = ""


def months_of(history: History) -> tuple[MonthChanges, ...]:
    """Rows inserted, updated and deleted per month, summed over the databases' days (a day
    the recording could not measure counts as none)."""
    sums: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0])
    for d in history.databases:
        s = sums[d.day.replace(day=1)]
        s[0] += d.inserted or 0
        s[1] += d.updated or 0
        s[2] += d.deleted or 0
    return tuple(MonthChanges(m, *sums[m]) for m in sorted(sums))


def growth(store: Store, name: str, today: date) -> Growth:
    """The Growth page's figures for recording ``name``, up to ``today``."""
    history = history_of(store, name, today - timedelta(days=DAYS - 1), today)
    report, why = capacity(history, today)
    return Growth(name, today, history, report, why)
