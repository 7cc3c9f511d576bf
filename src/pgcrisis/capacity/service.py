"""``pgcrisis capacity``'s one orchestration entry: a recording's days (``--store``) or one
pass over a live server in, a :class:`~pgcrisis.capacity.report.CapacityReport` out.

:func:`capacity_of` is pure (a :class:`History` in): tests and the fleet build reports from
it. :func:`live_capacity` reads what one pass can (current sizes, XID ages, sequences against
their limits, row counts since the statistics' reset) on the same safe read-only session
triage uses, and says what a forecast would need.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from pgcrisis.capacity import plans as plans_mod
from pgcrisis.capacity.advice import advise
from pgcrisis.capacity.forecast import MIN_DAYS
from pgcrisis.capacity.report import CapacityReport, DayChanges, MonthChanges, Resource
from pgcrisis.capacity.resources import XID_WRAPAROUND_LIMIT, Horizon, Limits, resources
from pgcrisis.capacity.rollups import DatabaseDay, History
from pgcrisis.errors import ConfigError

if TYPE_CHECKING:
    from pgcrisis.collect.session import SessionLimits

#: days of recording the weekly pattern needs
WEEKLY_DAYS = 28

@dataclass(frozen=True, slots=True)
class Ask:
    """What the command was asked: its limits and plans (from flags and pgcrisis.toml)."""

    disk_size: int | None = None
    cpus: int | None = None
    plans: Mapping[str, Any] | None = None
    plan: str | None = None
    level: float = 0.8
    horizon_days: int = 730


def limits_for(ask: Ask) -> tuple[Limits, tuple[plans_mod.Plan, ...]]:
    """The limits to judge by and the plans to advise between. ``--plan NAME`` judges the
    server against that plan alone: its storage and cpus stand in for ``--disk-size`` and
    ``--cpus`` (a plan lacking one asked for is an error), its connections for
    max_connections."""
    every = plans_mod.read_plans(ask.plans or {})
    chosen = plans_mod.chosen(every, ask.plan)
    disk, disk_from = ask.disk_size, "--disk-size"
    cpus, cpus_from = ask.cpus, "--cpus"
    connections, connections_from = None, ""
    if ask.plan is not None:
        plan = chosen[0]
        if disk is None:
            disk, disk_from = plans_mod.require(plan, "storage", "--disk-size"), \
                f"plan {plan.name}"
        if cpus is None:
            cpus, cpus_from = plans_mod.require(plan, "cpus", "--cpus"), f"plan {plan.name}"
        if plan.connections is not None:
            connections, connections_from = plan.connections, f"plan {plan.name}"
    return Limits(disk, disk_from, cpus, cpus_from, connections, connections_from), chosen


def capacity_of(history: History, ask: Ask, *, today: date | None = None,
                generated_at: datetime | None = None) -> CapacityReport:
    """The growth report of ``history``: resources, the changes' chart, plan advice."""
    limits, plans = limits_for(ask)
    day = today or (history.server[-1].day if history.server else datetime.now(UTC).date())
    horizon = Horizon(day, ask.level, ask.horizon_days)
    found = resources(history, limits, horizon)
    days = _days_recorded(history)
    return CapacityReport(
        name=history.name, generated_at=generated_at or datetime.now(UTC),
        history_days=days, resources=found, months=months(history.databases),
        plans=advise(plans, found, horizon), needs=_needs(days, found),
        days=per_day(history.databases), level=ask.level, today=day)


def _days_recorded(history: History) -> int:
    days = {d.day for d in history.server} | {d.day for d in history.databases}
    return len(days)


def _needs(days: int, found: tuple[Resource, ...]) -> tuple[str, ...]:
    """What more would let the report say more."""
    out = []
    if days < MIN_DAYS:
        out.append(f"record for {MIN_DAYS - days} more days for forecasts "
                   f"({days} recorded, {MIN_DAYS} needed)")
    elif days < WEEKLY_DAYS:
        out.append(f"record for {WEEKLY_DAYS - days} more days for the weekly pattern")
    for r in found:
        if r.limit is None and r.exhaustion.reason:
            out.append(f"{r.key}: {r.exhaustion.reason}")
    return tuple(out)


def _changes(rows: list[DatabaseDay]) -> tuple[int, int, int]:
    return (sum(r.inserted or 0 for r in rows), sum(r.updated or 0 for r in rows),
            sum(r.deleted or 0 for r in rows))


def months(databases: tuple[DatabaseDay, ...]) -> tuple[MonthChanges, ...]:
    """Rows changed per calendar month, all databases (the seed's chart)."""
    by_month: dict[date, list[DatabaseDay]] = {}
    for d in databases:
        by_month.setdefault(d.day.replace(day=1), []).append(d)
    return tuple(MonthChanges(m, *_changes(rows)) for m, rows in sorted(by_month.items()))


def per_day(databases: tuple[DatabaseDay, ...]) -> tuple[DayChanges, ...]:
    """Rows changed per day, all databases."""
    by_day: dict[date, list[DatabaseDay]] = {}
    for d in databases:
        by_day.setdefault(d.day, []).append(d)
    return tuple(DayChanges(d, *_changes(rows)) for d, rows in sorted(by_day.items()))


def store_capacity(store: str, name: str | None, ask: Ask) -> CapacityReport:
    """``capacity --store``: the recording's days from the store's rollups."""
    from pgcrisis.history.service import recording_name
    from pgcrisis.store import open_store

    limits_for(ask)  # a bad plan or size is reported before the store is opened
    opened = open_store(store, create=False)
    try:
        recording = recording_name(opened, name)
        history = opened.history(recording)  # all of it: a stopped recorder's too
    finally:
        opened.close()
    enough(history)
    return capacity_of(history, ask)


def enough(history: History) -> None:
    """A recording too short to forecast from is bad input for ``--store`` (one pass over
    the live server says what it can without one)."""
    days = _days_recorded(history)
    if days < MIN_DAYS:
        raise ConfigError(f"recording {history.name!r} has {days} day(s) of history; "
                          f"capacity needs {MIN_DAYS}: record longer, or give a DSN for "
                          "one pass")


def live_capacity(dsn: str | None, ask: Ask, limits: SessionLimits | None = None
                  ) -> CapacityReport:
    """One pass over a live server: what it can say now, and what a forecast would need."""
    from pgcrisis.capacity.live import one_pass

    return one_pass(dsn, ask, limits)


__all__ = ["XID_WRAPAROUND_LIMIT", "Ask", "capacity_of", "live_capacity", "store_capacity"]
