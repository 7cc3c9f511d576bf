"""What the server's log adds to a recording, written and read the same way by both stores:
errors counted per minute and group (``log_errors``) and slow statements (``log_slow``).

A minute's group may be written more than once (the follower reads the log in pieces): errors
add their counts in SQL; slow statements are read back and added to in Python (their
histograms are JSON, their longest a maximum, which the two dialects spell differently), by
the recording's one writer. A plan is content (:mod:`._content`): stored once however often
it is logged, its ``used`` mark the latest minute that refers to it, so retention's garbage
collection keeps it as long as a row does.
"""

from __future__ import annotations

from collections.abc import Sequence

from pgcrisis.store import histogram
from pgcrisis.store._content import Content
from pgcrisis.store._db import Db
from pgcrisis.store._interface import LogErrorCount, LogSlowCount
from pgcrisis.store._meta import LOG_DIMENSIONS_SCHEMA

MINUTE_US = 60_000_000


def write_errors(db: Db, rec: int, rows: Sequence[LogErrorCount]) -> None:
    """Add error counts (inside the caller's write)."""
    for r in rows:
        db.run("upsert_log_error", rec, r.t, r.group, r.severity, r.sqlstate, r.statement,
               r.queryid, r.application, r.tag, r.count, r.sample, r.role, r.database)


def write_slow(db: Db, rec: int, content: Content, rows: Sequence[LogSlowCount]) -> None:
    """Add slow-statement counts (inside the caller's write), their plans as content."""
    for r in rows:
        key = r.group
        before = db.one("log_slow_at", rec, r.t, key)
        n, total, longest, hist = r.count, r.total_ms, r.max_ms, r.histogram
        plan: int | None = None
        if before is not None:
            n += int(before[0])
            total += float(before[1])
            longest = max(longest, float(before[2]))
            hist = histogram.merged([hist, histogram.loads(str(before[3]))])
            plan = None if before[4] is None else int(before[4])
        if r.plan:
            content.t = r.t
            plan = content.string(r.plan).id
        db.run("upsert_log_slow", rec, r.t, key, r.statement, r.queryid, r.tag,
               r.application, r.role, r.database, n, total, longest, histogram.dumps(hist),
               plan)
    content.flush()


def read_errors(db: Db, rec: int, schema: int, first: int, end: int) -> list[LogErrorCount]:
    """The error counts of minutes ``first`` to ``end``, oldest first (a store of an older
    schema: without role nor database)."""
    if schema < 2:
        return []
    if schema < LOG_DIMENSIONS_SCHEMA:
        return [LogErrorCount(*_error(row)) for row in
                db.all("log_errors_between_v2", rec, first, end)]
    return [LogErrorCount(*_error(row[:9]), str(row[9]), str(row[10]))
            for row in db.all("log_errors_between", rec, first, end)]


def _error(row: Sequence[object]) -> tuple[int, str, str, str, int | None, str, str, int, str]:
    t, severity, sqlstate, statement, queryid, application, tag, n, sample = row
    return (int(str(t)), str(severity), str(sqlstate), str(statement),
            None if queryid is None else int(str(queryid)), str(application), str(tag),
            int(str(n)), str(sample))


def read_slow(db: Db, rec: int, schema: int, first: int, end: int) -> list[LogSlowCount]:
    """The slow-statement counts of minutes ``first`` to ``end``, oldest first, with their
    plans (a store of an older schema has none)."""
    if schema < LOG_DIMENSIONS_SCHEMA:
        return []
    rows = db.all("log_slow_between", rec, first, end)
    ids = sorted({int(r[11]) for r in rows if r[11] is not None})
    plans = {int(i): bytes(body).decode() for i, body in
             (db.all("content_by_id", rec, ids) if ids else [])}
    return [LogSlowCount(int(t), str(statement), None if queryid is None else int(queryid),
                         str(tag), str(app), str(role), str(dbname), int(n), float(total),
                         float(longest), histogram.loads(str(hist)),
                         plans.get(int(plan), "") if plan is not None else "")
            for t, statement, queryid, tag, app, role, dbname, n, total, longest, hist, plan
            in rows]
