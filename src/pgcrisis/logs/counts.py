"""Errors of the log counted per minute and group, as the store keeps them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from pgcrisis.logs.parse import ERRORS, LogRecord, normalize, tag_of
from pgcrisis.record.db import to_us
from pgcrisis.record.frame import LogErrorRow
from pgcrisis.record.timeline import MINUTE_US

#: a sample message is cut here
SAMPLE_MAX = 500


def count(records: Iterable[LogRecord]) -> list[LogErrorRow]:
    """One row per minute and group (severity, SQLSTATE, normalized statement, queryid,
    application, tag) of the ERROR/FATAL/PANIC records, with how many and the latest message.

    >>> from datetime import UTC, datetime
    >>> at = datetime(2026, 1, 1, 9, 0, 5, tzinfo=UTC)
    >>> r = LogRecord(at, "ERROR", "22012", "division by zero",
    ...               "SELECT 1/0 /* view='report' */", "shop")
    >>> [(row[4], row[7], row[8]) for row in count([r, r])]
    [('SELECT ?/?', 'report', 2)]
    """
    groups: dict[tuple[int, str], list[object]] = {}
    for r in records:
        if r.severity not in ERRORS:
            continue
        t = to_us(r.time)
        minute = t - t % MINUTE_US
        statement = normalize(r.statement)
        tag = tag_of(r.statement)
        parts = (r.severity, r.sqlstate, statement, str(r.queryid or ""), r.application, tag)
        key = hashlib.sha1("\x00".join(parts).encode()).hexdigest()[:16]
        entry = groups.get((minute, key))
        if entry is None:
            groups[(minute, key)] = [minute, key, r.severity, r.sqlstate, statement, r.queryid,
                                     r.application, tag, 1, r.message[:SAMPLE_MAX]]
        else:
            entry[8] = int(str(entry[8])) + 1
            entry[9] = r.message[:SAMPLE_MAX]
    return [tuple(v) for v in groups.values()]  # type: ignore[misc]
