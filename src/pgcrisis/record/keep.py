"""What a recorded frame keeps of the sessions and lock counts: every row a check can act on,
and counts for the rest.

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
  ``CLUSTER`` (autovacuum's ``autovacuum: VACUUM ...`` counts), or anything the per-minute
  series counts as a refresh (:func:`pgcrisis.store.series.refreshes`): the series is
  derived from the kept frame, and must count what the live sample had.

The rest are counted per (datname, usename, application_name, client_addr, backend_type,
state, wait_event_type, wait_event): a :class:`~pgcrisis.model.activity.SessionGroup` in the
snapshot's ``counted_sessions``, which the connection checks, the series and ``top``'s
header count alongside the rows. What is lost is each one's pid, age and statement, which a
sampling interval cannot see for short waits and short statements anyway. An idle pile's
"longest idle" is therefore a lower bound in a replay.

Lock counts keep the backends with at least :data:`LOCK_COUNT_MIN` (16) ``pg_locks`` rows.
The lock-hoarder check flags a transaction holding more than ``max_locks_per_transaction``
(64 by default; the server's minimum is 10) unless ``lock_hoarder_locks`` sets another limit;
a replayed snapshot of a server configured below 16 misses hoarders of 10 to 15 locks.

``top`` keeps every row (it shows every session, and stores nothing).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable
from dataclasses import replace

from pgcrisis.model.activity import SESSION_GROUP_KEY, Backend, SessionGroup
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.store.series import refreshes

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

_group_key = operator.attrgetter(*SESSION_GROUP_KEY)


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
    if state == "active" and refreshes(b.query):
        return True
    return state not in ("", "idle") and is_heavy(b.query)


def groups_of(rows: Iterable[Backend],
              counted: Iterable[SessionGroup] = ()) -> tuple[SessionGroup, ...]:
    """``rows`` counted per group, added to the groups already ``counted``, in order of first
    appearance.

    >>> from pgcrisis.model.activity import Backend
    >>> idle = Backend(7, "db", "u", "web", None, "client backend", "idle", None, 0.1, 0.1,
    ...                None, None, "select 1", ())
    >>> [(g.application_name, g.state, g.sessions) for g in groups_of([idle, idle])]
    [('web', 'idle', 2)]
    """
    counts: dict[tuple[str | None, ...], int] = {}
    for group in counted:
        key = _group_key(group)
        counts[key] = counts.get(key, 0) + group.sessions
    for b in rows:
        key = _group_key(b)
        counts[key] = counts.get(key, 0) + 1
    return tuple(SessionGroup(datname, usename, app or "", addr, backend_type or "", state,
                              wait_type, wait, n)
                 for (datname, usename, app, addr, backend_type, state, wait_type, wait), n
                 in counts.items())


def kept(snapshot: Snapshot) -> Snapshot:
    """``snapshot`` as a frame keeps it: lock counts below :data:`LOCK_COUNT_MIN` left out,
    the sessions no check acts on counted (``counted_sessions``) rather than kept
    (``activity``). Keeping a kept snapshot changes nothing."""
    lock_counts = tuple(c for c in snapshot.lock_counts if c.total >= LOCK_COUNT_MIN)
    named = {c.pid for c in lock_counts}
    named |= {w.pid for w in snapshot.lock_waits}
    named |= {h.pid for h in snapshot.strong_locks}
    named |= {pid for b in snapshot.activity for pid in b.blocked_by}
    full = tuple(b for b in snapshot.activity if keeps_row(b, named))
    if len(full) == len(snapshot.activity):
        return replace(snapshot, lock_counts=lock_counts)
    kept_ids = {id(b) for b in full}
    counted = groups_of((b for b in snapshot.activity if id(b) not in kept_ids),
                        snapshot.counted_sessions)
    return replace(snapshot, activity=full, counted_sessions=counted, lock_counts=lock_counts)
