"""Field values to compact bytes and back, the same for every store.

A frame's field value (``activity``, ``statements``, ...) becomes one *value* blob: msgpack
(msgspec) of its positional form (:mod:`._layout`), zlib-compressed when that pays. Inside
it, the elements of tuples of dataclasses (sessions, statements, tables, indexes, jobs...)
are references to *element* rows, each stored once by content, so a session or a table
that did not change costs a few bytes of reference, not a row; long strings (query texts,
commands, definitions) are references to a strings table. References are msgpack extension
types, so a blob's references can be listed without knowing its type (for garbage
collection). A frame's sessions are one value (:class:`Sessions`): the rows kept, then the
groups counted (:mod:`pgcrisis.record.keep`), each group's key once and its count. A frame's
load profile is two values, what changes every frame (a :class:`~._load.LoadFrame`, a msgpack
map) and its base (:mod:`._load`), averaged again when read; a profile stored whole (a list,
as every pgcrisis before store schema 4 wrote it) is read as it is.

:data:`FORMAT_VERSION` numbers this encoding; a store records the one it was written with
and refuses a newer one. Decoding takes each field's type from ``Snapshot``'s type hints.
"""

from __future__ import annotations

import hashlib
import operator
import typing
import zlib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import msgspec

from pgcrisis.model.activity import SESSION_GROUP_KEY, Backend, SessionGroup
from pgcrisis.model.load import LoadProfile
from pgcrisis.model.load_samples import SeenGroup
from pgcrisis.model.parts import RECORDED_FIELDS, RECORDED_PARTS, Part
from pgcrisis.model.server import ServerInfo
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.store._clocks import CLOCKED
from pgcrisis.store._layout import (
    DecodeContext,
    Decoders,
    EncodeContext,
    Encoders,
    Layout,
    RowRefs,
    StrRef,
)
from pgcrisis.store._load import BASE_FIELD, LOAD_FIELD, LoadFrame, joined, split

#: the encoding's version (bump on any change to how values are laid out in bytes)
FORMAT_VERSION = 1
#: the pseudo-field that holds a frame's ServerInfo (changes rarely, stored like a field)
SERVER_FIELD = "server"

#: the Snapshot field kept inside the ``activity`` value (:class:`Sessions`), not on its own
_WITH_ACTIVITY = "counted_sessions"
_HINTS = typing.get_type_hints(Snapshot)
#: every stored field's type
FIELD_TYPES: Mapping[str, Any] = {SERVER_FIELD: ServerInfo,
                                  **{name: _HINTS[name] for name in RECORDED_FIELDS
                                     if name != _WITH_ACTIVITY},
                                  BASE_FIELD: LoadProfile | None}
#: a group's key as stored: a tuple of :data:`SESSION_GROUP_KEY`
GroupKey = tuple[str | None, ...]
_group_key = operator.attrgetter(*SESSION_GROUP_KEY)


@dataclass(frozen=True, slots=True)
class Sessions:
    """A frame's sessions as one stored value: the rows kept, and the groups counted."""

    rows: tuple[Backend, ...]
    groups: tuple[SessionGroup, ...] = ()


def stored_values(snapshot: Snapshot, parts: Collection[Part]) -> dict[str, Any]:
    """The stored fields of the ``parts`` of ``snapshot`` (the fields of a frame), in the
    order of the parts."""
    out: dict[str, Any] = {}
    for part in RECORDED_PARTS:
        if part not in parts:
            continue
        for name in part.fields:
            if name == "activity":
                out[name] = Sessions(snapshot.activity, snapshot.counted_sessions)
            elif name == LOAD_FIELD and snapshot.load is not None and (
                    snapshot.load.frame_samples):
                out[name], out[BASE_FIELD] = split(snapshot.load)
            elif name != _WITH_ACTIVITY:
                out[name] = getattr(snapshot, name)
    return out


def snapshot_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """Snapshot fields of decoded stored values (the sessions' value gives two)."""
    out = dict(values)
    sessions = out.get("activity")
    if isinstance(sessions, Sessions):
        out["activity"], out[_WITH_ACTIVITY] = sessions.rows, sessions.groups
    base = out.pop(BASE_FIELD, None)
    load = out.get(LOAD_FIELD)
    if isinstance(load, LoadFrame):
        out[LOAD_FIELD] = joined(load, base)
    return out

_EXT_STRING = 1
_EXT_ROWS = 2
#: blobs shorter than this are not worth compressing
_COMPRESS_MIN = 200
_RAW, _ZLIB = b"\x00", b"\x01"


def _has_clock(tp: Any) -> bool:
    if isinstance(tp, type) and tp in CLOCKED:
        return True
    if isinstance(tp, type) and hasattr(tp, "__dataclass_fields__"):
        hints = typing.get_type_hints(tp)
        return any(_has_clock(hints[name]) for name in tp.__dataclass_fields__)
    return any(_has_clock(arg) for arg in typing.get_args(tp))


#: the fields whose values hold ages (their frames keep the references, see .clocks)
CLOCKED_FIELDS = frozenset(name for name, tp in FIELD_TYPES.items() if _has_clock(tp))


@cache
def current_layout() -> Layout:
    """The layout of today's model, as this pgcrisis writes it."""
    return Layout.of(FIELD_TYPES.values())


@cache
def _decoders(layout_json: str) -> Decoders:
    """Decoders for a stored layout, compiled once per process (type hints are slow)."""
    return Decoders(Layout.from_json(layout_json))


# -- bytes --------------------------------------------------------------------------------

def _varint(n: int, out: bytearray) -> None:
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def pack_ids(ids: Iterable[int]) -> bytes:
    """Ids as zigzag varints of their differences (ids of one value are close together).

    >>> unpack_ids(pack_ids([5, 900, 901, 3]))
    (5, 900, 901, 3)
    """
    out = bytearray()
    previous = 0
    for i in ids:
        d = i - previous
        previous = i
        _varint(d * 2 if d >= 0 else -d * 2 - 1, out)
    return bytes(out)


def unpack_ids(data: bytes | memoryview) -> tuple[int, ...]:
    out: list[int] = []
    previous = shift = n = 0
    for byte in bytes(data):
        n |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
            continue
        previous += (n >> 1) if not n & 1 else -((n + 1) >> 1)
        out.append(previous)
        n = shift = 0
    return tuple(out)


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, StrRef):
        return msgspec.msgpack.Ext(_EXT_STRING, pack_ids([obj.id]))
    if isinstance(obj, RowRefs):
        return msgspec.msgpack.Ext(_EXT_ROWS, pack_ids(obj.ids))
    raise TypeError(f"cannot encode {type(obj).__name__}")


def _ext_hook(code: int, data: memoryview) -> Any:
    if code == _EXT_STRING:
        return StrRef(unpack_ids(data)[0])
    if code == _EXT_ROWS:
        return RowRefs(unpack_ids(data))
    raise msgspec.DecodeError(f"unknown extension type {code}")


_ENCODER = msgspec.msgpack.Encoder(enc_hook=_enc_hook)
#: today's classes' encoders, compiled once per process
_ENCODERS = Encoders()
_DECODER = msgspec.msgpack.Decoder(ext_hook=_ext_hook)


def dumps(plain: Any) -> bytes:
    """The msgpack bytes of a plain value (references included)."""
    return _ENCODER.encode(plain)


def loads(data: bytes) -> Any:
    """The plain value of :func:`dumps` bytes."""
    return _DECODER.decode(data)


def seal(body: bytes) -> bytes:
    """A value blob: one header byte, then the body, compressed when that makes it shorter."""
    if len(body) >= _COMPRESS_MIN:
        packed = zlib.compress(body, 6)
        if len(packed) < len(body):
            return _ZLIB + packed
    return _RAW + body


def unseal(blob: bytes) -> bytes:
    """The body of a :func:`seal` blob."""
    return zlib.decompress(blob[1:]) if blob[:1] == _ZLIB else blob[1:]


def value_body(layout: int, blob: bytes) -> bytes:
    """A field value as the content table keeps it: its layout's id, then the blob.

    >>> unpack_value(value_body(300, b"blob"))
    (300, b'blob')
    """
    return pack_ids([layout]) + blob


def unpack_value(body: bytes) -> tuple[int, bytes]:
    """The layout id and the (sealed) blob of a stored field value."""
    end = next(i for i, byte in enumerate(body) if not byte & 0x80) + 1
    return unpack_ids(body[:end])[0], body[end:]


def content_hash(data: bytes) -> int:
    """A 64-bit signed hash (fits an SQL bigint) by which content is looked up; equal hashes
    are confirmed by comparing the bytes, so a collision costs a duplicate, never a mix-up."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big", signed=True)


def row_strings(plain: list[Any]) -> list[int]:
    """The string ids an element row refers to (rows nest only lists: quicker than
    :func:`references`)."""
    out: list[int] = []
    for item in plain:
        if type(item) is StrRef:
            out.append(item.id)
        elif type(item) is list:
            out.extend(row_strings(item))
    return out


def references(plain: Any) -> tuple[list[int], list[int]]:
    """The element ids and string ids a plain value refers to, found without its type."""
    rows: list[int] = []
    strings: list[int] = []
    todo = [plain]
    while todo:
        item = todo.pop()
        if isinstance(item, RowRefs):
            rows.extend(item.ids)
        elif isinstance(item, StrRef):
            strings.append(item.id)
        elif isinstance(item, list):
            todo.extend(item)
        elif isinstance(item, dict):
            todo.extend(item.values())
    return rows, strings


# -- values -------------------------------------------------------------------------------

class Codec:
    """Encodes field values under today's layout; decodes under any layout a store holds."""

    def __init__(self) -> None:
        self.layout = current_layout()
        self._encoders = _ENCODERS

    def encode(self, field: str, value: Any, ctx: EncodeContext) -> bytes:
        """The value blob of ``field``'s ``value`` (rows and strings go through ``ctx``);
        sessions as :class:`Sessions` (or a tuple of rows, none counted)."""
        if field == "activity":
            sessions = value if isinstance(value, Sessions) else Sessions(tuple(value))
            row = self._encoders.encoder(Backend)
            group = self._encoders.encoder(GroupKey)
            plain: Any = [ctx.rows(sessions.rows, row, same_always=False),
                          ctx.rows([_group_key(g) for g in sessions.groups], group,
                                   same_always=True),
                          [g.sessions for g in sessions.groups]]
        elif field == LOAD_FIELD and isinstance(value, LoadFrame):
            group = self._encoders.encoder(SeenGroup)
            plain = {"f": [[ctx.rows(g, group, same_always=True) for g in value.samples],
                           value.seconds, *[
                               ctx.rows(rows, self._encoders.encoder(tp), same_always=True)
                               for rows, tp in zip(value.rows(), LoadFrame.ROW_TYPES,
                                                   strict=True)]]}
        else:
            plain = self._encoders.encoder(FIELD_TYPES[field], split=True)(value, ctx)
        return seal(dumps(plain))

    def decoders(self, layout_json: str) -> Decoders:
        """The decoders for values written under a stored layout (compiled once)."""
        return _decoders(layout_json)

    def decode(self, field: str, plain: Any, decoders: Decoders, ctx: DecodeContext) -> Any:
        """The typed value of a parsed value blob (its rows and strings already in ``ctx``)."""
        if field == "activity":
            full_refs, group_refs, counts = plain
            row = decoders.decoder(Backend)
            group = decoders.decoder(GroupKey)
            full = tuple(row(ctx.rows[i], ctx) for i in full_refs.ids)
            groups = tuple(_group(group(ctx.rows[i], ctx), n)
                           for i, n in zip(group_refs.ids, counts, strict=True))
            return Sessions(full, groups)
        if field == LOAD_FIELD and isinstance(plain, dict):
            sample_refs, seconds, *row_refs = plain["f"]
            group = decoders.decoder(SeenGroup)
            rows = [tuple(decoders.decoder(tp)(ctx.rows[i], ctx) for i in refs.ids)
                    for refs, tp in zip(row_refs, LoadFrame.ROW_TYPES, strict=True)]
            return LoadFrame(
                tuple(tuple(group(ctx.rows[i], ctx) for i in refs.ids) for refs in sample_refs),
                seconds, *rows)
        return decoders.decoder(FIELD_TYPES[field])(plain, ctx)


def _group(key: GroupKey, sessions: int) -> SessionGroup:
    """A counted group from its stored key (an application or backend type never stored is
    an empty string, as a session row has it)."""
    datname, usename, app, addr, backend_type, state, wait_type, wait = key
    return SessionGroup(datname, usename, app or "", addr, backend_type or "", state,
                        wait_type, wait, sessions)
