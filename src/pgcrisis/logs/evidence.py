"""What every finding read from the log carries: where in the log it was read (``log``:
file, first and last line, first and last time, how many records), and the objects a log
can name (a query only where the log carries its queryid, else the database).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from pgcrisis.logs.events import Event
from pgcrisis.logs.statements import normalize
from pgcrisis.model.findings import JsonValue, ObjectRef
from pgcrisis.shorten import one_line
from pgcrisis.when import shown


def iso(moment: datetime) -> str:
    """A moment of the log as the contract writes times (UTC, ISO 8601)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def log_evidence(events: Sequence[Event]) -> dict[str, JsonValue]:
    """Where ``events`` (in the order read) were read: ``file`` and ``lines`` [first, last]
    of the first and last of them (``files`` when they span several), ``first``/``last``
    times, ``records`` how many."""
    first, last = events[0].record, events[-1].record
    files = list(dict.fromkeys(e.record.file for e in events if e.record.file))
    out: dict[str, JsonValue] = {
        "file": first.file, "lines": [first.line, last.last_line or last.line],
        "first": iso(min(e.record.time for e in events)),
        "last": iso(max(e.record.time for e in events)), "records": len(events)}
    if len(files) > 1:
        out["files"] = files
    return out


def span(events: Sequence[Event]) -> str:
    """When ``events`` happened: one moment, or first to last (local times, named zone)."""
    first = min(e.record.time for e in events)
    last = max(e.record.time for e in events)
    if first == last:
        return f"at {shown(first)}"
    day = shown(first)[:10] == shown(last)[:10]
    return f"{shown(first)} – {shown(last)[11:] if day else shown(last)}"


def statement_ref(event: Event, statement: str) -> ObjectRef:
    """The statement as a query where the log carries its queryid, else its database."""
    qid = event.record.queryid
    if qid:
        return ObjectRef("query", name=one_line(normalize(statement) or "?", 120),
                         queryid=qid)
    return database_ref(event)


def database_ref(event: Event) -> ObjectRef:
    """The database of the record (``?`` where the log does not say it)."""
    return ObjectRef("database", name=event.record.database or "?")


def short(statement: str, limit: int = 80) -> str:
    """A statement on one line, cut to ``limit``."""
    return one_line(statement.strip(), limit) or "(statement not logged)"
