"""What the flight recorder stores: frames (the parts of a snapshot read at one moment) and
events (gaps, reconnects, restarts, counter resets), and the store's interface.

The recorder stores snapshots, not a second model: a :class:`Frame` carries the very
dataclasses the checks read (:class:`~pgcrisis.model.snapshot.Snapshot` fields), so triage of a
past moment rebuilds a ``Snapshot`` and runs the same checks. Fast parts (sessions, locks,
prepared transactions) are read every interval; slow parts (statements, tables, cached views,
jobs, server health) every minute. A frame holds only the parts read at its moment; a snapshot
at time T takes, for each field, its latest value recorded at or before T.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from pgcrisis.model import parts
from pgcrisis.model.findings import Severity
from pgcrisis.model.server import ServerInfo
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.record.timeline import Bucket

#: one row of error counts: minute (µs), group key, severity, sqlstate, statement, queryid,
#: application, tag, count, sample message
LogErrorRow = tuple[int, str, str, str, str, int | None, str, str, int, str]

#: probe parts read every interval (what is stuck right now), and every minute
FAST_PARTS = tuple(p.name for p in parts.FAST_PARTS)
SLOW_PARTS = tuple(p.name for p in parts.SLOW_PARTS)

#: the Snapshot fields each probe part fills, as a frame stores them (counted sessions are
#: stand-in rows of ``activity`` here)
FIELDS_OF_PART: Mapping[str, tuple[str, ...]] = {
    p.name: tuple(f for f in p.fields if f != "counted_sessions") for p in parts.RECORDED_PARTS}

#: every Snapshot field a frame may carry, in a stable order
RECORDED_FIELDS: tuple[str, ...] = tuple(f for part in (*FAST_PARTS, *SLOW_PARTS)
                                         for f in FIELDS_OF_PART[part])


@dataclass(frozen=True, slots=True)
class Frame:
    """One sample: the snapshot fields read at one moment.

    ``server_time`` is the server's clock (UTC) when the sample was read, the time every
    question about the past is asked in; ``local_time`` is the recorder's clock beside it (a
    skewed client clock is then visible, never silently applied). ``fields`` holds only the
    fields of the parts read in this sample (names from :data:`RECORDED_FIELDS`).
    ``worst`` is the worst severity of the findings the checks made of this sample (``None``:
    nothing above info): samples with a warning or critical survive thinning.
    """

    server_time: datetime
    local_time: datetime
    server: ServerInfo
    fields: Mapping[str, Any]
    unavailable: Mapping[str, str] = field(default_factory=dict)
    worst: Severity | None = None
    kind: str = "fast"  # "fast" (FAST_PARTS only) or "full" (every part)


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened to the recording itself: evidence too.

    ``kind`` is one of ``start``, ``stop``, ``gap`` (no sample for longer than expected),
    ``disconnect``, ``reconnect``, ``restart`` (the server's start time changed: every counter
    restarted), ``stats-reset`` (a counter went down), ``slow-sample`` (a sample took longer
    than the interval; the next was skipped, not queued).
    """

    time: datetime
    kind: str
    detail: str = ""


class StoreWriter(Protocol):
    """The one writer of one recording (``name``) in a store."""

    def append(self, frame: Frame) -> None:
        """Store one frame, in one short transaction."""

    def event(self, event: Event) -> None:
        """Store one event."""

    def maintain(self, now: datetime, *, retention: timedelta, thin_after: timedelta) -> None:
        """Thin detail older than ``thin_after`` (one frame a minute, plus frames whose
        ``worst`` is warning or critical) and delete what is older than ``retention``."""

    def log_errors(self, rows: Sequence[LogErrorRow]) -> None:
        """Add error counts read from the server's log (one transaction)."""

    def close(self) -> None:
        """Release the writer's lock; the store stays readable."""


class Store(Protocol):
    """A place recordings live: a SQLite file, or a central PostgreSQL database."""

    def writer(self, name: str, *, source: str, max_bytes: int | None = None) -> StoreWriter:
        """The writer for recording ``name`` (``source``: the watched server, redacted).
        Raises :class:`~pgcrisis.errors.StoreError` when another recorder writes it."""

    def names(self) -> list[str]:
        """The recordings in this store."""

    def coverage(self, name: str) -> tuple[datetime, datetime] | None:
        """The first and last frame's server time, or ``None`` when empty."""

    def snapshot_at(self, name: str, when: datetime) -> Snapshot | None:
        """The snapshot as it was at ``when``: each field's latest value at or before it,
        ``taken_at`` the server time of the latest frame at or before it."""

    def snapshots(self, name: str, start: datetime, end: datetime) -> Iterator[Snapshot]:
        """The snapshot at each frame between ``start`` and ``end`` (inclusive), oldest first."""

    def frame_near(self, name: str, when: datetime, *, forward: bool,
                   flagged: bool = False) -> datetime | None:
        """The time of the next (``forward``) or previous frame strictly after or before
        ``when``; with ``flagged``, of one in which a warning or critical finding held."""

    def events(self, name: str, start: datetime, end: datetime) -> list[Event]:
        """The events between ``start`` and ``end``, oldest first."""

    def series(self, name: str, start: datetime, end: datetime) -> list[Bucket]:
        """The per-minute figures (:mod:`pgcrisis.record.timeline`) of the minutes that start
        between ``start`` and ``end``, oldest first."""

    def series_figures(self, name: str, start: datetime,
                       end: datetime) -> list[tuple[Any, ...]] | None:
        """The same minutes' charted figures as plain rows (``t`` then
        :data:`pgcrisis.record.reader.FIGURES`), or ``None`` when none is stored there."""

    def log_errors(self, name: str, start: datetime, end: datetime) -> list[tuple[Any, ...]]:
        """Error counts of the server's log between ``start`` and ``end``: rows of
        (t, severity, sqlstate, statement, queryid, application, tag, n, sample)."""

    def close(self) -> None:
        """Close the store."""
