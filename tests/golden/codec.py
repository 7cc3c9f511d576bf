"""A golden case's snapshot as JSON text, and back, exactly (msgspec).

msgspec encodes and decodes the model's frozen, slotted dataclasses, enums, datetimes,
tuples and sets as they are, and decodes strictly (a string where a number belongs fails).
Two things are added here. Fields a dataclass derives in ``__post_init__`` (``init=False``:
``Relations``' lookup tables) are left out of the file and rebuilt by the constructor when
decoding. Sets and keys are written sorted and indented, so a file does not depend on the
interpreter's hash seed and a recapture shows as a readable diff.

>>> from datetime import UTC, datetime
>>> from pgcrisis.model.relations import Relations, Table
>>> from pgcrisis.model.server import ServerInfo
>>> table = Table(7, "public", "t", "public.t", "r", 1, 1.0, 0, 0, 0, 0)
>>> snap = Snapshot(ServerInfo(150000, "15", "app", "postgres", True, 1),
...                 datetime(2026, 1, 2, tzinfo=UTC), relations=Relations(tables=(table,)))
>>> text = encode(snap)
>>> "_by_oid" in text, decode(text) == snap, decode(text).relations.table(7) == table
(False, True, True)
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from functools import cache
from typing import Any

import msgspec

from pgcrisis.model.snapshot import Snapshot


def _plain(value: Any) -> Any:
    """``value`` as JSON-ready builtins, without derived fields, sets sorted."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value) if f.init}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return msgspec.to_builtins(value, order="deterministic")


@cache
def _rebuilt(tp: Any) -> bool:
    """Whether ``tp`` is a dataclass that derives fields, or holds one as a field: such a
    type is decoded through its constructor, anything else by msgspec."""
    if not (isinstance(tp, type) and is_dataclass(tp)):
        if any(_rebuilt(arg) for arg in typing.get_args(tp)):
            raise TypeError(f"{tp}: a dataclass with derived fields inside a container is not "
                            "supported by tests/golden/codec.py; decode it here")
        return False
    hints = typing.get_type_hints(tp)
    return any(not f.init or _rebuilt(hints[f.name]) for f in fields(tp))


def _typed(plain: Any, tp: Any) -> Any:
    if not _rebuilt(tp):
        return msgspec.convert(plain, tp)
    hints = typing.get_type_hints(tp)
    return tp(**{f.name: _typed(plain[f.name], hints[f.name])
                 for f in fields(tp) if f.init and f.name in plain})


def encode(snapshot: Snapshot) -> str:
    """The snapshot as indented JSON, keys sorted, newline-terminated."""
    body = msgspec.json.encode(_plain(snapshot), order="sorted")
    return msgspec.json.format(body, indent=2).decode() + "\n"


def decode(text: str) -> Snapshot:
    """The snapshot ``text`` holds (fields the model no longer has are ignored: see
    :func:`unread`)."""
    snapshot = _typed(msgspec.json.decode(text), Snapshot)
    assert isinstance(snapshot, Snapshot)
    return snapshot


def unread(text: str) -> list[str]:
    """Paths of the values in ``text`` that decoding did not read (a field the model lost or
    renamed since the capture), so that a check never silently judges less than was stored."""
    missing: list[str] = []

    def walk(stored: Any, kept: Any, path: str) -> None:
        if isinstance(stored, dict) and isinstance(kept, dict):
            for key, value in stored.items():
                if key not in kept:
                    missing.append(f"{path}.{key}")
                else:
                    walk(value, kept[key], f"{path}.{key}")
        elif isinstance(stored, list) and isinstance(kept, list):
            for i, (a, b) in enumerate(zip(stored, kept, strict=False)):
                walk(a, b, f"{path}[{i}]")

    walk(msgspec.json.decode(text), msgspec.json.decode(encode(decode(text))), "snapshot")
    return missing
