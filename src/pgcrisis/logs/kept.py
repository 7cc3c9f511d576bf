"""The events kept for the findings of ``pgcrisis logs``: :func:`pgcrisis.logs.findings.findings_of`
takes a sequence of events, and a 1 GiB log can hold millions of them, so the report keeps
only the events a finding can be made of, and at most :data:`PER_KIND` of each kind.

Kept: every kind but plain errors and checkpoints, which come by the million and tell
nothing a count does not (the minute table counts them all); of the plain errors, only
those of the SQLSTATE classes findings judge (resources, system and internal errors,
connections, lock and serialization failures, shutdowns) and every FATAL or PANIC. When a kind
has more than :data:`PER_KIND` events, the first ones are kept and the report says how many
of how many the findings were judged on.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from pgcrisis.logs.events import Event, Kind

#: events of one kind the findings are judged on at most (a record is a few hundred bytes:
#: all kinds at their cap stay well under the 100 MiB a 1 GiB log may take)
PER_KIND = 2000
#: the characters of a kept event's texts (a finding quotes them, never whole): a message
#: (a duration's repeats its statement), and a statement, detail or context
MESSAGE_KEPT = 300
TEXT_KEPT = 2000
#: plain errors kept: these SQLSTATE classes (53 resources, 58 system, XX internal,
#: 08 connection) and these codes (lock not available, serialization, shutdowns)
ERROR_CLASSES = frozenset({"53", "58", "XX", "08"})
ERROR_CODES = frozenset({"55P03", "40001", "57P01", "57P02", "57P03"})


def wanted(event: Event) -> bool:
    """Whether a finding can be made of this event (see the module's docstring).

    >>> from datetime import UTC, datetime
    >>> from pgcrisis.logs.record import LogRecord
    >>> r = LogRecord(datetime(2026, 1, 1, tzinfo=UTC), "ERROR", "22012", "division by zero")
    >>> wanted(Event(Kind.ERROR, r)), wanted(Event(Kind.SLOW, r, duration_ms=1500.0))
    (False, True)
    """
    if event.kind is Kind.CHECKPOINT:
        return False
    if event.kind is not Kind.ERROR:
        return True
    record = event.record
    return (record.severity in ("FATAL", "PANIC") or record.sqlstate[:2] in ERROR_CLASSES
            or record.sqlstate in ERROR_CODES)


def slim(event: Event) -> Event:
    """The event with its texts cut to what a finding quotes: thousands of events are kept,
    and a log's statements can be kilobytes each (a plan is kept whole: it is read).

    >>> from datetime import UTC, datetime
    >>> from pgcrisis.logs.record import LogRecord
    >>> r = LogRecord(datetime(2026, 1, 1, tzinfo=UTC), "LOG", "", "x" * 5000, "y" * 5000)
    >>> e = slim(Event(Kind.SLOW, r, duration_ms=1.0, statement="y" * 5000))
    >>> len(e.record.message), len(e.record.statement), len(e.statement)
    (300, 2000, 2000)
    """
    r = event.record
    if (len(r.message) <= MESSAGE_KEPT and len(event.statement) <= TEXT_KEPT
            and max(len(r.statement), len(r.detail), len(r.context),
                    len(r.internal_query)) <= TEXT_KEPT):
        return event
    record = replace(r, message=r.message[:MESSAGE_KEPT], statement=r.statement[:TEXT_KEPT],
                     detail=r.detail[:TEXT_KEPT], context=r.context[:TEXT_KEPT],
                     internal_query=r.internal_query[:TEXT_KEPT])
    return replace(event, record=record, statement=event.statement[:TEXT_KEPT])


@dataclass(slots=True)
class Kept:
    """The events kept so far, and how many of each kind were seen."""

    events: list[Event] = field(default_factory=list)
    seen: Counter[Kind] = field(default_factory=Counter)

    def add(self, event: Event) -> None:
        if not wanted(event):
            return
        self.seen[event.kind] += 1
        if self.seen[event.kind] <= PER_KIND:
            self.events.append(slim(event))

    def capped(self) -> dict[Kind, int]:
        """The kinds with more events than kept: kind -> how many were seen."""
        return {kind: n for kind, n in self.seen.items() if n > PER_KIND}
