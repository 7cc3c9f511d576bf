"""The writer's side of the content tables: strings, element rows and field values, each
stored once per recording and found again by content.

Lookups go through an in-memory cache first (a recorder sees the same sessions, tables and
query texts sample after sample), then by hash in the store (the bytes confirm the match).
Every piece of content carries ``used``: the latest frame time that needed it, refreshed at
most once an hour (:data:`TOUCH_EVERY_US`) so that an unchanged session costs no write.
Retention then deletes what no kept frame can need (``used`` older than the cut, less that
hour) without scanning what refers to what.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pgcrisis.record.clocks import Refs
from pgcrisis.record.codec import content_hash, dumps, loads, references, unseal
from pgcrisis.record.db import Db
from pgcrisis.record.layout import Encoder, RowRefs, StrRef

#: content needed again is marked as used at most this often (µs)
TOUCH_EVERY_US = 3600 * 1_000_000
#: entries each cache may hold before it is emptied (and refilled from the store)
CACHE_MAX = 200_000


class Content:
    """Strings, element rows and values of one recording; the codec's encode context."""

    def __init__(self, db: Db, rec: int) -> None:
        self.db = db
        self.rec = rec
        #: the time of the frame being written (what ``used`` becomes)
        self.t = 0
        #: the references of the field being encoded
        self.refs = Refs()
        self._strings: dict[str, list[int]] = {}   # text -> [id, used]
        self._elements: dict[bytes, list[int]] = {}  # body -> [id, used]
        self._bodies: dict[Any, bytes] = {}  # row (without ages) -> its body
        self._strings_of: dict[bytes, list[int]] = {}  # body -> the strings it refers to
        self._values: dict[tuple[int, bytes], list[int]] = {}  # (layout, blob) -> [id, used]
        self._touch: dict[str, set[int]] = {"strings": set(), "elements": set(), "values": set()}

    def reset(self) -> None:
        """Forget what the caches know (after a rollback or a garbage collection)."""
        for cache in (self._strings, self._elements, self._bodies, self._strings_of,
                      self._values):
            cache.clear()
        for ids in self._touch.values():
            ids.clear()

    def _used(self, entry: list[int], table: str) -> None:
        if entry[1] < self.t - TOUCH_EVERY_US:
            self._touch[table].add(entry[0])
            entry[1] = self.t

    # -- the encode context ----------------------------------------------------------------

    def string(self, text: str) -> StrRef:
        entry = self._strings.get(text)
        if entry is None:
            if len(self._strings) >= CACHE_MAX:
                self._strings.clear()
            digest = content_hash(text.encode())
            row = self.db.one("find_string", self.rec, digest, text)
            if row is not None:
                entry = [int(row[0]), int(row[1])]
            else:
                entry = [self.db.insert("insert_string", self.rec, digest, self.t, text), self.t]
            self._strings[text] = entry
        self._used(entry, "strings")
        return StrRef(entry[0])

    def rows(self, values: Sequence[Any], encode: Encoder, *, same_always: bool) -> RowRefs:
        if max(len(self._bodies), len(self._elements)) + len(values) >= CACHE_MAX:
            for cache in (self._bodies, self._elements, self._strings_of):
                cache.clear()
        bodies: list[bytes] = []
        for value in values:
            body = self._bodies.get(value) if same_always else None
            if body is None:
                plain = encode(value, self)
                body = dumps(plain)
                self._strings_of[body] = _string_ids(plain)
                if same_always:
                    self._bodies[value] = body
            bodies.append(body)
        missing = [b for b in dict.fromkeys(bodies) if b not in self._elements]
        if missing:
            self._find_elements(missing)
        ids: list[int] = []
        for body in bodies:
            entry = self._elements[body]
            if entry[1] < self.t - TOUCH_EVERY_US:  # its strings are needed as long as it is
                self._touch["strings"].update(self._strings_of.get(body, ()))
            self._used(entry, "elements")
            ids.append(entry[0])
        return RowRefs(tuple(ids))

    def _find_elements(self, bodies: list[bytes]) -> None:
        by_hash = {content_hash(b): b for b in bodies}
        for id_, used, digest, body in self.db.all("find_elements", self.rec, list(by_hash)):
            if by_hash.get(digest) == bytes(body):
                self._elements[bytes(body)] = [int(id_), int(used)]
        for digest, body in by_hash.items():
            if body not in self._elements:
                id_ = self.db.insert("insert_element", self.rec, digest, self.t, body)
                self._elements[body] = [id_, self.t]

    # -- values ----------------------------------------------------------------------------

    def value(self, blob: bytes, layout: int) -> int:
        """The id of a field value (stored if new)."""
        key = (layout, blob)
        entry = self._values.get(key)
        if entry is None:
            if len(self._values) >= CACHE_MAX:
                self._values.clear()
            digest = content_hash(layout.to_bytes(4, "big") + blob)
            found = [r for r in self.db.all("find_value", self.rec, digest, layout)
                     if bytes(r[2]) == blob]
            if found:
                entry = [int(found[0][0]), int(found[0][1])]
            else:
                entry = [self.db.insert("insert_value", self.rec, digest, layout, self.t, blob),
                         self.t]
            self._values[key] = entry
        return entry[0]

    def referenced(self, value: int) -> None:
        """Value ``value`` is what a change written now points at: it is used now."""
        self._touch["values"].add(value)

    def referenced_deep(self, value: int) -> None:
        """As :meth:`referenced`, with its element rows and strings (a change moved to a
        later frame by thinning or retention needs them that much longer)."""
        self._touch["values"].add(value)
        row = self.db.one("values_by_id", self.rec, [value])
        if row is None:
            return
        element_ids, string_ids = references(loads(unseal(bytes(row[2]))))
        self._touch["elements"].update(element_ids)
        for _, body in self.db.all("elements_by_id", self.rec, element_ids):
            string_ids.extend(references(loads(bytes(body)))[1])
        self._touch["strings"].update(string_ids)

    def flush(self) -> None:
        """Write the pending ``used`` marks (in the frame's transaction)."""
        for table, query in (("strings", "touch_strings"), ("elements", "touch_elements"),
                             ("values", "touch_values")):
            ids = self._touch[table]
            if ids:
                self.db.run(query, self.t, self.rec, sorted(ids), self.t)
                ids.clear()


def _string_ids(plain: list[Any]) -> list[int]:
    """The strings a plain row refers to (rows nest only lists)."""
    out: list[int] = []
    for item in plain:
        if type(item) is StrRef:
            out.append(item.id)
        elif type(item) is list:
            out.extend(_string_ids(item))
    return out
