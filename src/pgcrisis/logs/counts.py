"""Errors of the log counted per minute and group, as the store keeps them."""

from __future__ import annotations

from collections.abc import Iterable

from pgcrisis.logs.record import ERRORS, LogRecord
from pgcrisis.logs.statements import normalize, tag_of
from pgcrisis.store import LogErrorCount, to_us
from pgcrisis.store.series import MINUTE_US

#: a sample message is cut here
SAMPLE_MAX = 500


def count(records: Iterable[LogRecord]) -> list[LogErrorCount]:
    """One count per minute and group (severity, SQLSTATE, normalized statement, queryid,
    application, tag) of the ERROR/FATAL/PANIC records, with how many and the latest message.

    >>> from datetime import UTC, datetime
    >>> at = datetime(2026, 1, 1, 9, 0, 5, tzinfo=UTC)
    >>> r = LogRecord(at, "ERROR", "22012", "division by zero",
    ...               "SELECT 1/0 /* view='report' */", "shop")
    >>> [(c.statement, c.tag, c.count) for c in count([r, r])]
    [('SELECT ?/?', 'report', 2)]
    """
    groups: dict[tuple[int, str], LogErrorCount] = {}
    seen: dict[tuple[int, str], tuple[int, str]] = {}  # (minute, group) -> (count, message)
    for r in records:
        if r.severity not in ERRORS:
            continue
        t = to_us(r.time)
        minute = t - t % MINUTE_US
        first = LogErrorCount(minute, r.severity, r.sqlstate, normalize(r.statement),
                              r.queryid, r.application, tag_of(r.statement), 1, "")
        key = (minute, first.group)
        groups.setdefault(key, first)
        n, _ = seen.get(key, (0, ""))
        seen[key] = (n + 1, r.message[:SAMPLE_MAX])
    return [LogErrorCount(c.t, c.severity, c.sqlstate, c.statement, c.queryid, c.application,
                          c.tag, *seen[key]) for key, c in groups.items()]
