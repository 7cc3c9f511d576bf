"""Errors of the log counted per minute and group, as the store keeps them; and what a piece of
the log read gives the store (:func:`tally`: its errors and its slow statements)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from pgcrisis.logs.events import classify
from pgcrisis.logs.record import ERRORS, LogRecord
from pgcrisis.logs.slow_counts import count_slow
from pgcrisis.logs.statements import normalize, tag_of
from pgcrisis.store import LogErrorCount, LogSlowCount, to_us
from pgcrisis.store.series import MINUTE_US

#: a sample message is cut here
SAMPLE_MAX = 500


class LogCounts(NamedTuple):
    """What the store keeps of a piece of the log: its errors and its slow statements."""

    errors: list[LogErrorCount]
    slow: list[LogSlowCount]


def count(records: Iterable[LogRecord]) -> list[LogErrorCount]:
    """One count per minute and group (severity, SQLSTATE, normalized statement, queryid,
    application, tag, role, database) of the ERROR/FATAL/PANIC records, with how many and
    the latest message.

    >>> from datetime import UTC, datetime
    >>> at = datetime(2026, 1, 1, 9, 0, 5, tzinfo=UTC)
    >>> r = LogRecord(at, "ERROR", "22012", "division by zero",
    ...               "SELECT 1/0 /* view='report' */", "shop", user="web", database="db")
    >>> [(c.statement, c.tag, c.role, c.database, c.count) for c in count([r, r])]
    [('SELECT ?/?', 'report', 'web', 'db', 2)]
    """
    groups: dict[tuple[int, str], LogErrorCount] = {}
    seen: dict[tuple[int, str], tuple[int, str]] = {}  # (minute, group) -> (count, message)
    for r in records:
        if r.severity not in ERRORS:
            continue
        t = to_us(r.time)
        minute = t - t % MINUTE_US
        first = LogErrorCount(minute, r.severity, r.sqlstate, normalize(r.statement),
                              r.queryid, r.application, tag_of(r.statement), 1, "",
                              r.user, r.database)
        key = (minute, first.group)
        groups.setdefault(key, first)
        n, _ = seen.get(key, (0, ""))
        seen[key] = (n + 1, r.message[:SAMPLE_MAX])
    return [LogErrorCount(c.t, c.severity, c.sqlstate, c.statement, c.queryid, c.application,
                          c.tag, *seen[key], c.role, c.database)
            for key, c in groups.items()]


def tally(records: Iterable[LogRecord]) -> LogCounts:
    """The errors and slow statements of ``records`` (the events are
    :func:`~pgcrisis.logs.events.classify`'s)."""
    kept = list(records)
    events = [e for e in map(classify, kept) if e is not None]
    return LogCounts(count(kept), count_slow(events))
