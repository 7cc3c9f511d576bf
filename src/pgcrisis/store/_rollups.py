"""A recording's daily rollups in the store: written with the frame that changes them, kept
through retention and thinning, rebuilt from the samples for a recording older than them.

The figures are :mod:`pgcrisis.capacity.rollup_step`'s; this module only keeps them. The
writer holds the current day's running figures and the last readings; it upserts the day's
server row and the tables, sequences and databases whose figures moved, in the frame's own
transaction, so a recorder killed at any point leaves the rollups equal to the frames
committed. A writer that starts again (or whose write failed) reads the day back from its
rows and the readings from the last stored frame (:meth:`RollupWriter.load`), never from
memory.

Names (databases, tables, sequences) are stored once per recording (``rollup_names``) and
referred to by a small id: a year of 600 tables is 219,000 rows of a few integers each.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from pgcrisis.capacity.rollup_step import (
    DAY_US,
    OWN,
    Counts,
    Day,
    Readings,
    days_of,
    fold,
    readings_of,
)
from pgcrisis.model.findings import Severity
from pgcrisis.model.parts import Part
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.store._db import Db, to_us
from pgcrisis.store._interface import LogErrorCount
from pgcrisis.store._reader import RecordingReader, parts_read
from pgcrisis.store._stored_frame import StoredFrame

#: the stored rank of a critical frame (``frames.worst``)
CRITICAL = Severity.CRITICAL.rank


def dumps(histogram: Counter[int]) -> str:
    """A histogram of counts as stored: JSON, ``{"count": samples}``.

    >>> dumps(Counter({3: 2, 1: 5}))
    '{"1":5,"3":2}'
    """
    return json.dumps({str(k): v for k, v in sorted(histogram.items())}, separators=(",", ":"))


def loads(text: str) -> Counter[int]:
    return Counter({int(k): int(v) for k, v in json.loads(text).items()})


class Names:
    """The ids of one recording's names (read once, new ones added in the caller's write)."""

    def __init__(self, db: Db, rec: int) -> None:
        self.db = db
        self.rec = rec
        self.reload()

    def reload(self) -> None:
        self.by_id = {int(i): (str(d), str(n)) for i, d, n in self.db.all("rollup_names", self.rec)}
        self.ids = {v: k for k, v in self.by_id.items()}

    def id(self, db: str, name: str) -> int:
        key = (db, name)
        if key not in self.ids:
            new = max(self.by_id, default=0) + 1
            self.db.run("rollup_insert_name", self.rec, new, db, name)
            self.ids[key], self.by_id[new] = new, key
        return self.ids[key]


def write_day(db: Db, rec: int, names: Names, day: Day, *, whole: bool = False) -> None:
    """Upsert ``day``'s rows: the server's, and the databases, tables and sequences that
    changed (``whole``: all of them); inside the caller's write."""
    db.run("rollup_upsert_server", rec, day.day, day.samples, day.seconds, day.database_bytes,
           day.wal_bytes, day.commits, day.rollbacks, dumps(day.connections),
           dumps(day.active), day.max_connections, day.cpu_seconds, day.io_seconds,
           day.lock_seconds, day.xid_age, day.freeze_max_age, day.seized_minutes,
           day.seized_at)
    if whole or day.dirty_databases:
        for name, c in day.databases.items():
            db.run("rollup_upsert_database", rec, day.day, names.id(name, ""), c.bytes,
                   c.inserted, c.updated, c.deleted)
    for key in (day.tables if whole else day.dirty_tables):
        c = day.tables[key]
        db.run("rollup_upsert_table", rec, day.day, names.id(*key), c.bytes, c.inserted,
               c.updated, c.deleted)
    for key in (day.sequences if whole else day.dirty_sequences):
        last, limit = day.sequences[key]
        db.run("rollup_upsert_sequence", rec, day.day, names.id(*key), last, limit)
    day.clean()


def read_day(db: Db, rec: int, names: Names, number: int) -> Day | None:
    """Day ``number`` as its rows hold it (``None``: no frame of it was rolled up)."""
    days = [d for d in read_days(db, rec, names, number, number) if d.samples]
    return days[0] if days else None


def read_days(db: Db, rec: int, names: Names, first: int, last: int) -> list[Day]:
    """Days ``first`` to ``last`` as their rows hold them, oldest first (four indexed range
    reads, however many days)."""
    days = {d.day: d for d in map(day_of, db.all("rollup_server_between", rec, first, last))}
    for d in days.values():
        d.databases.clear()  # read from their own rows
    names.reload()
    for number, obj, size, ins, upd, dele in db.all("rollup_databases_between", rec, first,
                                                    last):
        days[int(number)].databases[names.by_id[int(obj)][0]] = Counts(
            *map(_int, (size, ins, upd, dele)))
    for number, obj, size, ins, upd, dele in db.all("rollup_tables_between", rec, first, last):
        days[int(number)].tables[names.by_id[int(obj)]] = Counts(
            *map(_int, (size, ins, upd, dele)))
    for number, obj, value, limit in db.all("rollup_sequences_between", rec, first, last):
        days[int(number)].sequences[names.by_id[int(obj)]] = (int(value), int(limit))
    return [days[n] for n in sorted(days)]


def day_of(row: Sequence[Any]) -> Day:
    """A day from its server row (``rollup_server_between``'s columns): the databases' sizes
    summed as the database's own."""
    (number, samples, seconds, size, wal, commits, rollbacks, conns, active, max_conns, cpu,
     io, lock, xid, freeze, seized, seized_at, errors) = row
    return Day(int(number), int(samples), float(seconds), _int(wal), _int(commits),
               _int(rollbacks), loads(conns), loads(active), _int(max_conns), float(cpu or 0),
               float(io or 0), float(lock or 0), _int(xid), _int(freeze), int(seized),
               _int(seized_at), _int(errors), databases={OWN: Counts(_int(size))})


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def snapshot_of(reader: RecordingReader, rec: int, t: int) -> Snapshot | None:
    """The snapshot of the recording's latest frame at or before ``t``."""
    row = reader.db.one("frame_at", rec, t)
    if row is None:
        return None
    frame = StoredFrame.of(row)
    return reader.build(rec, frame, reader.full_frame_at(rec, frame), reader.latest(rec, frame.t))


def samples(reader: RecordingReader, rec: int, start: int,
            stop: int) -> Iterator[tuple[int, Snapshot, Sequence[Part], bool]]:
    """The stored frames between ``start`` and ``stop`` as the rollup step folds them."""
    for frame, snapshot in reader.walk(rec, start, stop):
        yield frame.t, snapshot, parts_read(frame), frame.worst == CRITICAL


def stored_days(reader: RecordingReader, rec: int, first_day: int,
                last_day: int) -> Iterable[Day]:
    """Days ``first_day`` to ``last_day`` folded from the stored frames (from the readings
    of the frame before the first day)."""
    start = first_day * DAY_US
    before = snapshot_of(reader, rec, start - 1)
    row = reader.db.one("frame_at", rec, start - 1)
    readings = None if before is None or row is None else readings_of(int(row[0]), before)
    return days_of(samples(reader, rec, start, (last_day + 1) * DAY_US - 1), readings)


def errors_by_day(db: Db, rec: int) -> dict[int, int]:
    """The log's errors per day, from the minutes the store still holds."""
    return {int(d): int(n) for d, n in db.all("log_errors_by_day", rec)}


class RollupWriter:
    """The rollups of the recording one writer writes (its ``db``, inside its writes)."""

    def __init__(self, db: Db, rec: int, reader: RecordingReader) -> None:
        self.db = db
        self.rec = rec
        self.reader = reader
        self.names = Names(db, rec)
        self.day: Day | None = None
        self.readings: Readings | None = None

    def rebuild_if_pending(self) -> None:
        """Roll up a recording made before rollups from the frames it still holds, in one
        transaction (a recorder killed meanwhile leaves it to do again)."""
        row = self.db.one("rollup_rebuild_state", self.rec)
        if row is None or row[0] is not None:
            return
        cover = self.db.one("coverage", self.rec, self.rec)
        with self.db.write():
            first, last = (0, -1) if cover is None or cover[0] is None else (
                int(cover[0]) // DAY_US, int(cover[1]) // DAY_US)
            for day in stored_days(self.reader, self.rec, first, last):
                write_day(self.db, self.rec, self.names, day, whole=True)
            for number, n in errors_by_day(self.db, self.rec).items():
                self.db.run("rollup_add_errors", self.rec, number, n)
            self.db.run("rollup_set_rebuilt", to_us(datetime.now(UTC)), self.rec)

    def forget(self) -> None:
        """Drop what is held in memory (a write failed: :meth:`load` reads it back)."""
        self.day = self.readings = None
        self.names.reload()

    def load(self, last_t: int) -> None:
        """The running day and the readings, as the store holds them after ``last_t``."""
        self.readings = Readings()
        self.day = None
        if not last_t:
            return
        self.day = read_day(self.db, self.rec, self.names, last_t // DAY_US)
        snapshot = snapshot_of(self.reader, self.rec, last_t)
        if snapshot is not None:
            self.readings = readings_of(last_t, snapshot)

    def fold(self, last_t: int, t: int, snapshot: Snapshot, read: Iterable[Part],
             critical: bool) -> None:
        """Fold a frame being written at ``t`` (inside its write; ``last_t``: the frame
        before it)."""
        if self.readings is None:
            self.load(last_t)
        day, readings = self.day, self.readings or Readings()
        day, readings = fold(day, readings, t, snapshot, frozenset(read), critical)
        write_day(self.db, self.rec, self.names, day)
        self.day, self.readings = day, readings

    def errors(self, rows: Sequence[LogErrorCount]) -> None:
        """Add the log's error counts to their days (inside the caller's write)."""
        per_day: Counter[int] = Counter()
        for r in rows:
            per_day[r.t // DAY_US] += r.count
        for number, n in sorted(per_day.items()):
            self.db.run("rollup_add_errors", self.rec, number, n)
