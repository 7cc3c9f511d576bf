"""What a frame keeps of the sessions and lock counts: every row a check can act on, and
counts for the rest.

A busy server has hundreds of sessions, most of them idle or running a statement of a few
milliseconds; each sample would store them all again, and their rows say nothing the checks
use. A session keeps its full row when it matters to a check:

- it waits on a lock (``wait_event_type = 'Lock'``), or blocks someone (its pid is in another
  session's ``blocked_by``), or another part of the same frame names it (a lock count kept
  below, a strong lock, a lock wait: the lock checks look its row up for a name and a query);
- it has been in a transaction (idle in it or not), or active in one statement, for at least
  a second (a client between two statements of a short transaction is counted: the checks
  judge an idle transaction from a second on);
- its ``backend_xmin_age`` or ``backend_xid_age`` is at least 1000 (it may hold the horizon);
- it is running (any state but idle) a ``REFRESH MATERIALIZED VIEW``, a ``CALL``, or DDL:
  ``CREATE``, ``ALTER``, ``DROP``, ``TRUNCATE``, ``VACUUM``, ``ANALYZE``, ``REINDEX``,
  ``CLUSTER`` (autovacuum's ``autovacuum: VACUUM ...`` counts).

The rest are counted per (datname, usename, application_name, client_addr, backend_type,
state, wait_event_type, wait_event) and rebuilt on reading as that many :class:`Backend`
rows with negative synthetic pids (-1, -2, ...), an empty query, no blockers and zero ages
(``None`` where the state says there is none: no transaction when idle, nothing at all for
processes without a state). The connection checks count those rows as before (per client,
per state, per role); what is lost is each one's age and statement, which a sampling interval
cannot see for short waits and short statements anyway. An idle pile's "longest idle" is
therefore a lower bound in a replay.

Lock counts keep the backends with at least :data:`LOCK_COUNT_MIN` (16) ``pg_locks`` rows.
The lock-hoarder check flags a transaction holding more than ``max_locks_per_transaction``
(64 by default; the server's minimum is 10) unless ``lock_hoarder_locks`` sets another limit;
a replayed snapshot of a server configured below 16 misses hoarders of 10 to 15 locks.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pgcrisis.model.activity import Backend, LockCount

#: lock counts below this are not kept (see the module's docstring)
LOCK_COUNT_MIN = 16
#: a transaction or statement this old (seconds) keeps its session's row
LONG_S = 1.0
#: an XID age this large keeps its session's row
XID_AGE_MIN = 1000

_HEAVY = re.compile(
    r"^(?:\s+|/\*.*?\*/|--[^\n]*(?:\n|$))*(?:autovacuum:\s*)?"
    r"(?:REFRESH\s+MATERIALIZED|CALL|CREATE|ALTER|DROP|TRUNCATE|VACUUM|ANALYZE|REINDEX|CLUSTER)\b",
    re.IGNORECASE | re.DOTALL)


#: what the counted sessions of one group share, in the order a group key holds them (the
#: stored form: changing it changes the encoding, see codec.FORMAT_VERSION)
GROUP_FIELDS = ("datname", "usename", "application_name", "client_addr", "backend_type",
                "state", "wait_event_type", "wait_event")
#: a group's key: the values of :data:`GROUP_FIELDS`
GroupKey = tuple[str | None, ...]
_group_key = operator.attrgetter(*GROUP_FIELDS)


def stand_ins(key: GroupKey, count: int, first_pid: int) -> list[Backend]:
    """``count`` stand-in rows of group ``key``, pids ``first_pid``, ``first_pid - 1``, ...

    >>> [b.pid for b in stand_ins(("db", "u", "web", None, "client backend", "idle", None,
    ...                            None), 2, -3)]
    [-3, -4]
    """
    datname, usename, app, addr, backend_type, state, wait_type, wait = key
    xact = None if state is None or state == "idle" else 0.0
    other = None if state is None else 0.0
    return [Backend(first_pid - i, datname, usename, app or "", addr, backend_type or "", state,
                    xact, other, other, wait_type, wait, "", ())
            for i in range(count)]


def is_heavy(query: str) -> bool:
    """A statement that takes strong locks or runs long by nature (REFRESH, CALL, DDL).

    >>> is_heavy("/* job 7 */ REFRESH MATERIALIZED VIEW mv"), is_heavy("select 1")
    (True, False)
    >>> is_heavy("autovacuum: VACUUM public.orders"), is_heavy("-- x\\n alter table t")
    (True, True)
    """
    return _HEAVY.match(query) is not None


def keeps_row(b: Backend, named: set[int]) -> bool:
    """Whether session ``b`` keeps its full row (``named``: pids that others point at)."""
    if b.pid in named or b.blocked_by or b.wait_event_type == "Lock":
        return True
    state = b.state or ""
    # idle in transaction for under a second is a client between two statements: the checks
    # only judge it from a second on (idle_blocking_min_s), so it is counted, not kept
    if (b.xact_age_s or 0.0) >= LONG_S or (state == "active" and (b.query_age_s or 0.0) >= LONG_S):
        return True
    if max(b.backend_xmin_age or 0, b.backend_xid_age or 0) >= XID_AGE_MIN:
        return True
    return state not in ("", "idle") and is_heavy(b.query)


def groups_of(rows: Iterable[Backend]) -> dict[GroupKey, int]:
    """Sessions counted per group, in order of first appearance."""
    counts: dict[GroupKey, int] = {}
    for b in rows:
        key = _group_key(b)
        counts[key] = counts.get(key, 0) + 1
    return counts


@dataclass(frozen=True, slots=True)
class Sessions:
    """A frame's sessions as a store keeps them: the full rows, and counts of the others."""

    full: tuple[Backend, ...]
    groups: Mapping[GroupKey, int]

    @classmethod
    def of(cls, activity: Iterable[Backend]) -> Sessions:
        """Already compacted rows (stand-ins have negative pids) as kept."""
        rows = list(activity)
        return cls(tuple(b for b in rows if b.pid >= 0), groups_of(b for b in rows if b.pid < 0))

    def rows(self) -> tuple[Backend, ...]:
        """The session rows reading the frame gives: the full rows, then the stand-ins."""
        out = list(self.full)
        pid = -1
        for key, count in self.groups.items():
            out.extend(stand_ins(key, count, pid))
            pid -= count
        return tuple(out)


def split_activity(activity: Iterable[Backend], named: set[int]) -> Sessions:
    """Which sessions keep their rows (``named``: pids other parts of the frame point at)."""
    rows = list(activity)
    named = named | {pid for b in rows for pid in b.blocked_by}
    full = [b for b in rows if b.pid >= 0 and keeps_row(b, named)]
    kept = {id(b) for b in full}
    return Sessions(tuple(full), groups_of(b for b in rows if id(b) not in kept))


def compact_activity(activity: Iterable[Backend], named: set[int]) -> tuple[Backend, ...]:
    """``activity`` as reading a frame gives it back."""
    return split_activity(activity, named).rows()


def stored_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a frame as a store keeps them: lock counts filtered, sessions split into
    full rows and counts (:class:`Sessions`), the rest as is."""
    out = dict(fields)
    if "lock_counts" in out:
        out["lock_counts"] = tuple(c for c in out["lock_counts"]
                                   if isinstance(c, LockCount) and c.total >= LOCK_COUNT_MIN)
    if "activity" in out:
        named = {c.pid for c in out.get("lock_counts", ())}
        named |= {w.pid for w in out.get("lock_waits", ())}
        named |= {h.pid for h in out.get("strong_locks", ())}
        out["activity"] = split_activity(out["activity"], named)
    return out


def compact(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a frame as reading it gives them back."""
    out = stored_fields(fields)
    if "activity" in out:
        out["activity"] = out["activity"].rows()
    return out
