"""What the log shows minute by minute, counted as the records stream past: the pure half of
``pgcrisis logs`` (records and their events in, a :class:`Tally` out, no file read here).

Memory is O(minutes times groups), never O(records): a 1 GiB log is counted, not kept. Each minute
holds a few counters; errors are grouped by severity and SQLSTATE, slow statements by their
normalized text, views by their sqlcommenter tag, each group with a count, a total and a
histogram for its 95th percentile (the store's logarithmic buckets, so a million durations
take a few dozen integers). Groups beyond :data:`MAX_GROUPS` are folded into one "other"
group and the report says how many were folded, never dropped silently.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from pgcrisis.logs.events import Event, Kind
from pgcrisis.logs.record import ERRORS, LogRecord
from pgcrisis.logs.statements import normalize, tag_of
from pgcrisis.store import histogram

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
_MINUTE_S = 60
_ONE_MINUTE = timedelta(minutes=1)
@lru_cache(maxsize=8192)
def _normalized(statement: str) -> tuple[str, str]:
    """The statement's group key and its tag, cached: a log repeats the same statements."""
    return normalize(statement), tag_of(statement)


@dataclass(slots=True)
class Durations:
    """A group of timed statements: how many, their total, longest, and their histogram
    (:mod:`pgcrisis.store.histogram`'s buckets, the ones the store keeps per minute)."""

    count: int = 0
    total_ms: float = 0.0
    max_ms: float = 0.0
    buckets: Counter[int] = field(default_factory=Counter)

    def add(self, ms: float) -> None:
        self.count += 1
        self.total_ms += ms
        self.max_ms = max(self.max_ms, ms)
        self.buckets[histogram.bucket_of(ms)] += 1

    def quantile(self, q: float) -> float:
        """The ``q`` quantile, within 9.05 % (never above the longest seen).

        >>> d = Durations()
        >>> for ms in range(1, 101): d.add(float(ms))
        >>> abs(d.quantile(0.95) / 95 - 1) <= 0.0905, d.quantile(1.0)
        (True, 100.0)
        """
        found = histogram.quantile(self.buckets, q, self.max_ms)
        return self.max_ms if found is None else found


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
            self._slow(event, event.duration_ms)

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

    def _slow(self, event: Event, ms: float) -> None:
        text = event.statement or event.record.statement
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
