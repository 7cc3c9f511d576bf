"""Turning raw plan values into Python numbers and text.

The fast scanner hands over the raw bytes of a line (``b'12.5'``, ``b'"Seq Scan"'``,
``b'["a", "b"]'``) and only the analysis decides which of them are worth converting; the
general parser hands over decoded JSON values. These helpers accept both.
"""

from __future__ import annotations

import json
from typing import Any

RawValue = Any  # bytes (fast scanner), or str / int / float / bool / list / None (JSON)
#: A node's own keys as read so far. Keys are bytes (``b"Node Type"``) so that the fast
#: scanner can fill the dict straight from a regular expression, in C.
Props = dict[bytes, RawValue]


def num(value: RawValue, default: float = 0.0) -> float:
    """A number, or ``default`` when missing or not numeric."""
    if value is None:
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


_TEXT_CACHE: dict[bytes, str] = {}


def text(value: RawValue) -> str | None:
    """A string value (JSON-unescaped), or ``None`` when missing."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        cached = _TEXT_CACHE.get(value)
        if cached is not None:
            return cached
        if value[:1] == b'"':
            if b"\\" in value:
                try:
                    loaded = json.loads(value)
                except ValueError:
                    return value[1:-1].decode("utf-8", "replace")
                return loaded if isinstance(loaded, str) else str(loaded)
            decoded = value[1:-1].decode("utf-8", "replace")
        else:
            decoded = value.decode("utf-8", "replace")
        if len(value) <= 40:  # node types, relationships, names: few distinct values
            if len(_TEXT_CACHE) > 20000:
                _TEXT_CACHE.clear()
            _TEXT_CACHE[value] = decoded
        return decoded
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def flag(value: RawValue) -> bool:
    """A JSON boolean."""
    return value is True or value == b"true"


def raw_text(value: RawValue) -> str:
    """Any value as searchable text (escapes left in place): for finding parameter references."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)
