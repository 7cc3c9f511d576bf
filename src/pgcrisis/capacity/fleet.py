"""The fleet: every recording of one store (one recorder per server writing to a central
PostgreSQL store), each with what a person scanning many servers asks first: is it recorded
now, what is wrong with it now, how long was it seized up this week, and when does it run out
of something. Ranked by the time to its first exhausted resource, so the server that runs out
first is on the first line.

Every figure is read through the store's interface (indexed lookups of a recording's last
frames and its daily rollups), never by walking its samples: a fleet of 50 answers in well
under a second. The worst finding now is the recorder's own verdict of the last sample
(``Frame.worst``, stored with it): only a recording whose last sample was flagged is judged
again, to name the finding.

What is not there yet is said, not guessed: a recording without daily rollups (none
recorded yet) has no minutes seized up and no time to exhaustion (``NEEDS_ROLLUPS``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from pgcrisis.capacity.report import CapacityReport, Resource
from pgcrisis.capacity.resources import order
from pgcrisis.capacity.rollups import History
from pgcrisis.capacity.service import Ask, capacity_of
from pgcrisis.errors import PgcrisisError
from pgcrisis.history.service import triage_at
from pgcrisis.model.severity import Severity
from pgcrisis.store import Store

#: what the fleet says where the store keeps no daily rollups
NEEDS_ROLLUPS = "needs rollups (a recording by a pgcrisis that keeps daily rollups)"
#: what it says where this pgcrisis cannot forecast
#: days of history the sparkline draws, and the fleet forecasts from
SPARK_DAYS = 30
#: what "this week" is: the last seven UTC days, today included
WEEK = 7
#: without rollups, the sparkline draws the last hour of active sessions (one per minute)
SPARK_FALLBACK = timedelta(hours=1)
#: the rank of each verdict: reached first, then a date, then cannot tell, then not within
#: the rank of a recording whose time to exhaustion is not known (no rollups, no forecast)
_UNKNOWN = 4


@dataclass(frozen=True, slots=True)
class WorstNow:
    """The worst finding of a recording's last sample (``severity`` None: nothing above
    info; ``code`` and ``title`` empty then), and that sample's server time."""

    at: datetime
    severity: Severity | None
    code: str = ""
    title: str = ""


@dataclass(frozen=True, slots=True)
class Spark:
    """A small series to draw in a row: what it is (``label``) and its values, oldest first
    (None: not measured then)."""

    label: str
    values: tuple[float | None, ...]


@dataclass(frozen=True, slots=True)
class FleetRow:
    """One recording of the fleet.

    ``live``: a recorder writes it now (its lock held, as ``serve`` decides); ``worst``: None
    for a recording with no sample; ``seized_week``: minutes seized up in the last seven days
    (None: unknown, ``note`` says why); ``first``: the resource that runs out first (None:
    none does, or unknown: ``note``); ``order``: the row's place (see :func:`rank_key`)."""

    name: str
    last_sample: datetime | None
    live: bool
    worst: WorstNow | None
    seized_week: int | None
    first: Resource | None
    spark: Spark
    order: int = _UNKNOWN
    note: str = ""


def earliest(resources: Iterable[Resource]) -> Resource | None:
    """The resource that runs out first, by :func:`~pgcrisis.capacity.resources.order` (a
    cannot-tell one only when no resource reaches its limit; None when there is none at
    all): :attr:`CapacityReport.first`, or what stands first when none runs out."""
    judged = [r for r in resources if r.limit is not None]  # one with no limit: unknown
    return min(judged or list(resources), key=order, default=None)


def rank_key(row: FleetRow) -> tuple[int, date, str]:
    """The fleet's order: reached first, then the soonest date, then cannot tell, then not
    within the horizon, then unknown; by name within each."""
    when = row.first.exhaustion.when if row.first is not None else None
    return row.order, when or date.max, row.name


def seized_week(history: History, today: date) -> int | None:
    """Minutes seized up over the last :data:`WEEK` days (today included); None when the
    recording has no day in them (stopped before: "0" would say it was fine)."""
    since = today - timedelta(days=WEEK - 1)
    days = [d for d in history.server if d.day >= since]
    return sum(d.seized_minutes for d in days) if days else None


def spark_of_history(history: History, today: date, days: int = SPARK_DAYS) -> Spark:
    """Active sessions' 95th percentile per day over the ``days`` days up to ``today`` (the
    recording's last day: a recorder stopped a month ago still shows its last month; a gap:
    None)."""
    by_day = {d.day: d.active_p95 for d in history.server}
    first = today - timedelta(days=days - 1)
    return Spark(f"active sessions, p95 per day, {days} days",
                 tuple(by_day.get(first + timedelta(days=i)) for i in range(days)))


def history_of(store: Store, name: str, start: date | None, end: date) -> History:
    """The recording's daily rollups from ``start`` (None: its first day) to ``end``."""
    return store.history(name, start, end)


def capacity(history: History, today: date,
             ask: Ask | None = None) -> tuple[CapacityReport | None, str]:
    """The capacity report of a history (its limits: ``ask``'s, a disk size or a plan the
    whole fleet shares), or None and why there is none."""
    if not history.server:
        return None, NEEDS_ROLLUPS
    return capacity_of(history, ask or Ask(), today=today), ""


def worst_now(store: Store, name: str, last: datetime) -> WorstNow:
    """The worst finding of the recording's last sample (at ``last``).

    The recorder judged every sample as it stored it (``Frame.worst``): a last sample it did
    not flag is "nothing above info" without judging it again; a flagged one is judged (the
    snapshot rebuilt, the same checks as ``triage --at``) to name its worst finding."""
    flagged = store.frame_near(name, last + timedelta(microseconds=1), forward=False,
                               flagged=True)
    if flagged is None or flagged < last:
        return WorstNow(last, None)
    try:
        findings = triage_at(store, name, last).findings
    except PgcrisisError:
        return WorstNow(last, None)
    judged = [f for f in findings if f.severity is not Severity.INFO]
    if not judged:
        return WorstNow(last, None)
    top = min(judged, key=lambda f: f.severity.rank)  # ranked: the first of the worst
    return WorstNow(last, top.severity, top.code, top.title)


def _spark_of_series(store: Store, name: str, last: datetime) -> Spark:
    """The last hour of active sessions, a value per minute (the store's minute series,
    read through its index), where there are no daily rollups."""
    cols = store.series_figures(name, last - SPARK_FALLBACK, last)
    values: tuple[float | None, ...] = tuple(float(v) for v in cols.active) if cols else ()
    return Spark("active sessions, per minute, last hour", values)


def row(store: Store, name: str, now: datetime, ask: Ask | None = None) -> FleetRow:
    """One recording's row, read through the store's indexes (see the module)."""
    today = now.astimezone(UTC).date()
    live = store.writing(name).live(now)
    cover = store.coverage(name)
    if cover is None:
        return FleetRow(name, None, live, None, None, None, Spark("", ()),
                        note="no sample yet")
    last = cover[1]
    history = history_of(store, name, None, today)  # all of it: the forecast's fit
    report, why = capacity(history, today, ask)
    first = earliest(report.resources) if report is not None else None
    rank = order(first)[0] if first is not None else _UNKNOWN
    spark = (spark_of_history(history, history.server[-1].day) if history.server
             else _spark_of_series(store, name, last))
    seized = seized_week(history, today) if history.server else None
    return FleetRow(name, last, live, worst_now(store, name, last), seized, first, spark,
                    rank, why)


def rank(store: Store, now: datetime | None = None, names: Sequence[str] | None = None,
         ask: Ask | None = None) -> list[FleetRow]:
    """Every recording of ``store`` (or those of ``names``), the one that runs out first on
    top (:func:`rank_key`): what ``capacity --all`` prints and ``serve``'s fleet page
    shows."""
    at = now or datetime.now(UTC)
    return sorted((row(store, n, at, ask) for n in (names or store.names())), key=rank_key)
