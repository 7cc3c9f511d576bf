"""The one place rollups are computed from samples: a sample in, the day's figures updated.

The recorder's writer folds every frame it stores into the day's running figures (:class:`Day`)
and upserts what changed in the same transaction as the frame; a store older than rollups,
and the reader of a recording not rolled up yet, fold the stored frames the same way
(:func:`days_of`). One function decides every figure, so a rebuilt day equals a written one.

What a day holds, and from what:

- counters (rows a table inserted, updated, deleted; commits and rollbacks; WAL) are the
  differences between consecutive readings, each difference counted in the day of the later
  reading. A counter that went down was reset (``pg_stat_reset``, a crash, a table dropped and
  made again under the same name: its oid changed): what it holds now is what it counted since,
  all within the step, so the step counts that (a lower bound, never a negative). The WAL is
  the position (``pg_current_wal_lsn``, never reset) where the server gives it, else
  ``pg_stat_wal``'s bytes;
- sizes are relpages times the block size (a table with its indexes; the database: the sum of
  its tables), never ``pg_relation_size``: the last reading of the day;
- connections and active sessions: every sample's count, kept as an exact histogram (value
  -> samples: at most ``max_connections`` distinct values), whose peak and 95th percentile are
  read from it; the time sessions spent on CPU (active, no wait), I/O and locks is each
  sample's sessions times the time since the sample before (at most :data:`MAX_SPAN_US`: a
  gap in the recording is not time seen);
- minutes seized up: minutes in which a sample's triage had a critical finding (the frame's
  ``worst``, which the recorder judges as it stores it);
- errors are the log's (``record --log``), added by the writer where it counts them.

Pure: snapshots in, figures out; :mod:`pgcrisis.store` keeps them.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace

from pgcrisis.model.parts import ACTIVITY, LOAD, RELATIONS, SEQUENCES, SERVER_HEALTH, Part
from pgcrisis.model.snapshot import Snapshot

DAY_US = 86_400_000_000
MINUTE_US = 60_000_000
#: the longest step between two samples counted as time seen (longer: the recorder was away)
MAX_SPAN_US = 120_000_000
#: the database a recording's own tables belong to
OWN = ""


def grown(before: int | None, now: int) -> int:
    """A counter's growth since ``before`` (a counter that went down was reset: what it holds
    now is what it counted since).

    >>> grown(10, 15), grown(10, 3), grown(None, 7)
    (5, 3, 7)
    """
    if before is None or now < before:
        return now
    return now - before


def p95(histogram: Mapping[int, int]) -> float | None:
    """The 95th percentile (nearest rank) of the values a histogram counts.

    >>> p95({1: 90, 7: 10}), p95({3: 1}), p95({})
    (7.0, 3.0, None)
    """
    n = sum(histogram.values())
    if not n:
        return None
    rank, seen = math.ceil(0.95 * n), 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return float(value)
    raise AssertionError("unreachable: the ranks add up to n")


@dataclass(frozen=True, slots=True)
class TableReading:
    """One table's counters at one reading (``pg_stat_all_tables``) and its size."""

    oid: int
    inserted: int
    updated: int
    deleted: int


@dataclass(frozen=True, slots=True)
class Readings:
    """The last readings of every counter: what the next sample is differenced against."""

    t: int | None = None
    committed: int | None = None
    rolled_back: int | None = None
    #: the WAL counter and the server time of its reading (a frame carries the last one)
    wal: int | None = None
    wal_at: float | None = None
    #: None until the relations were first read
    tables: Mapping[str, TableReading] | None = None


@dataclass(slots=True)
class Counts:
    """One day's figures of a table or a database (None: not measured that day)."""

    bytes: int | None = None
    inserted: int | None = None
    updated: int | None = None
    deleted: int | None = None

    def add(self, inserted: int, updated: int, deleted: int) -> None:
        self.inserted = (self.inserted or 0) + inserted
        self.updated = (self.updated or 0) + updated
        self.deleted = (self.deleted or 0) + deleted


@dataclass(slots=True)
class Day:
    """One UTC day's running figures (``day``: days since the epoch), and what changed since
    the store last wrote them (``dirty_*``)."""

    day: int
    samples: int = 0
    seconds: float = 0.0
    wal_bytes: int | None = None
    commits: int | None = None
    rollbacks: int | None = None
    connections: Counter[int] = field(default_factory=Counter)
    active: Counter[int] = field(default_factory=Counter)
    max_connections: int | None = None
    cpu_seconds: float = 0.0
    io_seconds: float = 0.0
    lock_seconds: float = 0.0
    xid_age: int | None = None
    freeze_max_age: int | None = None
    seized_minutes: int = 0
    seized_at: int | None = None
    #: the log's errors (the store adds them apart; never folded from a sample)
    errors: int | None = None
    databases: dict[str, Counts] = field(default_factory=dict)
    #: (database, table) -> figures; (database, sequence) -> (last value, limit)
    tables: dict[tuple[str, str], Counts] = field(default_factory=dict)
    sequences: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    dirty_tables: set[tuple[str, str]] = field(default_factory=set)
    dirty_sequences: set[tuple[str, str]] = field(default_factory=set)
    dirty_databases: bool = False

    @property
    def database_bytes(self) -> int | None:
        sizes = [c.bytes for c in self.databases.values() if c.bytes is not None]
        return sum(sizes) if sizes else None

    def clean(self) -> None:
        """Forget what changed (the store wrote it)."""
        self.dirty_tables.clear()
        self.dirty_sequences.clear()
        self.dirty_databases = False


def table_sizes(snapshot: Snapshot) -> dict[str, int]:
    """Each table's bytes: its pages and its indexes', times the block size."""
    pages = {t.oid: t.relpages for t in snapshot.relations.tables}
    for ix in snapshot.relations.indexes:
        if ix.table_oid in pages:
            pages[ix.table_oid] += ix.relpages
    size = snapshot.server.block_size
    return {t.name: pages[t.oid] * size for t in snapshot.relations.tables}


def fold(day: Day | None, readings: Readings, t: int, snapshot: Snapshot,
         read: Collection[Part], critical: bool) -> tuple[Day, Readings]:
    """Fold the sample at ``t`` (µs since the epoch, UTC), of which the parts ``read`` were
    read, into its day (a new :class:`Day` when it starts one): the day and the readings the
    next sample is differenced against."""
    number = t // DAY_US
    if day is None or day.day != number:
        day = Day(number)
    span = 0 if readings.t is None or t - readings.t > MAX_SPAN_US else max(0, t - readings.t)
    day.samples += 1
    day.seconds += span / 1e6
    if critical and day.seized_at != t - t % MINUTE_US:
        day.seized_minutes += 1
        day.seized_at = t - t % MINUTE_US
    readings = replace(readings, t=t)
    if ACTIVITY in read:
        readings = _activity(day, readings, snapshot, span / 1e6)
    if LOAD in read:
        readings = _wal(day, readings, snapshot)
    if SERVER_HEALTH in read:
        ages = [d.xid_age for d in snapshot.server_health.databases]
        day.xid_age = max(ages) if ages else None
        limit = snapshot.server_health.settings.get("autovacuum_freeze_max_age")
        day.freeze_max_age = int(limit) if limit and limit.isdigit() else None
    if RELATIONS in read:
        readings = _tables(day, readings, snapshot)
    if SEQUENCES in read:
        for s in snapshot.sequences:
            if s.last_value is None:
                continue
            key, value = (OWN, s.name), (s.last_value, s.limit)
            if day.sequences.get(key) != value:
                day.sequences[key] = value
                day.dirty_sequences.add(key)
    return day, readings


def _activity(day: Day, readings: Readings, snapshot: Snapshot, span: float) -> Readings:
    """Sessions (connections, active, where their time went) and the transaction counters."""
    clients = active = cpu = io = lock = 0
    for b in snapshot.all_sessions():
        if not b.is_client:
            continue
        clients += b.sessions
        if b.state == "active":
            active += b.sessions
            cpu += b.sessions * (b.wait_event_type is None)
            io += b.sessions * (b.wait_event_type == "IO")
            lock += b.sessions * (b.wait_event_type == "Lock")
    day.connections[clients] += 1
    day.active[active] += 1
    day.max_connections = snapshot.server.setting_int("max_connections") or None
    day.cpu_seconds += cpu * span
    day.io_seconds += io * span
    day.lock_seconds += lock * span
    tx = snapshot.transactions
    if tx is None:
        return readings
    if readings.committed is not None and readings.rolled_back is not None:
        day.commits = (day.commits or 0) + grown(readings.committed, tx.committed)
        day.rollbacks = (day.rollbacks or 0) + grown(readings.rolled_back, tx.rolled_back)
    return replace(readings, committed=tx.committed, rolled_back=tx.rolled_back)


def _wal(day: Day, readings: Readings, snapshot: Snapshot) -> Readings:
    """The WAL written since the last reading of the server-wide counters (a frame's load
    profile carries the latest: a new one every few samples)."""
    load = snapshot.load
    if load is None or not load.counters:
        return readings
    last = load.counters[-1]
    wal = last.wal_lsn if last.wal_lsn is not None else last.wal_bytes
    if wal is None or last.at == readings.wal_at:
        return readings
    if readings.wal is not None:
        day.wal_bytes = (day.wal_bytes or 0) + grown(readings.wal, wal)
    return replace(readings, wal=wal, wal_at=last.at)


def _tables(day: Day, readings: Readings, snapshot: Snapshot) -> Readings:
    """Each table's rows written since the last reading, and its size (and its database's)."""
    sizes = table_sizes(snapshot)
    before = readings.tables
    now: dict[str, TableReading] = {}
    db = day.databases.setdefault(OWN, Counts())
    for t in snapshot.relations.tables:
        reading = now[t.name] = TableReading(t.oid, t.n_tup_ins, t.n_tup_upd, t.n_tup_del)
        key = (OWN, t.name)
        counts = day.tables.setdefault(key, Counts())
        old = counts.bytes, counts.inserted, counts.updated, counts.deleted
        counts.bytes = sizes[t.name]
        if before is not None:
            prev = before.get(t.name)
            if prev is not None and prev.oid != t.oid:
                prev = None  # made again: its counters start from zero
            ins = grown(None if prev is None else prev.inserted, reading.inserted)
            upd = grown(None if prev is None else prev.updated, reading.updated)
            dele = grown(None if prev is None else prev.deleted, reading.deleted)
            counts.add(ins, upd, dele)
            db.add(ins, upd, dele)
        if (counts.bytes, counts.inserted, counts.updated, counts.deleted) != old:
            day.dirty_tables.add(key)
    db.bytes = sum(sizes.values())
    day.dirty_databases = True
    return replace(readings, tables=now)


def readings_of(t: int, snapshot: Snapshot) -> Readings:
    """The readings a sample leaves (for a writer resuming after its last stored frame)."""
    return fold(None, Readings(), t, snapshot,
                (ACTIVITY, LOAD, RELATIONS), critical=False)[1]


def days_of(samples: Iterable[tuple[int, Snapshot, Collection[Part], bool]],
            readings: Readings | None = None) -> Iterable[Day]:
    """The days of ``samples`` (time, snapshot, parts read, critical), oldest first, from
    ``readings`` (those of the sample before the first; none: the recording's start)."""
    day: Day | None = None
    readings = readings or Readings()
    for t, snapshot, read, critical in samples:
        folded, readings = fold(day, readings, t, snapshot, read, critical)
        if day is not None and folded is not day:
            yield day
        day = folded
    if day is not None:
        yield day
