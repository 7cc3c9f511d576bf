"""The positional form of the snapshot's dataclasses, and the layout a store was written with.

msgspec encodes a dataclass as a map keyed by its field names: a session row is then about
250 bytes, 170 of them names. Here a dataclass is an array in field order, with trailing
fields that equal their defaults left out (about 70 bytes for the same row); msgspec's
msgpack carries the arrays. Converters are compiled once per type from its type hints.

Positions depend on the classes' field order, which changes as the model grows. A store
therefore keeps the :class:`Layout` its values were written with (the field names of every
type) and reads an old row by name: a field the model dropped is ignored, a field it added
takes its default. A new field without a default cannot be read from an older recording
(:class:`~pgcrisis.errors.StoreError` names it).

Two kinds of reference replace values in the plain form, as msgpack extension types:
:class:`StrRef` (a long string stored once in the store's strings table) and
:class:`RowRefs` (the elements of a tuple stored once each, by content, in the elements
table). Ages are stored as their origins (:mod:`._clocks`).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import operator
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pgcrisis.errors import StoreError
from pgcrisis.store._clocks import CLOCKED, Refs, seconds_age, seconds_origin

#: strings at least this long are stored once and referred to (query texts, commands,
#: index definitions); shorter ones cost less inline than a reference
STRING_MIN = 24


class _Ref:
    """A reference in the plain form. Not a dataclass: msgspec would encode a dataclass as a
    map instead of handing it to the codec's extension hook."""

    __slots__ = ()

    def _key(self) -> object:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Ref) and type(other) is type(self) and other._key() == self._key()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._key()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._key()!r})"


class StrRef(_Ref):
    """A string stored once, by id."""

    __slots__ = ("id",)

    def __init__(self, id: int) -> None:
        self.id = id

    def _key(self) -> object:
        return self.id


class RowRefs(_Ref):
    """The elements of a tuple, each stored once, by id, in order."""

    __slots__ = ("ids",)

    def __init__(self, ids: tuple[int, ...]) -> None:
        self.ids = ids

    def _key(self) -> object:
        return self.ids


class EncodeContext(Protocol):
    """What encoding needs from the store: a place for strings and rows, and references."""

    refs: Refs

    def string(self, text: str) -> StrRef:
        """The reference of ``text``, stored if new."""

    def rows(self, values: Sequence[Any], encode: Encoder, *, same_always: bool) -> RowRefs:
        """References of these rows (``encode`` makes each plain), each stored if new;
        ``same_always``: a row's plain form depends on the row alone (no ages), so equal
        rows may be looked up without encoding them again."""


@dataclass(slots=True)
class DecodeContext:
    """What decoding needs: the strings and plain rows referred to, and the references."""

    strings: Mapping[int, str]
    rows: Mapping[int, Any]
    refs: Refs = dataclasses.field(default_factory=Refs)


Encoder = Callable[[Any, EncodeContext], Any]
Decoder = Callable[[Any, DecodeContext], Any]


def type_key(cls: type) -> str:
    """How a layout names a class: ``module.QualName``."""
    return f"{cls.__module__}.{cls.__qualname__}"


def _init_fields(cls: type) -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(cls) if f.init]


def _args(tp: Any) -> tuple[Any, ...]:
    return typing.get_args(tp)


def _optional(tp: Any) -> Any | None:
    """``X`` when ``tp`` is ``X | None``."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        rest = [a for a in _args(tp) if a is not type(None)]
        if len(rest) == 1 and len(_args(tp)) == 2:
            return rest[0]
        raise TypeError(f"the recorder cannot store the union {tp}")
    return None


def _dataclasses_in(tp: Any, found: dict[str, type]) -> None:
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        key = type_key(tp)
        if key in found:
            return
        found[key] = tp
        hints = typing.get_type_hints(tp)
        for f in _init_fields(tp):
            _dataclasses_in(hints[f.name], found)
        return
    for arg in _args(tp):
        _dataclasses_in(arg, found)


@dataclass(frozen=True, slots=True)
class Layout:
    """The init field names of every dataclass a store holds, by :func:`type_key`."""

    types: Mapping[str, tuple[str, ...]]

    @classmethod
    def of(cls, roots: Iterable[Any]) -> Layout:
        """The layout of today's classes reachable from ``roots`` (types or type hints)."""
        found: dict[str, type] = {}
        for root in roots:
            _dataclasses_in(root, found)
        return cls({key: tuple(f.name for f in _init_fields(c))
                    for key, c in sorted(found.items())})

    def to_json(self) -> str:
        """A canonical text: equal layouts give equal texts."""
        return json.dumps({k: list(v) for k, v in sorted(self.types.items())},
                          separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Layout:
        return cls({k: tuple(v) for k, v in json.loads(text).items()})


# -- encoding -----------------------------------------------------------------------------

def _same(value: Any, default: Any) -> bool:
    return type(value) is type(default) and bool(value == default)


def _default_of(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _sort_key(value: Any) -> tuple[str, str]:
    return (type(value).__name__, repr(value))


def _identity(v: Any, ctx: Any) -> Any:
    return v


def _enc_str(v: str, ctx: EncodeContext) -> Any:
    return ctx.string(v) if len(v) >= STRING_MIN else v


class Encoders:
    """Converters from today's classes to the plain form (compiled once per type)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[Any, bool], Encoder] = {}

    def encoder(self, tp: Any, *, split: bool = False) -> Encoder:
        """The converter of values of type ``tp``. With ``split``, a tuple of dataclasses
        (or a dataclass's tuple-of-dataclass attributes) becomes :class:`RowRefs`."""
        key = (tp, split)
        if key not in self._cache:
            self._cache[key] = self._compile(tp, split)
        return self._cache[key]

    def _compile(self, tp: Any, split: bool) -> Encoder:
        inner = _optional(tp)
        if inner is not None:
            enc = self.encoder(inner, split=split)
            if enc is _identity:
                return _identity
            return lambda v, ctx: None if v is None else enc(v, ctx)
        origin = typing.get_origin(tp)
        if tp is str:
            return _enc_str
        if tp in (int, float, bool, type(None)):
            return _identity
        if tp is datetime:
            return lambda v, ctx: v if v.tzinfo is not None else v.isoformat()
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return lambda v, ctx: v.value
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            return self._dataclass(tp, split)
        if origin is tuple:
            args = _args(tp)
            if len(args) == 2 and args[1] is Ellipsis:
                item = self.encoder(args[0])
                element = args[0]
                if split and isinstance(element, type) and dataclasses.is_dataclass(element):
                    fixed = element not in CLOCKED
                    return lambda v, ctx: ctx.rows(v, item, same_always=fixed)
                return lambda v, ctx: [item(x, ctx) for x in v]
            items = [self.encoder(a) for a in args]
            return lambda v, ctx: [e(x, ctx) for e, x in zip(items, v, strict=True)]
        if origin is frozenset:
            item = self.encoder(_args(tp)[0])
            return lambda v, ctx: [item(x, ctx) for x in sorted(v, key=_sort_key)]
        if origin in (dict, Mapping):
            _, value_type = _args(tp)
            value = self.encoder(value_type)
            return lambda v, ctx: {k: value(x, ctx) for k, x in v.items()}
        raise TypeError(f"the recorder cannot store values of type {tp}")

    def _dataclass(self, cls: type, split: bool) -> Encoder:
        hints = typing.get_type_hints(cls)
        clocked = CLOCKED.get(cls)
        names: list[str] = []
        encoders: list[Encoder] = []
        defaults: list[Any] = []
        for f in _init_fields(cls):
            names.append(f.name)
            defaults.append(_default_of(f))
            if clocked is not None and f.name in clocked.seconds:
                encoders.append(lambda v, ctx: seconds_origin(v, ctx.refs.seconds_us))
            elif clocked is not None and f.name in clocked.xids:
                encoders.append(lambda v, ctx: None if v is None else ctx.refs.xid - v)
            else:
                encoders.append(self.encoder(hints[f.name], split=split))
        # plain numbers and flags go through as they are: only the others are converted
        special = [(i, e) for i, e in enumerate(encoders) if e is not _identity]
        many = operator.attrgetter(*names) if len(names) > 1 else None

        def values_of(obj: Any) -> tuple[Any, ...]:
            if many is not None:
                return many(obj)
            return tuple(getattr(obj, n) for n in names)

        def enc(obj: Any, ctx: EncodeContext) -> list[Any]:
            values = values_of(obj)
            end = len(values)
            while end and defaults[end - 1] is not dataclasses.MISSING and _same(
                    values[end - 1], defaults[end - 1]):
                end -= 1
            out = list(values[:end])
            for i, e in special:
                if i >= end:
                    break
                out[i] = e(out[i], ctx)
            return out
        return enc


# -- decoding -----------------------------------------------------------------------------

def _string(v: Any, ctx: DecodeContext) -> Any:
    return ctx.strings[v.id] if isinstance(v, StrRef) else v


def _datetime(v: Any, ctx: DecodeContext) -> datetime:
    return v if isinstance(v, datetime) else datetime.fromisoformat(v)


class Decoders:
    """Converters from the plain form written under ``layout`` to today's classes."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self._cache: dict[Any, Decoder] = {}

    def decoder(self, tp: Any) -> Decoder:
        """The converter to values of type ``tp`` (split or inline forms alike)."""
        if tp not in self._cache:
            self._cache[tp] = self._compile(tp)
        return self._cache[tp]

    def _compile(self, tp: Any) -> Decoder:
        inner = _optional(tp)
        if inner is not None:
            dec = self.decoder(inner)
            return lambda v, ctx: None if v is None else dec(v, ctx)
        origin = typing.get_origin(tp)
        if tp is str:
            return _string
        if tp in (int, float, bool, type(None)):
            return lambda v, ctx: v
        if tp is datetime:
            return _datetime
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return lambda v, ctx: tp(v)
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            return self._dataclass(tp)
        if origin is tuple:
            args = _args(tp)
            if len(args) == 2 and args[1] is Ellipsis:
                item = self.decoder(args[0])

                def dec_tuple(v: Any, ctx: DecodeContext) -> tuple[Any, ...]:
                    if isinstance(v, RowRefs):
                        return tuple(item(ctx.rows[i], ctx) for i in v.ids)
                    return tuple(item(x, ctx) for x in v)
                return dec_tuple
            items = [self.decoder(a) for a in args]
            return lambda v, ctx: tuple(d(x, ctx) for d, x in zip(items, v, strict=True))
        if origin is frozenset:
            element = self.decoder(_args(tp)[0])
            return lambda v, ctx: frozenset(element(x, ctx) for x in v)
        if origin in (dict, Mapping):
            value = self.decoder(_args(tp)[1])
            return lambda v, ctx: {k: value(x, ctx) for k, x in v.items()}
        raise TypeError(f"the recorder cannot read values of type {tp}")

    def _dataclass(self, cls: type) -> Decoder:
        hints = typing.get_type_hints(cls)
        clocked = CLOCKED.get(cls)
        current = [f.name for f in _init_fields(cls)]
        stored = list(self.layout.types.get(type_key(cls), current))

        def field_decoder(name: str) -> Decoder:
            if clocked is not None and name in clocked.seconds:
                return lambda v, ctx: seconds_age(v, ctx.refs.seconds_us)
            if clocked is not None and name in clocked.xids:
                return lambda v, ctx: None if v is None else ctx.refs.xid - v
            return self.decoder(hints[name])

        if stored == current[:len(stored)]:
            decoders = [field_decoder(n) for n in stored]

            def positional(v: list[Any], ctx: DecodeContext) -> Any:
                return cls(*[d(x, ctx) for d, x in zip(decoders, v, strict=False)])
            return positional
        known = [(i, n, field_decoder(n)) for i, n in enumerate(stored) if n in current]

        def by_name(v: list[Any], ctx: DecodeContext) -> Any:
            kwargs = {n: d(v[i], ctx) for i, n, d in known if i < len(v)}
            try:
                return cls(**kwargs)
            except TypeError as exc:
                raise StoreError(f"this recording's {cls.__name__} rows lack a field "
                                 f"today's pgcrisis needs ({exc})") from None
        return by_name
