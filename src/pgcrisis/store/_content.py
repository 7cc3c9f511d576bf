"""The writer's side of the content table: element rows, strings and field values, each
stored once per recording and found again by its bytes.

All three are immutable blobs in one table (``content``): an element row is msgpack, a
string its UTF-8, a field value its layout's id then the value blob. Lookups go through an
in-memory cache first (a recorder sees the same sessions, tables and query texts sample
after sample; rows without ages are even found without encoding them again), then by hash in
the store (the bytes confirm the match).

Each piece of content carries ``used``: the latest frame time that needed it. A value's is
the time of the latest change pointing at it; rows and strings are marked when a value that
refers to them is written, at most once an hour (:data:`TOUCH_EVERY_US`), so an unchanged
session costs no write. A row marked marks its strings. Retention then deletes what no kept
frame can need (``used`` older than the cut, less that hour) without tracing references:
whatever a kept change points at was marked at that change's time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pgcrisis.store._clocks import Refs
from pgcrisis.store._codec import (
    content_hash,
    dumps,
    loads,
    references,
    row_strings,
    unpack_value,
    unseal,
    value_body,
)
from pgcrisis.store._db import Db
from pgcrisis.store._layout import Encoder, RowRefs, StrRef

#: content needed again is marked as used at most this often (µs)
TOUCH_EVERY_US = 3600 * 1_000_000
#: entries the caches may hold before they are emptied (and refilled from the store)
CACHE_MAX = 200_000


class Content:
    """The content of one recording; the codec's encode context."""

    def __init__(self, db: Db, rec: int) -> None:
        self.db = db
        self.rec = rec
        #: the time of the frame being written (what ``used`` becomes)
        self.t = 0
        #: the references of the field being encoded
        self.refs = Refs()
        self._blobs: dict[bytes, list[int]] = {}       # body -> [id, used]
        self._bodies: dict[Any, bytes] = {}            # row (without ages) -> its body
        self._strings_of: dict[bytes, list[int]] = {}  # row body -> the strings it refers to
        self._touch: set[int] = set()

    def reset(self) -> None:
        """Forget what the caches know and what was to be marked (after a rollback, or a
        garbage collection)."""
        self._forget()
        self._touch.clear()

    def _forget(self) -> None:
        for cache in (self._blobs, self._bodies, self._strings_of):
            cache.clear()

    def _ids(self, bodies: Sequence[bytes]) -> list[list[int]]:
        """The cache entries of ``bodies``, found in the store or stored."""
        if len(self._blobs) + len(bodies) >= CACHE_MAX:
            self._forget()
        missing = {b: content_hash(b) for b in bodies if b not in self._blobs}
        if missing:
            for id_, used, _, body in self.db.all("find_content", self.rec,
                                                  sorted(set(missing.values()))):
                if bytes(body) in missing:  # the same hash and the same bytes
                    self._blobs[bytes(body)] = [int(id_), int(used)]
            new = [b for b in missing if b not in self._blobs]
            ids = self.db.insert_many("insert_content", [
                (self.rec, missing[b], self.t, b) for b in new])
            for body, id_ in zip(new, ids, strict=True):
                self._blobs[body] = [id_, self.t]
        return [self._blobs[b] for b in bodies]

    def _stale(self, entry: list[int]) -> bool:
        """Mark ``entry`` as used now if its mark is more than an hour old."""
        if entry[1] >= self.t - TOUCH_EVERY_US:
            return False
        self._touch.add(entry[0])
        entry[1] = self.t
        return True

    # -- the encode context ----------------------------------------------------------------

    def string(self, text: str) -> StrRef:
        (entry,) = self._ids([text.encode()])
        self._stale(entry)
        return StrRef(entry[0])

    def rows(self, values: Sequence[Any], encode: Encoder, *, same_always: bool) -> RowRefs:
        if len(self._bodies) + len(values) >= CACHE_MAX:
            self._forget()
        bodies: list[bytes] = []
        for value in values:
            body = self._bodies.get(value) if same_always else None
            if body is None:
                plain = encode(value, self)
                body = dumps(plain)
                self._strings_of[body] = row_strings(plain)
                if same_always:
                    self._bodies[value] = body
            bodies.append(body)
        ids: list[int] = []
        for body, entry in zip(bodies, self._ids(bodies), strict=True):
            if self._stale(entry):  # its strings are needed as long as it is
                self._touch.update(self._strings_of.get(body, ()))
            ids.append(entry[0])
        return RowRefs(tuple(ids))

    # -- values ----------------------------------------------------------------------------

    def value(self, blob: bytes, layout: int) -> int:
        """The id of a field value (stored if new)."""
        return self._ids([value_body(layout, blob)])[0][0]

    def referenced(self, value: int) -> None:
        """Value ``value`` is what a change written now points at: it is used now."""
        self._touch.add(value)

    def referenced_deep(self, value: int) -> None:
        """As :meth:`referenced`, with its element rows and strings (a change moved to a
        later frame by thinning or retention needs them that much longer)."""
        self._touch.add(value)
        row = self.db.one("content_by_id", self.rec, [value])
        if row is None:
            return
        _, blob = unpack_value(bytes(row[1]))
        element_ids, string_ids = references(loads(unseal(blob)))
        self._touch.update(element_ids)
        for _, body in self.db.all("content_by_id", self.rec, element_ids):
            string_ids.extend(row_strings(loads(bytes(body))))
        self._touch.update(string_ids)

    def flush(self) -> None:
        """Write the pending ``used`` marks (in the frame's transaction)."""
        if self._touch:
            self.db.run("touch_content", self.t, self.rec, sorted(self._touch), self.t)
            self._touch.clear()
