"""What the flight recorder stores: frames (the parts of a snapshot read at one moment) and
events (gaps, reconnects, restarts, counter resets), and the store's interface.

The recorder stores snapshots, not a second model: a :class:`Frame` carries the very
snapshot the checks read, with the parts read at its moment, so triage of a past moment
rebuilds a ``Snapshot`` (:func:`pgcrisis.model.parts.assemble`) and runs the same checks.
Fast parts (sessions, locks, prepared transactions) are read every interval; slow parts
(statements, tables, cached views, jobs, server health) every minute. A frame holds only the
parts read at its moment; a snapshot at time T takes, for each field, its latest value
recorded at or before T.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from pgcrisis.capacity.rollups import History, ServerDay
from pgcrisis.model.findings import Severity
from pgcrisis.model.parts import RECORDED_PARTS, Part
from pgcrisis.model.server import ServerInfo
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.store.series import Bucket


@dataclass(frozen=True, slots=True)
class Frame:
    """One sample: the snapshot the recorder took, of which the ``parts`` were read at this
    moment (its other fields hold their defaults and are not stored).

    The snapshot's ``server_time`` is the server's clock (UTC) when the sample was read, the
    time every question about the past is asked in; ``local_time`` is the recorder's clock
    beside it (a skewed client clock is then visible, never silently applied). ``worst`` is
    the worst severity of the findings the checks made of this sample (``None``: nothing
    above info): samples with a warning or critical survive thinning.
    """

    snapshot: Snapshot
    parts: frozenset[Part]
    local_time: datetime
    worst: Severity | None = None

    @property
    def server_time(self) -> datetime:
        return self.snapshot.server_time or self.snapshot.taken_at

    @property
    def server(self) -> ServerInfo:
        return self.snapshot.server

    @property
    def unavailable(self) -> dict[str, str]:
        """Why a part read at this moment could not be."""
        return dict(self.snapshot.unavailable)

    @property
    def kind(self) -> str:
        """``full`` when every recorded part was read, else ``fast``."""
        return "full" if self.parts.issuperset(RECORDED_PARTS) else "fast"

    def fields(self) -> dict[str, object]:
        """The Snapshot fields of the parts read, by name, in the parts' order."""
        return {name: getattr(self.snapshot, name) for part in RECORDED_PARTS
                if part in self.parts for name in part.fields}


@dataclass(frozen=True, slots=True)
class LogErrorCount:
    """Errors of the server's log in one minute and one group (severity, SQLSTATE,
    normalized statement, queryid, application, tag, role, database): how many, and the
    latest message. ``role`` and ``database`` are ``""`` where the log does not name them
    (and in minutes a store of schema 4 or older counted)."""

    #: the minute's start, µs since the epoch (UTC)
    t: int
    severity: str
    sqlstate: str
    statement: str
    queryid: int | None
    application: str
    tag: str
    count: int
    sample: str
    role: str = ""
    database: str = ""

    @property
    def group(self) -> str:
        """The group's key in the store: a digest of what its errors share (a group with no
        role nor database keeps the key it had before the store kept them)."""
        shared = (self.severity, self.sqlstate, self.statement, str(self.queryid or ""),
                  self.application, self.tag)
        return _digest(shared + ((self.role, self.database)
                                 if self.role or self.database else ()))


@dataclass(frozen=True, slots=True)
class LogSlowCount:
    """Slow statements of the server's log (``log_min_duration_statement``, auto_explain) in
    one minute and one group (normalized statement, queryid, tag, application, role,
    database): how many, their total and longest duration, their durations'
    :mod:`~pgcrisis.store.histogram` (a p95 over any range), and the latest plan logged for
    the group (``""``: none)."""

    #: the minute's start, µs since the epoch (UTC)
    t: int
    statement: str
    queryid: int | None
    tag: str
    application: str
    role: str
    database: str
    count: int
    total_ms: float
    max_ms: float
    histogram: dict[int, int]
    plan: str = ""

    @property
    def group(self) -> str:
        """The group's key in the store: a digest of what its statements share."""
        return _digest((self.statement, str(self.queryid or ""), self.tag, self.application,
                        self.role, self.database))


def _digest(shared: tuple[str, ...]) -> str:
    return hashlib.sha1("\x00".join(shared).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class SeriesColumns:
    """The stored series' charted figures over a range, as columns: entry ``i`` of each is
    minute ``i`` (no object per minute: a chart of 14 days reads 20,160 of them). A store of
    schema 2 has no load columns (``load_samples`` and the others after it are empty);
    ``cpus`` and ``stmt_at`` hold ``None`` where not known."""

    #: each minute's start, µs since the epoch (UTC)
    t: tuple[int, ...]
    active: tuple[int, ...]
    idle: tuple[int, ...]
    idle_tx: tuple[int, ...]
    waiting: tuple[int, ...]
    refreshing: tuple[int, ...]
    xacts: tuple[int, ...]
    job_runs: tuple[int, ...]
    statement_ms: tuple[float, ...]
    seconds: tuple[float, ...]
    load_samples: tuple[int, ...] = ()
    load_cpu: tuple[float, ...] = ()
    load_io: tuple[float, ...] = ()
    load_lock: tuple[float, ...] = ()
    load_lwlock: tuple[float, ...] = ()
    load_ipc: tuple[float, ...] = ()
    load_client: tuple[float, ...] = ()
    load_other: tuple[float, ...] = ()
    cpus: tuple[int | None, ...] = ()
    stmt_seconds: tuple[float, ...] = ()
    stmt_at: tuple[int | None, ...] = ()

    @classmethod
    def of(cls, rows: Sequence[Sequence[object]]) -> SeriesColumns:
        """From rows of ``t`` then the figures, in the order of the fields (or the first of
        them: an older store's)."""
        return cls(*(tuple(column) for column in zip(*rows, strict=True)))


#: the charted figures, in the order of :class:`SeriesColumns`' fields after ``t``
FIGURES = tuple(f for f in SeriesColumns.__dataclass_fields__ if f != "t")


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


@dataclass(frozen=True, slots=True)
class Writing:
    """What a store can tell of a recorder writing a recording now: whether the recording's
    writer lock is held (``None``: this store cannot tell), and the recorder's clock at its
    last frames, oldest first (a gap in them, or none lately, says it stopped sampling)."""

    locked: bool | None
    last_frames: tuple[datetime, ...] = ()

    @property
    def interval_s(self) -> float | None:
        """The recorder's interval, as its last frames were taken (their median gap)."""
        gaps = sorted((b - a).total_seconds() for a, b in
                      zip(self.last_frames, self.last_frames[1:], strict=False))
        return gaps[len(gaps) // 2] if gaps else None

    def stale(self, now: datetime) -> bool:
        """Whether the last frame is older than the recorder's interval makes it (three
        intervals, and at least :data:`STALE_AFTER`): none has come lately."""
        if not self.last_frames:
            return True
        wait = max(3 * (self.interval_s or 1.0), STALE_AFTER.total_seconds())
        return (now - self.last_frames[-1]).total_seconds() > wait

    def live(self, now: datetime) -> bool:
        """Whether a recorder writes the recording now: its lock is held, or, where the store
        cannot tell, its frames still come."""
        return self.locked if self.locked is not None else not self.stale(now)


#: a recording whose last frame is older than this (and three intervals) has stopped coming
STALE_AFTER = timedelta(seconds=5)
#: the frames :meth:`Store.writing` reads to know the recorder's interval
WRITING_FRAMES = 8


class StoreWriter(Protocol):
    """The one writer of one recording (``name``) in a store."""

    def append(self, frame: Frame) -> None:
        """Store one frame, in one short transaction."""

    def event(self, event: Event) -> None:
        """Store one event."""

    def maintain(self, now: datetime, *, retention: timedelta, thin_after: timedelta) -> None:
        """Thin detail older than ``thin_after`` (one frame a minute, plus frames whose
        ``worst`` is warning or critical) and delete what is older than ``retention``."""

    def log_errors(self, rows: Sequence[LogErrorCount]) -> None:
        """Add error counts read from the server's log (one transaction)."""

    def log_slow(self, rows: Sequence[LogSlowCount]) -> None:
        """Add slow-statement counts read from the server's log (one transaction)."""

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
        """The per-minute figures (:mod:`pgcrisis.store.series`) of the minutes that start
        between ``start`` and ``end``, oldest first."""

    def series_figures(self, name: str, start: datetime,
                       end: datetime) -> SeriesColumns | None:
        """The same minutes' charted figures as columns (for a reader that wants columns,
        not a :class:`Bucket` per minute), or ``None`` when none is stored there."""

    def log_errors(self, name: str, start: datetime, end: datetime) -> list[LogErrorCount]:
        """Error counts of the server's log between ``start`` and ``end``."""

    def log_slow(self, name: str, start: datetime, end: datetime) -> list[LogSlowCount]:
        """Slow-statement counts of the server's log between ``start`` and ``end`` (their
        plans read back), oldest first."""

    def history(self, name: str, start: date | None = None,
                end: date | None = None) -> History:
        """The recording's days (:mod:`pgcrisis.capacity.rollups`) from ``start`` to ``end``
        (UTC days, inclusive; None: its first, its last), read through the rollup tables'
        keys, never the samples (a recording older than rollups: folded from its samples)."""

    def latest_days(self, names: Sequence[str], since: date) -> dict[str, tuple[ServerDay, ...]]:
        """The server days of several recordings from ``since`` on, in one indexed query (a
        fleet's page)."""

    def writing(self, name: str) -> Writing:
        """Whether a recorder writes recording ``name`` now, as far as the store can tell."""

    def close(self) -> None:
        """Close the store."""
