"""Building :class:`LogRecord` fast: a reader makes one per message of a log of gigabytes,
and a frozen dataclass's ``__init__`` sets each of its 20 fields through
``object.__setattr__`` (3 µs a record, most of a stderr line's budget).

:func:`new_record` builds the same object through a twin class of identical slots whose
``__init__`` assigns plainly, then gives it its real class (``__class__`` assignment between
layout-identical classes is part of the language): the record is a true, frozen LogRecord.

>>> from datetime import UTC, datetime
>>> at = datetime(2026, 1, 1, tzinfo=UTC)
>>> new_record(at, "ERROR", "22012", "x") == LogRecord(at, "ERROR", "22012", "x")
True
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any

from pgcrisis.logs.record import LogRecord


def _twin() -> Any:
    names = [f.name for f in fields(LogRecord)]
    defaults = {f.name: f.default for f in fields(LogRecord) if f.default is not MISSING}

    namespace: dict[str, Any] = {}
    params = ", ".join(f"{n}=_d[{n!r}]" if n in defaults else n for n in names)
    body = "".join(f"    self.{n} = {n}\n" for n in names)
    exec(f"def __init__(self, {params}):\n{body}", {"_d": defaults}, namespace)
    return type("Twin", (), {"__slots__": tuple(LogRecord.__slots__),
                              "__init__": namespace["__init__"]})


Twin = _twin()


def new_record(*args: Any, **kwargs: Any) -> LogRecord:
    """A :class:`LogRecord` of these arguments (as its constructor takes them)."""
    record = Twin(*args, **kwargs)
    record.__class__ = LogRecord
    return record  # type: ignore[no-any-return]
