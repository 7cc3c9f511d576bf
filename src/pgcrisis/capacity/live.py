"""``pgcrisis capacity DSN``: one pass over a live server, on triage's safe read-only session
and through the same probes (activity, relations, server health, sequences). One pass has
figures but no rates: it says where each resource stands against its limit now, and that a
date needs a recording (``pgcrisis record``) of at least two weeks.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from pgcrisis import quantities, sizes
from pgcrisis.capacity.advice import advise
from pgcrisis.capacity.forecast import MIN_DAYS, Exhaustion, Verdict
from pgcrisis.capacity.report import CapacityReport, Resource
from pgcrisis.capacity.resources import XID_WRAPAROUND_LIMIT, Horizon, Limits
from pgcrisis.capacity.service import WEEKLY_DAYS, Ask, limits_for
from pgcrisis.collect.session import SessionLimits
from pgcrisis.model.snapshot import Snapshot


def one_pass(dsn: str | None, ask: Ask, session: SessionLimits | None) -> CapacityReport:
    """Connect as triage does, read the four parts, judge what one pass can."""
    from pgcrisis.collect.collector import collect
    from pgcrisis.collect.session import connect
    from pgcrisis.dsn import resolve
    from pgcrisis.model.parts import ACTIVITY, RELATIONS, SEQUENCES, SERVER_HEALTH

    limits, plans = limits_for(ask)
    with connect(resolve(dsn), session) as conn:
        snapshot = collect(conn, parts=(ACTIVITY, RELATIONS, SERVER_HEALTH, SEQUENCES))
    return report_of(snapshot, ask, limits, plans)


def report_of(snapshot: Snapshot, ask: Ask, limits: Limits, plans: tuple[object, ...] = ()
              ) -> CapacityReport:
    """The one-pass report of ``snapshot``."""
    today = snapshot.taken_at.date()
    found = _resources(snapshot, limits, ask.level, today)
    tables = snapshot.relations.tables
    inserted = sum(t.n_tup_ins for t in tables)
    updated = sum(t.n_tup_upd for t in tables)
    deleted = sum(t.n_tup_del for t in tables)
    needs = (f"one pass has no rates: record it (pgcrisis record) for {MIN_DAYS} days for "
             f"dates, {WEEKLY_DAYS} for the weekly pattern, a year for the monthly chart",
             f"rows since the statistics were reset in {snapshot.server.database}: "
             f"{quantities.count(inserted)} inserted, {quantities.count(updated)} updated, "
             f"{quantities.count(deleted)} deleted")
    horizon = Horizon(today, ask.level, ask.horizon_days)
    from pgcrisis.capacity.plans import Plan

    chosen = tuple(p for p in plans if isinstance(p, Plan))
    return CapacityReport(
        name=snapshot.server.database, generated_at=datetime.now(UTC), history_days=0,
        resources=found, plans=advise(chosen, found, horizon), needs=needs, level=ask.level,
        source="one pass", today=today)


def _now(key: str, label: str, unit: str, current: float, limit: float | None, source: str,
         level: float, today: date, missing: str = "") -> Resource:
    """A resource as it stands: reached, or no date without a history."""
    if limit is not None and current >= limit:
        e = Exhaustion(Verdict.REACHED, today, today, today, level, "reached now")
    else:
        why = missing if limit is None else (f"{current / limit:.0%} of the limit now; a "
                                             "date needs a recording")
        e = Exhaustion(Verdict.CANNOT_TELL, None, None, None, level, why)
    return Resource(key, label, unit, current, limit, source if limit is not None else "", e,
                    ((today, current),))


def _resources(s: Snapshot, limits: Limits, level: float, today: date
               ) -> tuple[Resource, ...]:
    block = s.server.block_size
    measured = sum(t.relpages for t in s.relations.tables) + sum(
        i.relpages for i in s.relations.indexes)
    health = s.server_health
    xid = max((d.xid_age for d in health.databases), default=0)
    freeze = health.setting_int("autovacuum_freeze_max_age", 200_000_000)
    clients = sum(1 for b in s.activity if b.is_client)
    active = sum(1 for b in s.activity if b.is_client and b.state == "active")
    out = [
        _now("disk", f"disk ({s.server.database}: tables and indexes as last measured, "
             f"{sizes.words(measured * block)})", "bytes", float(measured * block),
             limits.disk_bytes, limits.disk_from, level, today,
             "no disk size: give --disk-size or a plan with storage"),
        _now("connections", "connections (now)", "connections", float(clients),
             limits.connections or health.usable_connections,
             limits.connections_from or "max_connections less the reserved", level, today),
        _now("xid-freeze", "transaction IDs to autovacuum_freeze_max_age", "xids", float(xid),
             freeze, "autovacuum_freeze_max_age", level, today),
        _now("xid-wraparound", "transaction IDs to wraparound", "xids", float(xid),
             XID_WRAPAROUND_LIMIT, f"{XID_WRAPAROUND_LIMIT:,} (2^31 less a safety margin)",
             level, today),
        _now("cpu", "CPU (active sessions now)", "sessions", float(active), limits.cpus,
             limits.cpus_from, level, today, "no CPU count: give --cpus or a plan with cpus"),
    ]
    nearest = sorted((q for q in s.sequences if q.last_value is not None and q.increment > 0),
                     key=lambda q: -q.used_share)[:3]
    for q in nearest:
        out.append(_now(f"sequence:{s.server.database}.{q.name}", f"sequence {q.name}",
                        "values", float(q.last_value or 0), float(q.limit),
                        "its type's largest value", level, today))
    return tuple(out)
