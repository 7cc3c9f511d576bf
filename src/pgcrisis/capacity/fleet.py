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

What is not there yet is said, not guessed: a store without daily rollups has no minutes
seized up and no time to exhaustion (``NEEDS_ROLLUPS``); a pgcrisis without the forecast
service has no time to exhaustion (``NEEDS_FORECAST``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pgcrisis.capacity.forecast import Verdict
from pgcrisis.capacity.report import CapacityReport, Resource
from pgcrisis.capacity.rollups import History
from pgcrisis.errors import PgcrisisError
from pgcrisis.history.service import triage_at
from pgcrisis.model.severity import Severity
from pgcrisis.store import Store

#: what the fleet says where the store keeps no daily rollups
NEEDS_ROLLUPS = "needs rollups (a recording by a pgcrisis that keeps daily rollups)"
#: what it says where this pgcrisis cannot forecast
NEEDS_FORECAST = "needs the forecast (pgcrisis capacity)"
#: days of history the sparkline draws, and the fleet forecasts from
SPARK_DAYS = 30
#: what "this week" is: the last seven UTC days, today included
WEEK = 7
#: without rollups, the sparkline draws the last hour of active sessions (one per minute)
SPARK_FALLBACK = timedelta(hours=1)
#: the rank of each verdict: reached first, then a date, then cannot tell, then not within
_ORDER = {Verdict.REACHED: 0, Verdict.DATE: 1, Verdict.CANNOT_TELL: 2, Verdict.NOT_WITHIN: 3}
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


def urgency(resource: Resource) -> tuple[int, date]:
    """How soon a resource runs out, as a sort key: reached, then the soonest date, then
    cannot tell, then not within the horizon.

    >>> from pgcrisis.capacity.forecast import Exhaustion
    >>> e = Exhaustion(Verdict.DATE, date(2027, 3, 1), date(2027, 2, 1), date(2027, 5, 1),
    ...                0.8, "linear")
    >>> urgency(Resource("disk", "disk", "B", 1.0, 2.0, "--disk-size", e))
    (1, datetime.date(2027, 3, 1))
    """
    e = resource.exhaustion
    return _ORDER[e.verdict], e.when if e.when is not None else date.max


def earliest(resources: Iterable[Resource]) -> Resource | None:
    """The resource that runs out first, by :func:`urgency` (a cannot-tell one only when no
    resource reaches its limit; None when there is none at all)."""
    return min(resources, key=urgency, default=None)


def rank_key(row: FleetRow) -> tuple[int, date, str]:
    """The fleet's order: reached first, then the soonest date, then cannot tell, then not
    within the horizon, then unknown; by name within each."""
    when = row.first.exhaustion.when if row.first is not None else None
    return row.order, when or date.max, row.name


def seized_week(history: History, today: date) -> int:
    """Minutes seized up over the last :data:`WEEK` days (today included)."""
    since = today - timedelta(days=WEEK - 1)
    return sum(d.seized_minutes for d in history.server if d.day >= since)


def spark_of_history(history: History, today: date, days: int = SPARK_DAYS) -> Spark:
    """Active sessions' 95th percentile per day over the last ``days`` days (a gap: None)."""
    by_day = {d.day: d.active_p95 for d in history.server}
    first = today - timedelta(days=days - 1)
    return Spark(f"active sessions, p95 per day, {days} days",
                 tuple(by_day.get(first + timedelta(days=i)) for i in range(days)))


def history_of(store: Store, name: str, start: date, end: date) -> History | None:
    """The recording's daily rollups from ``start`` to ``end`` (``Store.history``), or None
    where the store keeps none (a pgcrisis older than rollups)."""
    read: Callable[[str, date, date], History] | None = getattr(store, "history", None)
    if read is None:
        return None
    return read(name, start, end)


def _forecaster() -> Callable[..., CapacityReport] | None:
    """``pgcrisis.capacity.service.capacity_of``, where this pgcrisis has it."""
    try:
        service: Any = importlib.import_module("pgcrisis.capacity.service")
    except ImportError:
        return None
    found: Callable[..., CapacityReport] | None = getattr(service, "capacity_of", None)
    return found


def capacity(history: History | None, today: date) -> tuple[CapacityReport | None, str]:
    """The capacity report of a history, or None and why there is none."""
    if history is None or not history.server:
        return None, NEEDS_ROLLUPS
    forecast = _forecaster()
    if forecast is None:
        return None, NEEDS_FORECAST
    return forecast(history), ""


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


def row(store: Store, name: str, now: datetime) -> FleetRow:
    """One recording's row, read through the store's indexes (see the module)."""
    today = now.astimezone(UTC).date()
    live = store.writing(name).live(now)
    cover = store.coverage(name)
    if cover is None:
        return FleetRow(name, None, live, None, None, None, Spark("", ()),
                        note="no sample yet")
    last = cover[1]
    history = history_of(store, name, today - timedelta(days=SPARK_DAYS - 1), today)
    report, why = capacity(history, today)
    first = earliest(report.resources) if report is not None else None
    order = urgency(first)[0] if first is not None else _UNKNOWN
    spark = (spark_of_history(history, today) if history is not None and history.server
             else _spark_of_series(store, name, last))
    seized = seized_week(history, today) if history is not None and history.server else None
    return FleetRow(name, last, live, worst_now(store, name, last), seized, first, spark,
                    order, why if seized is None or first is None else "")


def rank(store: Store, now: datetime | None = None,
         names: Sequence[str] | None = None) -> list[FleetRow]:
    """Every recording of ``store`` (or those of ``names``), the one that runs out first on
    top (:func:`rank_key`): what ``capacity --all`` prints and ``serve``'s fleet page
    shows."""
    at = now or datetime.now(UTC)
    return sorted((row(store, n, at) for n in (names or store.names())), key=rank_key)
