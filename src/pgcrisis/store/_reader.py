"""Reading a recording back: the snapshot at any moment, and the snapshots of a window.

A snapshot at T is built from the latest frame at or before T (its time is ``taken_at``)
and, for each field, the latest change at or before it: one indexed lookup per field
(``changes`` is keyed by recording, field and time), however long the recording. The fields
are put together by :func:`~pgcrisis.model.parts.assemble`, as ``top`` does live: the
``unavailable`` reasons of the parts the frame read come from it, the others' from the
latest full frame.

Content (values, element rows, strings) is immutable once written and never gets its id
back, so it is cached by id across calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from pgcrisis.capacity.rollups import History, ServerDay
from pgcrisis.errors import StoreError
from pgcrisis.model.parts import FAST_PARTS, RECORDED_PARTS, Part, assemble
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.store import Event, LogErrorCount, LogSlowCount, SeriesColumns, Writing
from pgcrisis.store import _logs as logs
from pgcrisis.store._clocks import Refs
from pgcrisis.store._codec import (
    CLOCKED_FIELDS,
    FIELD_TYPES,
    SERVER_FIELD,
    Codec,
    loads,
    row_strings,
    snapshot_fields,
    unpack_value,
    unseal,
)
from pgcrisis.store._codec import references as refs_in
from pgcrisis.store._db import Db, from_us, to_us
from pgcrisis.store._interface import WRITING_FRAMES
from pgcrisis.store._layout import DecodeContext
from pgcrisis.store._meta import SCHEMA_VERSION
from pgcrisis.store._stored_frame import StoredFrame
from pgcrisis.store._thinning import FULL
from pgcrisis.store.series import Bucket, buckets_of

#: frames read per query when walking a window
PAGE = 500
#: cached element rows before the caches are emptied
CACHE_MAX = 500_000
#: decoded values kept (per value id and references) before that cache is emptied
TYPED_MAX = 4096
#: ids per ``IN`` list
CHUNK = 5000


def parts_read(frame: StoredFrame) -> tuple[Part, ...]:
    """The parts a stored frame read: every recorded part (a full frame), or the fast ones."""
    return RECORDED_PARTS if frame.kind == FULL else FAST_PARTS


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i:i + CHUNK]


class RecordingReader:
    """Reads the recordings of one store through ``db``."""

    def __init__(self, db: Db, codec: Codec, *, schema: int = SCHEMA_VERSION) -> None:
        self.db = db
        self.codec = codec
        #: the store's schema version (an older store lacks the series and log tables)
        self.schema = schema
        self._fields: dict[int, str] = {}
        self._layouts: dict[int, str] = {}
        self._values: dict[int, tuple[int, Any, list[int], list[int]]] = {}
        self._elements: dict[int, Any] = {}
        self._element_strings: dict[int, list[int]] = {}
        self._strings: dict[int, str] = {}
        self._typed: dict[tuple[str, int, Refs | None], Any] = {}  # (field, value, refs)
        self._complete: set[int] = set()  # values whose rows and strings are all cached

    # -- the store's catalog ---------------------------------------------------------------

    def recording(self, name: str) -> int | None:
        row = self.db.one("recording", name)
        return None if row is None else int(row[0])

    def names(self) -> list[str]:
        return [str(r[0]) for r in self.db.all("recording_names")]

    def coverage(self, name: str) -> tuple[datetime, datetime] | None:
        rec = self.recording(name)
        row = None if rec is None else self.db.one("coverage", rec, rec)
        if row is None or row[0] is None:
            return None
        return from_us(int(row[0])), from_us(int(row[1]))

    def events(self, name: str, start: datetime, end: datetime) -> list[Event]:
        rec = self.recording(name)
        if rec is None:
            return []
        return [Event(from_us(int(t)), str(kind), str(detail)) for t, kind, detail in
                self.db.all("events_between", rec, to_us(start), to_us(end))]

    def field_name(self, fid: int) -> str:
        if fid not in self._fields:
            self._fields = {int(i): str(n) for i, n in self.db.all("fields")}
        return self._fields.get(fid, "")

    def field_ids(self) -> list[int]:
        """Every field's id (for queries that go field by field down the index)."""
        self._fields = {int(i): str(n) for i, n in self.db.all("fields")}
        return sorted(self._fields)

    # -- what was derived at write time ----------------------------------------------------

    def series(self, name: str, start: datetime, end: datetime) -> list[Bucket]:
        """The per-minute series of the minutes that start between ``start`` and ``end``; for
        a store written before the series was stored, derived from the frames instead."""
        rec = self.recording(name)
        if rec is None:
            return []
        first = to_us(start) - to_us(start) % 60_000_000
        if self.schema >= 2:
            rows = self.db.all(self._versioned("series_between"), rec, first, to_us(end))
            if rows:
                return [Bucket.of(int(r[0]), r[1:]) for r in rows]
        return buckets_of(self.snapshots(name, from_us(first), end))

    def _versioned(self, query: str) -> str:
        """The variant of a series query for this store's schema (a schema-2 store has no
        load columns: they read as none)."""
        return query if self.schema >= 3 else f"{query}_v2"

    def series_figures(self, name: str, start: datetime,
                       end: datetime) -> SeriesColumns | None:
        """The stored series' charted figures as columns, for a reader that wants columns,
        not a :class:`Bucket` per minute; ``None`` when the store has no stored series there
        (an older store: use :meth:`series`)."""
        rec = self.recording(name)
        if rec is None or self.schema < 2:
            return None
        first = to_us(start) - to_us(start) % 60_000_000
        rows = self.db.all(self._versioned("series_figures_between"), rec, first, to_us(end))
        return SeriesColumns.of(rows) if rows else None

    def log_errors(self, name: str, start: datetime, end: datetime) -> list[LogErrorCount]:
        """The error counts of the server's log, oldest first."""
        rec = self.recording(name)
        if rec is None:
            return []
        first = to_us(start) - to_us(start) % 60_000_000
        return logs.read_errors(self.db, rec, self.schema, first, to_us(end))

    def log_slow(self, name: str, start: datetime, end: datetime) -> list[LogSlowCount]:
        """The slow-statement counts of the server's log, oldest first."""
        rec = self.recording(name)
        if rec is None:
            return []
        first = to_us(start) - to_us(start) % 60_000_000
        return logs.read_slow(self.db, rec, self.schema, first, to_us(end))

    # -- snapshots -------------------------------------------------------------------------

    def snapshot_at(self, name: str, when: datetime) -> Snapshot | None:
        with self.db.read():
            rec = self.recording(name)
            if rec is None:
                return None
            row = self.db.one("frame_at", rec, to_us(when))
            if row is None:
                return None
            frame = StoredFrame.of(row)
            full = self.full_frame_at(rec, frame)
            return self.build(rec, frame, full, self.latest(rec, frame.t))

    def frame_near(self, name: str, when: datetime, *, forward: bool,
                   flagged: bool = False) -> datetime | None:
        """The time of the next (or previous) frame strictly after (before) ``when``; with
        ``flagged``, of one in which a warning or critical finding held. ``None``: none."""
        rec = self.recording(name)
        if rec is None:
            return None
        query = ("flagged_" if flagged else "frame_") + ("after" if forward else "before")
        with self.db.read():
            row = self.db.one(query, rec, to_us(when))
        return None if row is None else from_us(int(row[0]))

    def snapshots(self, name: str, start: datetime, end: datetime) -> Iterator[Snapshot]:
        rec = self.recording(name)
        if rec is None:
            return
        yield from (snapshot for _, snapshot in self.walk(rec, to_us(start), to_us(end)))

    def walk(self, rec: int, cursor: int, stop: int) -> Iterator[tuple[StoredFrame, Snapshot]]:
        """Each frame between ``cursor`` and ``stop`` (µs, inclusive) with its snapshot."""
        state: dict[int, int] | None = None
        full: StoredFrame | None = None
        known: dict[int, Refs] = {}  # the latest references of each clocked field so far
        while True:
            with self.db.read():
                page = [StoredFrame.of(r) for r in
                        self.db.all("frames_between", rec, cursor, stop, PAGE)]
                if not page:
                    return
                if state is None:
                    state = self.latest(rec, page[0].t - 1)
                    before = self.db.one("full_frame_at", rec, page[0].t - 1)
                    full = None if before is None else StoredFrame.of(before)
                    known = {fid: self.refs(rec, page[0], fid) for fid in state
                             if self.field_name(fid) in CLOCKED_FIELDS}
                changes = self.db.all("changes_between", rec, self.field_ids(), page[0].t,
                                      page[-1].t)
                built: list[tuple[StoredFrame, Snapshot]] = []
                i = 0
                for frame in page:
                    while i < len(changes) and int(changes[i][1]) <= frame.t:
                        state[int(changes[i][0])] = int(changes[i][2])
                        i += 1
                    if frame.kind == FULL:
                        full = frame
                    built.append((frame, self.build(rec, frame, full, state, known)))
                    known.update(frame.refs)
            yield from built
            cursor = page[-1].t + 1

    def latest(self, rec: int, t: int) -> dict[int, int]:
        """Each field's value id at time ``t`` (fields never recorded left out)."""
        return {int(fid): int(vid) for fid, vid in self.db.all("latest_changes", rec, t)
                if vid is not None}

    def full_frame_at(self, rec: int, frame: StoredFrame) -> StoredFrame | None:
        if frame.kind == FULL:
            return frame
        row = self.db.one("full_frame_at", rec, frame.t)
        return None if row is None else StoredFrame.of(row)

    def refs(self, rec: int, frame: StoredFrame, fid: int,
             known: Mapping[int, Refs] | None = None) -> Refs:
        """The references of field ``fid`` as of ``frame``: those of the latest frame that
        read it (``known``: what a walk through the frames before it already found)."""
        if frame.sees(fid):
            return frame.refs_of(fid)
        if known is not None and fid in known:
            return known[fid]
        row = self.db.one("frame_seeing", rec, frame.t, 1 << fid)
        return Refs(frame.t) if row is None else StoredFrame.of(row).refs_of(fid)

    def values(self, rec: int, frame: StoredFrame, state: Mapping[int, int],
               known: Mapping[int, Refs] | None = None) -> dict[str, Any]:
        """The typed value of every stored field in ``state`` (field id -> value id) at
        ``frame``."""
        self._load(rec, state.values())
        out: dict[str, Any] = {}
        for fid, vid in state.items():
            name = self.field_name(fid)
            if name not in FIELD_TYPES:
                continue  # a field this pgcrisis does not know (written by a newer model)
            refs = self.refs(rec, frame, fid, known) if name in CLOCKED_FIELDS else None
            key = (name, vid, refs)  # one value may serve fields of different types
            if key not in self._typed:
                layout, plain, _, _ = self._values[vid]
                ctx = DecodeContext(self._strings, self._elements, refs or Refs())
                decoders = self.codec.decoders(self._layout(layout))
                self._typed[key] = self.codec.decode(name, plain, decoders, ctx)
            out[name] = self._typed[key]
        return out

    def build(self, rec: int, frame: StoredFrame, full: StoredFrame | None,
              state: Mapping[int, int], known: Mapping[int, Refs] | None = None) -> Snapshot:
        """The snapshot of ``frame`` given each field's value id (``full``: the latest full
        frame at or before it)."""
        fields = self.values(rec, frame, state, known)
        server = fields.pop(SERVER_FIELD, None)
        if server is None:
            raise StoreError(f"the recording's frame at {from_us(frame.t)} has no server facts "
                             "(a damaged store)")
        return assemble(server, from_us(frame.t), snapshot_fields(fields),
                        read=parts_read(frame), unavailable=frame.unavailable,
                        before=full.unavailable if full else {})

    # -- content ---------------------------------------------------------------------------

    def _layout(self, layout: int) -> str:
        if layout not in self._layouts:
            self._layouts = {int(i): str(b) for i, b in self.db.all("layouts")}
        return self._layouts[layout]

    def _content(self, rec: int, ids: list[int]) -> Iterator[tuple[int, bytes]]:
        """(id, body) of these pieces of content."""
        for chunk in _chunks(ids):
            for id_, body in self.db.all("content_by_id", rec, chunk):
                yield int(id_), bytes(body)

    def _load(self, rec: int, value_ids: Iterable[int]) -> None:
        """Fetch the values, element rows and strings not in the caches yet."""
        if len(self._elements) > CACHE_MAX:
            for cache in (self._values, self._elements, self._element_strings, self._strings,
                          self._typed, self._complete):
                cache.clear()
        if len(self._typed) > TYPED_MAX:
            self._typed.clear()
        todo = [v for v in dict.fromkeys(value_ids) if v not in self._complete]
        if not todo:
            return
        for vid, body in self._content(rec, [v for v in todo if v not in self._values]):
            layout, blob = unpack_value(body)
            plain = loads(unseal(blob))
            row_ids, string_ids = refs_in(plain)
            self._values[vid] = (layout, plain, row_ids, string_ids)
        missing = [v for v in todo if v not in self._values]
        if missing:
            raise StoreError(f"the recording refers to values {missing[:5]} it does not hold "
                             "(a damaged store)")
        rows = dict.fromkeys(i for v in todo for i in self._values[v][2])
        for eid, body in self._content(rec, [i for i in rows if i not in self._elements]):
            plain = loads(body)
            self._elements[eid] = plain
            self._element_strings[eid] = row_strings(plain)
        strings = dict.fromkeys(s for v in todo for s in self._values[v][3])
        strings.update(dict.fromkeys(s for i in rows for s in self._element_strings.get(i, ())))
        for sid, body in self._content(rec, [s for s in strings if s not in self._strings]):
            self._strings[sid] = body.decode()
        self._complete.update(todo)


class ReadingStore:
    """The reading half of a :class:`~pgcrisis.store.Store`, the same for both stores
    (they set ``reader``)."""

    reader: RecordingReader

    def names(self) -> list[str]:
        return self.reader.names()

    def coverage(self, name: str) -> tuple[datetime, datetime] | None:
        return self.reader.coverage(name)

    def snapshot_at(self, name: str, when: datetime) -> Snapshot | None:
        return self.reader.snapshot_at(name, when)

    def snapshots(self, name: str, start: datetime, end: datetime) -> Iterator[Snapshot]:
        return self.reader.snapshots(name, start, end)

    def frame_near(self, name: str, when: datetime, *, forward: bool,
                   flagged: bool = False) -> datetime | None:
        return self.reader.frame_near(name, when, forward=forward, flagged=flagged)

    def events(self, name: str, start: datetime, end: datetime) -> list[Event]:
        return self.reader.events(name, start, end)

    def series(self, name: str, start: datetime, end: datetime) -> list[Bucket]:
        return self.reader.series(name, start, end)

    def series_figures(self, name: str, start: datetime,
                       end: datetime) -> SeriesColumns | None:
        return self.reader.series_figures(name, start, end)

    def log_errors(self, name: str, start: datetime, end: datetime) -> list[LogErrorCount]:
        return self.reader.log_errors(name, start, end)

    def log_slow(self, name: str, start: datetime, end: datetime) -> list[LogSlowCount]:
        return self.reader.log_slow(name, start, end)

    def history(self, name: str, start: date | None = None,
                end: date | None = None) -> History:
        from pgcrisis.store._history import history  # reads this module's reader
        return history(self.reader, name, start, end)

    def latest_days(self, names: Sequence[str], since: date) -> dict[str, tuple[ServerDay, ...]]:
        from pgcrisis.store._history import latest_days
        return latest_days(self.reader, names, since)

    def writing(self, name: str) -> Writing:
        rec = self.reader.recording(name)
        if rec is None:
            return Writing(False)
        rows = self.reader.db.all("last_frames", rec, WRITING_FRAMES)
        last = tuple(from_us(int(t) + int(offset)) for t, offset in reversed(rows))
        return Writing(self.writer_locked(name, rec), last)

    def writer_locked(self, name: str, rec: int) -> bool | None:
        """Whether recording ``name`` (id ``rec``)'s writer lock is held (``None``: the
        store cannot tell)."""
        return None
