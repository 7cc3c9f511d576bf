"""Turning raw plan values into Python numbers and text.

The scanners that gather a node's keys in a dict (text plans, the strict JSON parser, the
node scanner's exact path) hand over decoded JSON values or text; ``_node.from_props``
converts them once with these helpers, which also accept raw bytes.
"""

from __future__ import annotations

import json
from typing import Any

from msgspec import Raw

RawValue = Any  # str / int / float / bool / list / None (JSON), text, or raw bytes
#: A node's own keys as read so far, by their JSON names (as bytes: ``b"Node Type"``).
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
    if isinstance(value, bytes | Raw):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)
