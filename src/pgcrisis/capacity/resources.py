"""Each resource a server can run out of, from a recording's days: its figure per day, its
limit (and where the limit comes from), and the forecast of when it gets there.

- ``disk``: all databases' bytes at the day's end, against ``--disk-size`` or a plan's storage;
- ``connections``: the day's peak of client connections (a server refuses the peak, not the
  average), against ``max_connections`` or a plan's;
- ``xid-freeze``: the oldest transaction-ID age against ``autovacuum_freeze_max_age``, where
  the anti-wraparound autovacuum starts (not an outage: a warning that freezing lags);
- ``xid-wraparound``: the same age against :data:`XID_WRAPAROUND_LIMIT`;
- ``sequence:<database>.<name>``: a sequence's (or integer key's) last value against its
  type's largest, the :data:`SEQUENCES_SHOWN` that run out first;
- ``cpu``: active sessions' 95th percentile against the CPUs (``--cpus`` or a plan's): more
  sessions wanting a CPU than there are is a queue.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from pgcrisis.capacity.forecast import Exhaustion, Verdict, exhaustion
from pgcrisis.capacity.report import Resource
from pgcrisis.capacity.rollups import History, SequenceDay, ServerDay

#: 2^31 (2,147,483,648) is where XIDs wrap; PostgreSQL stops assigning them 3 million
#: before, and warns from 40 million before. 2,000,000,000 leaves ~147 million of headroom:
#: days of writes on a busy server, the time a VACUUM of a large database may take.
XID_WRAPAROUND_LIMIT = 2_000_000_000
#: sequences forecast and shown: those nearest their end by a first, crude look
SEQUENCES_SHOWN = 3


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits the resources are judged against, each with where it comes from (None:
    not known; the resource then says what would let it judge)."""

    disk_bytes: int | None = None
    disk_from: str = ""
    cpus: int | None = None
    cpus_from: str = ""
    connections: int | None = None
    connections_from: str = ""


@dataclass(frozen=True, slots=True)
class Horizon:
    """What every forecast shares: today, the interval's level, how far it looks."""

    today: date
    level: float = 0.8
    days: int = 730


def _series(days: Sequence[ServerDay], pick: Callable[[ServerDay], float | int | None]
            ) -> tuple[tuple[date, float], ...]:
    return tuple((d.day, float(v)) for d in days if (v := pick(d)) is not None)


def _last(days: Sequence[ServerDay], pick: Callable[[ServerDay], int | None]) -> int | None:
    for d in reversed(days):
        value = pick(d)
        if value is not None:
            return value
    return None


def judge(key: str, label: str, unit: str, series: tuple[tuple[date, float], ...],
          limit: float | None, source: str, horizon: Horizon, missing: str) -> Resource:
    """One resource: its forecast against ``limit``, or why there is none (``missing``
    says what would give the limit)."""
    current = series[-1][1] if series else None
    if limit is None:
        return Resource(key, label, unit, current, None, "", _none(horizon, missing), series)
    if not series:
        return Resource(key, label, unit, None, limit, source,
                        _none(horizon, "not measured in this recording"), series)
    found, fit = exhaustion([d for d, _ in series], [v for _, v in series], limit,
                            today=horizon.today, level=horizon.level,
                            horizon_days=horizon.days)
    return Resource(key, label, unit, current, limit, source, found, series, fit)


def _none(horizon: Horizon, reason: str) -> Exhaustion:
    return Exhaustion(Verdict.CANNOT_TELL, None, None, None, horizon.level, reason)


def server_resources(history: History, limits: Limits, horizon: Horizon
                     ) -> tuple[Resource, ...]:
    """Disk, connections, the two XID limits and CPU, from the server's days."""
    days = history.server
    max_connections = _last(days, lambda d: d.max_connections)
    connections = limits.connections or max_connections
    freeze = _last(days, lambda d: d.autovacuum_freeze_max_age)
    xid = _series(days, lambda d: d.xid_age)
    return (
        judge("disk", "disk (all databases)", "bytes", _series(days, lambda d: d.database_bytes),
              limits.disk_bytes, limits.disk_from, horizon,
              "no disk size: give --disk-size or a plan with storage"),
        judge("connections", "connections (daily peak)", "connections",
              _series(days, lambda d: d.connections_peak), connections,
              limits.connections_from if limits.connections else "max_connections",
              horizon, "max_connections not recorded: give a plan with connections"),
        judge("xid-freeze", "transaction IDs to autovacuum_freeze_max_age", "xids", xid,
              freeze, "autovacuum_freeze_max_age", horizon,
              "autovacuum_freeze_max_age not recorded"),
        judge("xid-wraparound", "transaction IDs to wraparound", "xids", xid,
              XID_WRAPAROUND_LIMIT, f"{XID_WRAPAROUND_LIMIT:,} (2^31 less a safety margin)",
              horizon, ""),
        judge("cpu", "CPU (active sessions, daily p95)", "sessions",
              _series(days, lambda d: d.active_p95), limits.cpus, limits.cpus_from, horizon,
              "no CPU count: give --cpus or a plan with cpus"),
    )


def sequence_resources(sequences: Sequence[SequenceDay], horizon: Horizon
                       ) -> tuple[Resource, ...]:
    """The :data:`SEQUENCES_SHOWN` sequences that run out first: each one's days, by a crude
    look (used share, then the straight line from its first day to its last), then
    forecast properly."""
    by_name: dict[tuple[str, str], list[SequenceDay]] = {}
    for s in sequences:
        by_name.setdefault((s.database, s.name), []).append(s)

    def crude(days: list[SequenceDay]) -> float:
        first, last = days[0], days[-1]
        left = last.max_value - last.last_value
        rate = (last.last_value - first.last_value) / max(1, (last.day - first.day).days)
        return left / rate if rate > 0 else float("inf")

    nearest = sorted(by_name.items(), key=lambda item: (crude(item[1]),
                                                        -item[1][-1].last_value
                                                        / item[1][-1].max_value))
    out = []
    for (database, name), days in nearest[:SEQUENCES_SHOWN]:
        where = f"{database}.{name}" if database else name
        series = tuple((d.day, float(d.last_value)) for d in days)
        out.append(judge(f"sequence:{where}", f"sequence {where}", "values", series,
                         float(days[-1].max_value), "its type's largest value", horizon, ""))
    return tuple(out)


def resources(history: History, limits: Limits, horizon: Horizon) -> tuple[Resource, ...]:
    """Every resource of ``history``."""
    return (*server_resources(history, limits, horizon),
            *sequence_resources(history.sequences, horizon))


#: how soon a verdict says a resource runs out, as a rank: a resource nobody can tell about is
#: a worry before one that lasts past the horizon
URGENCY = {Verdict.REACHED: 0, Verdict.DATE: 1, Verdict.CANNOT_TELL: 2, Verdict.NOT_WITHIN: 3}


def order(resource: Resource) -> tuple[int, date]:
    """How soon a resource runs out, as a sort key: reached first, then by date, then cannot
    tell, then not within the horizon (:attr:`CapacityReport.first`, the renderers, the
    fleet's ranking).

    >>> from pgcrisis.capacity.forecast import Exhaustion
    >>> e = Exhaustion(Verdict.DATE, date(2027, 3, 1), date(2027, 2, 1), date(2027, 5, 1),
    ...                0.8, "linear")
    >>> order(Resource("disk", "disk", "B", 1.0, 2.0, "--disk-size", e))
    (1, datetime.date(2027, 3, 1))
    """
    e = resource.exhaustion
    return URGENCY[e.verdict], e.when or date.max
