"""What the log shows minute by minute, counted as the records stream past: the pure half of
``pgcrisis logs`` (records and their events in, a :class:`Tally` out, no file read here).

Memory is O(minutes times groups), never O(records): a 1 GiB log is counted, not kept. Each minute
holds a few counters; errors are grouped by severity and SQLSTATE, slow statements by their
normalized text, views by their sqlcommenter tag, each group with a count, a total and a
histogram for its 95th percentile (logarithmic buckets, so a million durations take a few
dozen integers). Groups beyond :data:`MAX_GROUPS` are folded into one "other" group and the
report says how many were folded, never dropped silently.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from pgcrisis.logs.events import Event, Kind
from pgcrisis.logs.parse import normalize, tag_of
from pgcrisis.logs.record import ERRORS, LogRecord

#: the minute table's columns, in order: ``errors`` counts ERROR/FATAL/PANIC records (whatever
#: their event), the others count events of these kinds (a refused connection is also an error)
COLUMNS: tuple[tuple[str, str, str], ...] = (  # key, label, label of one
    ("errors", "errors", "error"),
    (Kind.REFUSED.value, "refused", "refused"),
    (Kind.LOCK_WAIT.value, "lock waits", "lock wait"),
    (Kind.DEADLOCK.value, "deadlocks", "deadlock"),
    (Kind.CANCELLED.value, "cancelled", "cancelled"),
    (Kind.IDLE_TIMEOUT.value, "idle timeouts", "idle timeout"),
    (Kind.OUT_OF_LOCKS.value, "out of locks", "out of locks"),
    (Kind.CRASH.value, "crashes", "crash"),
    (Kind.RESTART.value, "restarts", "restart"),
    (Kind.CHECKPOINT.value, "checkpoints", "checkpoint"),
    (Kind.WRAPAROUND_VACUUM.value, "wraparound vacuums", "wraparound vacuum"),
    (Kind.TEMP_FILE.value, "temp files", "temp file"),
    (Kind.SLOW.value, "slow", "slow"),
)
#: what makes a minute bad, worst first: the worst minutes are ranked by these counts in turn
TROUBLE = ("errors", Kind.CRASH.value, Kind.REFUSED.value, Kind.LOCK_WAIT.value,
           Kind.CANCELLED.value, Kind.SLOW.value)
#: groups (SQLSTATEs, statements, views) kept apart per table; the rest are folded as OTHER
MAX_GROUPS = 2000
OTHER = "(other)"
#: histogram buckets per doubling: a percentile is read within 2^(1/8) - 1 = 9 %
_STEPS = 8
_MINUTE_S = 60
_ONE_MINUTE = timedelta(minutes=1)
#: "duration: 12.3 ms  statement: SELECT ..." / "... execute S_1: SELECT ..."
_SLOW_TEXT = re.compile(r"^duration: [\d.]+ ms\s+(?:statement|execute [^:]*|bind [^:]*"
                        r"|parse [^:]*):\s*(.*)$", re.S)


@lru_cache(maxsize=8192)
def _normalized(statement: str) -> tuple[str, str]:
    """The statement's group key and its tag, cached: a log repeats the same statements."""
    return normalize(statement), tag_of(statement)


def statement_of(record: LogRecord) -> str:
    """The statement a record is about: its own field, else the text a duration line carries.

    >>> from datetime import UTC, datetime, timedelta
    >>> r = LogRecord(datetime(2026, 1, 1, tzinfo=UTC), "LOG", "",
    ...               "duration: 1204.5 ms  statement: SELECT pg_sleep(1)")
    >>> statement_of(r)
    'SELECT pg_sleep(1)'
    """
    if record.statement:
        return record.statement
    match = _SLOW_TEXT.match(record.message)
    return match[1] if match else ""


@dataclass(slots=True)
class Durations:
    """A group of timed statements: how many, their total, longest, and a log histogram."""

    count: int = 0
    total_ms: float = 0.0
    max_ms: float = 0.0
    buckets: Counter[int] = field(default_factory=Counter)

    def add(self, ms: float) -> None:
        self.count += 1
        self.total_ms += ms
        self.max_ms = max(self.max_ms, ms)
        self.buckets[math.floor(math.log2(ms) * _STEPS) if ms > 0 else -10 * _STEPS] += 1

    def quantile(self, q: float) -> float:
        """The ``q`` quantile, the top of its bucket (never above the longest seen).

        >>> d = Durations()
        >>> for ms in range(1, 101): d.add(float(ms))
        >>> 95 <= d.quantile(0.95) <= 95 * 1.091, d.quantile(1.0)
        (True, 100.0)
        """
        need = max(1, math.ceil(q * self.count))
        seen = 0
        for bucket in sorted(self.buckets):
            seen += self.buckets[bucket]
            if seen >= need:
                return min(self.max_ms, 2 ** ((bucket + 1) / _STEPS))
        return self.max_ms


@dataclass(slots=True)
class MinuteCounts:
    """One minute's counters: records, each column's, errors by SQLSTATE, longest statement."""

    records: int = 0
    columns: Counter[str] = field(default_factory=Counter)
    sqlstates: Counter[str] = field(default_factory=Counter)
    slow_max_ms: float = 0.0


@dataclass(slots=True)
class ErrorCounts:
    """Errors of one severity and SQLSTATE: how many, when first and last, a sample."""

    count: int
    first: datetime
    last: datetime
    message: str
    statement: str


@dataclass(slots=True)
class Tally:
    """Everything counted so far; :meth:`add` each record (and its event) in log order."""

    records: int = 0
    first: datetime | None = None
    last: datetime | None = None
    severities: Counter[str] = field(default_factory=Counter)
    minutes: dict[int, MinuteCounts] = field(default_factory=dict)
    errors: dict[tuple[str, str], ErrorCounts] = field(default_factory=dict)
    statements: dict[str, Durations] = field(default_factory=dict)
    views: dict[str, Durations] = field(default_factory=dict)
    #: how many records went to an OTHER group, per table (errors, statements, views)
    folded: Counter[str] = field(default_factory=Counter)
    _current: tuple[datetime, datetime, MinuteCounts] | None = None

    def add(self, record: LogRecord, event: Event | None) -> None:
        """Count one record; ``event`` is what :func:`pgcrisis.logs.events.classify` made of
        it (None: an ordinary line, counted only by severity and minute)."""
        self.records += 1
        t = record.time
        first, last = self.first, self.last
        if first is None or t < first:
            self.first = t
        if last is None or t > last:
            self.last = t
        self.severities[record.severity] += 1
        minute = self._minute(t)
        minute.records += 1
        if record.severity in ERRORS:
            minute.columns["errors"] += 1
            minute.sqlstates[record.sqlstate] += 1
            self._error(record)
        if event is None:
            return
        kind = event.kind
        minute.columns[kind] += 1  # a StrEnum: counted under its value
        if kind is Kind.SLOW and event.duration_ms is not None:
            minute.slow_max_ms = max(minute.slow_max_ms, event.duration_ms)
            self._slow(record, event.duration_ms)

    def _minute(self, t: datetime) -> MinuteCounts:
        """The counters of ``t``'s minute; the last one used is kept at hand with its bounds,
        as a log's records come minute after minute (comparing two times is cheaper than
        turning one into seconds)."""
        current = self._current
        if current is not None and current[0] <= t < current[1]:
            return current[2]
        key = int(t.timestamp()) // _MINUTE_S
        minute = self.minutes.get(key)
        if minute is None:
            minute = self.minutes[key] = MinuteCounts()
        start = t - timedelta(seconds=t.second, microseconds=t.microsecond)
        self._current = (start, start + _ONE_MINUTE, minute)
        return minute

    def _error(self, record: LogRecord) -> None:
        key = (record.severity, record.sqlstate)
        group = self.errors.get(key)
        if group is not None:
            group.count += 1
            group.first = min(group.first, record.time)
            group.last = max(group.last, record.time)
            return
        if len(self.errors) >= MAX_GROUPS:
            self.folded["errors"] += 1
            key = (record.severity, OTHER)
            if key in self.errors:
                self.errors[key].count += 1
                return
        self.errors[key] = ErrorCounts(1, record.time, record.time, record.message[:500],
                                       record.statement[:2000])

    def _slow(self, record: LogRecord, ms: float) -> None:
        text = statement_of(record)
        statement, tag = _normalized(text) if text else (OTHER, "")
        self._time(self.statements, statement or OTHER, ms, "statements")
        if tag:
            self._time(self.views, tag, ms, "views")

    def _time(self, groups: dict[str, Durations], key: str, ms: float, what: str) -> None:
        group = groups.get(key)
        if group is None:
            if len(groups) >= MAX_GROUPS:
                self.folded[what] += 1
                key = OTHER
            group = groups.setdefault(key, Durations())
        group.add(ms)


def minute_start(key: int) -> datetime:
    """The minute a :attr:`Tally.minutes` key stands for, in UTC."""
    return datetime.fromtimestamp(key * _MINUTE_S, UTC)
