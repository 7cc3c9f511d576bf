"""Reading a recording's rollups back (:meth:`Store.history`, and a fleet's last days).

Every read is a range of the rollup tables' primary keys (recording, day[, name]): a year of
one server is four indexed range reads, never a scan of the samples. A recording the store
has not rolled up (a store made before rollups, read without a writer; or one whose writer
has not opened it since the upgrade) is folded from its samples instead, by the same step,
and :attr:`History.notes` says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from pgcrisis.capacity.rollup_step import DAY_US, Day, p95
from pgcrisis.capacity.rollups import DatabaseDay, History, SequenceDay, ServerDay, TableDay
from pgcrisis.store._db import from_us
from pgcrisis.store._meta import ROLLUPS_SCHEMA
from pgcrisis.store._reader import RecordingReader
from pgcrisis.store._rollups import Names, day_of, errors_by_day, read_days, stored_days

_EPOCH = date(1970, 1, 1)
#: what every history says of its sizes
SIZES = ("sizes are relpages times the block size: each table with its indexes, a database "
         "the sum of its tables (TOAST and catalogs not counted)")


def day_number(d: date) -> int:
    return (d - _EPOCH).days


def day_date(number: int) -> date:
    return _EPOCH + timedelta(days=number)


def server_day(d: Day) -> ServerDay:
    """The server's figures of a day."""
    return ServerDay(
        day_date(d.day), d.samples, d.seconds, d.database_bytes, d.wal_bytes, d.commits,
        d.rollbacks, max(d.connections) if d.connections else None, p95(d.connections),
        d.max_connections, p95(d.active), d.cpu_seconds if d.active else None,
        d.io_seconds if d.active else None, d.lock_seconds if d.active else None, d.xid_age,
        d.freeze_max_age, d.errors, d.seized_minutes)


def history_of(name: str, days: Iterable[Day], notes: Sequence[str]) -> History:
    """The :class:`History` of ``days`` (oldest first)."""
    server: list[ServerDay] = []
    databases: list[DatabaseDay] = []
    tables: list[TableDay] = []
    sequences: list[SequenceDay] = []
    for d in days:
        when = day_date(d.day)
        if d.samples:
            server.append(server_day(d))
        databases += [DatabaseDay(when, db, c.bytes, c.inserted, c.updated, c.deleted)
                      for db, c in sorted(d.databases.items())]
        tables += [TableDay(when, db, t, c.bytes, c.inserted, c.updated, c.deleted)
                   for (db, t), c in sorted(d.tables.items())]
        sequences += [SequenceDay(when, db, s, value, limit)
                      for (db, s), (value, limit) in sorted(d.sequences.items())]
    return History(name, tuple(server), tuple(databases), tuple(tables), tuple(sequences),
                   (*notes, SIZES))


def history(reader: RecordingReader, name: str, start: date | None,
            end: date | None) -> History:
    """Recording ``name``'s days from ``start`` to ``end`` (inclusive; None: its first, its
    last)."""
    rec = reader.recording(name)
    if rec is None:
        return History(name)
    first = 0 if start is None else day_number(start)
    last = 10**6 if end is None else day_number(end)
    rebuilt = reader.db.one("rollup_rebuild_state", rec) if reader.schema >= ROLLUPS_SCHEMA \
        else (None,)
    if rebuilt is not None and rebuilt[0] is None:
        return _folded(reader, rec, name, first, last)
    notes = [] if rebuilt is None else [
        f"rebuilt from samples on {from_us(int(rebuilt[0])):%Y-%m-%d} (the days before hold "
        "what the samples kept then: one a minute where they were thinned)"]
    return history_of(name, read_days(reader.db, rec, Names(reader.db, rec), first, last),
                      notes)


def _folded(reader: RecordingReader, rec: int, name: str, first: int, last: int) -> History:
    """A recording not rolled up yet: its days folded from the samples it holds."""
    cover = reader.db.one("coverage", rec, rec)
    if cover is None or cover[0] is None:
        return History(name)
    first = max(first, int(cover[0]) // DAY_US)
    last = min(last, int(cover[1]) // DAY_US)
    errors = errors_by_day(reader.db, rec) if reader.schema >= 2 else {}
    days = list(stored_days(reader, rec, first, last))
    for d in days:
        d.errors = errors.get(d.day)
    note = ("rolled up from the samples the store holds now (a recording made before "
            "rollups: its recorder keeps them from its next start)")
    return history_of(name, days, [note])


def latest_days(reader: RecordingReader, names: Sequence[str],
                since: date) -> dict[str, tuple[ServerDay, ...]]:
    """The server days of several recordings from ``since`` on, in one indexed query (a
    fleet's page); a recording with none (or not rolled up yet) maps to ``()``."""
    recs = {rec: name for name in names if (rec := reader.recording(name)) is not None}
    out: dict[str, list[ServerDay]] = {name: [] for name in names}
    if not recs or reader.schema < ROLLUPS_SCHEMA:
        return dict.fromkeys(names, ())
    for rec, *row in reader.db.all("rollup_server_latest", sorted(recs), day_number(since)):
        d = day_of(row)
        if d.samples:
            out[recs[int(rec)]].append(server_day(d))
    return {name: tuple(days) for name, days in out.items()}
