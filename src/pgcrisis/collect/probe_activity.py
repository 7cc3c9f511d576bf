"""Sessions, their locks and prepared transactions: the parts lock and session checks read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pgcrisis.collect.probe import ProbeContext, probe
from pgcrisis.model.activity import (
    Backend,
    HeldLock,
    LockCount,
    LockWait,
    PreparedXact,
    Transactions,
)
from pgcrisis.model.parts import ACTIVITY, LOCKS, PREPARED

#: relation lock modes that mark DDL, REFRESH or LOCK TABLE (ShareLock and above)
STRONG_MODES = frozenset({"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock",
                          "AccessExclusiveLock"})


@probe(ACTIVITY)
def activity(ctx: ProbeContext) -> Mapping[str, Any]:
    """Every other session in ``pg_stat_activity`` (each with its row: none is counted
    instead, as a recording does), and the server's transaction counters."""
    rows = ctx.composed_dicts("activity")
    backends = tuple(
        Backend(**{**row, "blocked_by": tuple(row["blocked_by"] or ())}) for row in rows
    )
    counted = ctx.rows("transactions", Transactions)
    return {"activity": backends, "counted_sessions": (),
            "transactions": counted[0] if counted else None}


@probe(LOCKS)
def locks(ctx: ProbeContext) -> Mapping[str, Any]:
    """Lock counts per backend, awaited locks, and strong relation locks: one read of
    ``pg_locks``."""
    counts: list[LockCount] = []
    waits: list[LockWait] = []
    strong: list[HeldLock] = []
    for row in ctx.dicts("locks"):
        if row["row_kind"] == "count":
            counts.append(LockCount(row["pid"], row["total"], row["granted_count"],
                                    row["waiting"], row["relations"]))
            continue
        if not row["granted"]:
            waits.append(LockWait(row["pid"], row["locktype"], row["mode"], row["relation"],
                                  row["relkind"]))
        if (row["locktype"] == "relation" and row["relation"] is not None
                and row["mode"] in STRONG_MODES):
            strong.append(HeldLock(row["pid"], row["mode"], row["relation"], row["relkind"],
                                   row["granted"]))
    return {"lock_counts": tuple(counts), "lock_waits": tuple(waits),
            "strong_locks": tuple(strong)}


@probe(PREPARED)
def prepared(ctx: ProbeContext) -> Mapping[str, Any]:
    """Prepared (two-phase) transactions."""
    rows = ctx.dicts("prepared_xacts")
    return {"prepared": tuple(
        PreparedXact(**{**row, "relations": tuple(row["relations"] or ())}) for row in rows
    )}
