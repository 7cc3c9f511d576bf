"""Writing a recording: one short transaction per frame, thinning and retention.

Shared by both stores; each store subclasses :class:`RecordingWriter` for what differs:
how a write fails when the store is full, how old days go (SQLite deletes rows, PostgreSQL
drops partitions), and upkeep (checkpoints, partitions ahead).

A frame writes only what changed: each field's value is looked up by content
(:mod:`._content`) and a *change* row is written only when the value id differs from the
field's previous one. A frame timed at or before its predecessor (the server's clock went
back) is stored one microsecond after it: a recording's frames are in time order. The
frame's minute of the series and its day's rollups (:mod:`._rollups`) are written in the
same transaction, so a writer killed at any point leaves them equal to the frames committed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from pgcrisis.errors import StoreError
from pgcrisis.model.findings import Severity
from pgcrisis.store import Event, Frame, LogErrorCount, LogSlowCount
from pgcrisis.store import _logs as logs
from pgcrisis.store import _thinning as thinning
from pgcrisis.store._clocks import Origins, Refs, clocked_rows, origins, snap
from pgcrisis.store._codec import CLOCKED_FIELDS, FIELD_TYPES, SERVER_FIELD, Codec, stored_values
from pgcrisis.store._content import TOUCH_EVERY_US, Content
from pgcrisis.store._db import Db, to_us
from pgcrisis.store._reader import RecordingReader
from pgcrisis.store._rollups import RollupWriter
from pgcrisis.store._stored_frame import (
    StoredFrame,
    kind_code,
    pack_refs,
    pack_unavailable,
    worst_code,
)
from pgcrisis.store.series import Bucket, fold, reading

HOUR_US = 3600 * 1_000_000
#: thinning works through old detail this much per transaction
THIN_BATCH_US = HOUR_US
#: garbage collection scans the recording's content, so it runs when retention has moved on
#: by a day (and at a writer's first maintenance): what is left meanwhile costs only space
GC_EVERY_US = 24 * HOUR_US
#: the largest field id a frame's ``seen`` mask can hold
MAX_FIELD_ID = 62


def register_fields(db: Db) -> dict[str, int]:
    """Every field's id, registering the ones this store has not seen (in a write)."""
    for name in FIELD_TYPES:
        db.run("insert_field", name, name)
    ids = {str(n): int(i) for i, n in db.all("fields")}
    if max(ids.values()) > MAX_FIELD_ID:
        raise StoreError("the store has more fields than a frame can mark as read")
    return ids


def register_layout(db: Db, layout: str) -> int:
    """The id of ``layout`` in the store (registered if new, in a write)."""
    db.run("insert_layout", layout)
    return next(int(i) for i, body in db.all("layouts") if body == layout)


def recording_id(db: Db, name: str, source: str) -> int:
    """The id of recording ``name`` (created if new), its source brought up to date."""
    with db.write():
        db.run("insert_recording", name, source, to_us(datetime.now(UTC)))
        row = db.one("recording", name)
        assert row is not None
        rec = int(row[0])
        db.run("set_source", source, rec)
    return rec


class RecordingWriter(ABC):
    """The one writer of one recording (``rec``) through ``db``."""

    def __init__(self, db: Db, rec: int, codec: Codec) -> None:
        self.db = db
        self.rec = rec
        self.codec = codec
        self.content = Content(db, rec)
        #: the plans of the log's slow statements (written from the log follower's thread)
        self.log_content = Content(db, rec)
        self.reader = RecordingReader(db, codec)
        with db.write():
            db.serialize()
            self.fields = register_fields(db)
            self.layout = register_layout(db, codec.layout.to_json())
        self._clocked_ids = [self.fields[n] for n in CLOCKED_FIELDS]
        self._field_ids = sorted(self.fields.values())
        self._gc_cut: int | None = None
        self._resume()
        self.rollups = RollupWriter(db, rec, self.reader)
        self.rollups.rebuild_if_pending()
        row = self.db.one("last_series", self.rec)
        self.bucket: Bucket | None = None if row is None else Bucket.of(int(row[0]), row[1:])

    def _resume(self) -> None:
        """Read back where the recording stands: the last frame, each field's latest value,
        and the origins of the clocked rows (so the first frame snaps onto the last)."""
        self.content.reset()
        self._last_objects: dict[str, Any] = {}  # the unclocked values of the last frame
        row = self.db.one("last_frame", self.rec)
        self.last_t = int(row[0]) if row is not None else 0
        self.last_values = self.reader.latest(self.rec, self.last_t) if row else {}
        self.origins: dict[str, Origins] = {}
        self.xids: dict[str, int] = {}
        if row is None:
            return
        frame = StoredFrame.of(self.db.one("frame_at", self.rec, self.last_t) or ())
        clocked = {fid: vid for fid, vid in self.last_values.items()
                   if self.reader.field_name(fid) in CLOCKED_FIELDS}
        for name, value in self.reader.values(self.rec, frame, clocked).items():
            refs = self.reader.refs(self.rec, frame, self.fields[name])
            self.origins[name] = origins(clocked_rows(value), refs)
            self.xids[name] = refs.xid

    # -- what differs between stores -------------------------------------------------------

    @abstractmethod
    def full_error(self, exc: Exception) -> StoreError | None:
        """The error to raise when ``exc`` says the store is full (else ``None``)."""

    @abstractmethod
    def before_write(self, t: int) -> None:
        """Called before a frame or event at ``t`` is written (partitions, size checks)."""

    @abstractmethod
    def drop_before(self, cut: int) -> None:
        """Delete this recording's frames, changes and events older than ``cut``."""

    def retention_cut(self, cut: int) -> int:
        """Where retention can cut, at or before ``cut`` (partitions cut whole days)."""
        return cut

    @abstractmethod
    def after_maintain(self) -> None:
        """Upkeep after thinning and retention (checkpoints, partitions ahead)."""

    @abstractmethod
    def close(self) -> None:
        """Release the writer's lock and connection."""

    # -- frames ----------------------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One write transaction; on failure the caches forget what it wrote."""
        try:
            with self.db.write():
                yield
        except Exception as exc:
            self.content.reset()
            self.rollups.forget()
            full = self.full_error(exc)
            if full is not None:
                raise full from None
            raise

    def append(self, frame: Frame) -> None:
        t = max(to_us(frame.server_time), self.last_t + 1)
        fields = {SERVER_FIELD: frame.server, **stored_values(frame.snapshot, frame.parts)}
        self.before_write(t)
        refs: dict[int, Refs] = {}
        new_origins: dict[str, Origins] = {}
        changes: list[tuple[int, int]] = []
        seen = 0
        with self._writing():
            self.content.t = t
            for name, value in fields.items():
                fid = self.fields[name]
                seen |= 1 << fid
                if name not in CLOCKED_FIELDS and fid in self.last_values and (
                        self._last_objects.get(name) == value):
                    continue  # as in the previous frame (ages aside, equal means unchanged)
                self.content.refs = Refs(t)
                if name in CLOCKED_FIELDS:
                    rows = list(clocked_rows(value))
                    self.content.refs = refs[fid] = snap(
                        rows, self.origins.get(name, {}), t, self.xids.get(name, 0))
                    new_origins[name] = origins(rows, refs[fid])
                vid = self.content.value(self.codec.encode(name, value, self.content),
                                         self.layout)
                if self.last_values.get(fid) != vid:
                    changes.append((fid, vid))
                    self.content.referenced(vid)
            self.content.flush()
            for fid, vid in changes:
                self.db.run("insert_change", self.rec, fid, t, vid)
            self.db.run("insert_frame", self.rec, t, to_us(frame.local_time) - t,
                        kind_code(frame.kind), worst_code(frame.worst), seen,
                        pack_unavailable(frame.unavailable), pack_refs(refs, t))
            bucket = fold(self.bucket, t, reading(frame.snapshot, frame.parts))
            self.db.run("upsert_series", self.rec, bucket.t, *bucket.row())
            self.rollups.fold(self.last_t, t, frame.snapshot, frame.parts,
                              frame.worst is Severity.CRITICAL)
        self.bucket = bucket
        self.last_t = t
        self.last_values.update(changes)
        self._last_objects.update((n, v) for n, v in fields.items() if n not in CLOCKED_FIELDS)
        self.origins.update(new_origins)
        for name in new_origins:
            self.xids[name] = refs[self.fields[name]].xid

    def log_errors(self, rows: Sequence[LogErrorCount]) -> None:
        """Add error counts read from the server's log (one transaction)."""
        if not rows:
            return
        self.before_write(max(r.t for r in rows))
        with self._writing():
            logs.write_errors(self.db, self.rec, rows)
            self.rollups.errors(rows)

    def log_slow(self, rows: Sequence[LogSlowCount]) -> None:
        """Add slow-statement counts read from the server's log (one transaction; the log's
        own content cache, as the log is followed in a thread of its own)."""
        if not rows:
            return
        self.before_write(max(r.t for r in rows))
        try:
            with self._writing():
                logs.write_slow(self.db, self.rec, self.log_content, rows)
        except Exception:
            self.log_content.reset()
            raise

    def event(self, event: Event) -> None:
        t = to_us(event.time)
        self.before_write(t)
        with self._writing():
            self.db.run("insert_event", self.rec, t, event.kind, event.detail)

    # -- maintenance -----------------------------------------------------------------------

    def maintain(self, now: datetime, *, retention: timedelta, thin_after: timedelta) -> None:
        now_us = to_us(now)
        cut = self.retention_cut(now_us - retention // timedelta(microseconds=1))
        with self._writing():
            self._retain(cut)
        row = self.db.one("thinned_until", self.rec)
        first = self.db.one("first_frame_from", self.rec, cut)
        # from where thinning stopped, or the first frame (nothing left to thin: now)
        done = now_us if first is None else max(int(row[0]) if row else 0, int(first[0]))
        done -= done % thinning.MINUTE_US
        thin_cut = now_us - thin_after // timedelta(microseconds=1)
        thin_cut -= thin_cut % thinning.MINUTE_US
        while done < thin_cut:
            end = min(done + THIN_BATCH_US, thin_cut)
            with self._writing():
                self._thin(done, end)
                self.db.run("set_thinned", end, self.rec)
            done = end
        if self._gc_cut is None or cut - self._gc_cut >= GC_EVERY_US:
            with self._writing():
                self.db.run("gc_content", self.rec, cut - TOUCH_EVERY_US)
            self.content.reset()
            self.log_content.reset()
            self._gc_cut = cut
        self.after_maintain()

    def _retain(self, cut: int) -> None:
        """Delete what is older than ``cut``, first giving the first frame kept every value
        (and age reference) it had from older frames."""
        older = self.db.one("frame_at", self.rec, cut - 1)
        row = self.db.one("first_frame_from", self.rec, cut)
        if older is not None and row is not None:
            first = StoredFrame.of(row)
            self.content.t = first.t
            at = self.reader.latest(self.rec, first.t)
            own = {int(f) for f, _, _ in self.db.all("changes_between", self.rec,
                                                       self._field_ids, first.t, first.t)}
            for fid, vid in at.items():
                if fid not in own:
                    self.db.run("insert_change", self.rec, fid, first.t, vid)
                    self.content.referenced_deep(vid)
            for fid in self._clocked_ids:
                if fid in at and not first.sees(fid):
                    self._copy_refs(fid, first.t - 1, first.t)
            self.content.flush()
        self.drop_before(cut)

    def _copy_refs(self, fid: int, source_t: int, target_t: int) -> None:
        """Give the frame at ``target_t`` the references of ``fid`` of the latest frame at or
        before ``source_t`` that read it."""
        row = self.db.one("frame_seeing", self.rec, source_t, 1 << fid)
        target_row = self.db.one("frame_at", self.rec, target_t)
        if row is None or target_row is None:
            return
        source, target = StoredFrame.of(row), StoredFrame.of(target_row)
        refs = {**target.refs, fid: source.refs_of(fid)}
        self.db.run("set_frame_refs", target.seen | (1 << fid), pack_refs(refs, target.t),
                    self.rec, target.t)

    def _thin(self, start: int, end: int) -> None:
        """Thin the frames in [start, end) (one transaction)."""
        frames = [StoredFrame.of(r).info for r in
                  self.db.all("frames_between", self.rec, start, end - 1, 10**9)]
        if not frames:
            return
        after_row = self.db.one("first_frame_from", self.rec, end)
        after = StoredFrame.of(after_row).info if after_row is not None else None
        last = after.t if after is not None else end - 1
        values = {(int(f), int(t)): int(v) for f, t, v in
                  self.db.all("changes_between", self.rec, self._field_ids, start, last)}
        plan = thinning.plan(frames, after, values, self._clocked_ids, self.last_t)
        for fid, source, target in plan.ref_copies:
            self._copy_refs(fid, source, target)
        for fid, t in plan.drops:
            self.db.run("drop_change", self.rec, fid, t)
        for fid, source, target in plan.moves:
            self.db.run("move_change", target, self.rec, fid, source)
            self.content.t = target
            self.content.referenced_deep(values[(fid, source)])
            self.content.flush()
        if plan.delete:
            self.db.run("delete_frames", self.rec, plan.delete)
