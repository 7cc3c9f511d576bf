"""What the Growth page of a recording shows, answered from the store: its daily rollups
(``Store.history``), and what ``pgcrisis capacity`` concludes of them (each resource's limit,
forecast and its band) through the same service as the CLI. Typed values only;
:mod:`pgcrisis.presentation.web.growth` makes the page's JSON of them.

A store without rollups, or a pgcrisis without the forecast, gives a Growth whose ``note``
says what is missing (the page shows it in place of charts that would be empty).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pgcrisis.capacity.fleet import capacity, history_of
from pgcrisis.capacity.report import CapacityReport
from pgcrisis.capacity.rollups import History
from pgcrisis.store import Store

#: the days of history the page draws (the forecast runs on from the last)


@dataclass(frozen=True, slots=True)
class Growth:
    """A recording's daily history and its capacity report (either None: ``note`` says
    why), and the day they were read."""

    name: str
    today: date
    history: History | None
    report: CapacityReport | None
    note: str = ""


def growth(store: Store, name: str, today: date) -> Growth:
    """The Growth page's figures for recording ``name``, up to ``today``: its whole history
    (what the forecast fits, and what the charts draw)."""
    history = history_of(store, name, None, today)
    report, why = capacity(history, today)
    return Growth(name, today, history, report, why)
