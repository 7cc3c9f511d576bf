"""The per-minute series a store keeps beside the frames: derived once, at write time.

The writer folds every frame into one row a minute (``series`` in the store): peaks of the
session states, the deltas of the server's counters (transactions, job runs, statement
time) since the previous reading and the time they span, and the frames' load profiles
summed by wait class (the average active sessions per class are those sums over
``load_samples``) with the CPU count they were set against. Thinning leaves these rows
alone, so a chart of 14 days reads 20,160 rows, not the snapshots behind them.

The columns are versioned with the store's schema (:mod:`._meta`): schema 2 wrote
:data:`SERIES_V2`, schema 3 added the load and the statements' span (:data:`SERIES`); a
minute of an older store reads them as none (``load_samples`` 0: the load is not in that
recording). The dashboard's charts, ``/metrics`` and
``pgcrisis report`` read them (or, for a store written before they were kept, and for a range
of a few minutes drawn a bucket a second, :func:`buckets_of` derives them from the frames).

Pure: a snapshot in, figures out.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from pgcrisis.model.activity import Backend
from pgcrisis.model.parts import ACTIVITY, CRON, LOAD, PARTS, STATEMENTS, Part
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.model.statements import Statements
from pgcrisis.model.waits import SHOWN_CLASSES

#: the figures of a series row of a schema-2 store, in the order of its columns
SERIES_V2 = ("samples", "active", "idle", "idle_tx", "waiting", "refreshing", "xacts",
             "job_runs", "statement_ms", "seconds", "xact_total", "runs_total", "stmt_total")
#: the load's columns: average sessions summed over the minute's profiles, one per class of
#: :data:`~pgcrisis.model.waits.SHOWN_CLASSES`, in their order
LOAD_COLUMNS = tuple(f"load_{c.lower()}" for c in SHOWN_CLASSES)
assert LOAD_COLUMNS == ("load_cpu", "load_io", "load_lock", "load_lwlock", "load_ipc",
                        "load_client", "load_other"), "Bucket's load fields follow the classes"
#: the figures of a series row, in the order of the store's columns (after ``rec`` and ``t``)
SERIES = (*SERIES_V2, "load_samples", *LOAD_COLUMNS, "cpus", "stmt_seconds", "stmt_at")
MINUTE_US = 60_000_000
_ALL = frozenset(PARTS)
_ALL_BUT_STATEMENTS = _ALL - {STATEMENTS}


@dataclass(frozen=True, slots=True)
class Reading:
    """What one sample says: sessions by state now, and the counters' readings (``None``:
    not read in this sample)."""

    active: int
    idle: int
    idle_tx: int
    waiting: int
    refreshing: int
    xacts: int | None
    runs: int | None
    statement_ms: float | None
    #: average sessions per class of :data:`SHOWN_CLASSES` (None: no profile in the sample)
    load: tuple[float, ...] | None = None
    cpus: int | None = None


@dataclass(frozen=True, slots=True)
class Bucket:
    """One minute of the stored series (``t``: its start, µs since the epoch, UTC).

    ``xacts``, ``job_runs`` and ``statement_ms`` are the counters' growth within the minute;
    ``seconds`` how much time those deltas span (transactions per second are ``xacts /
    seconds``); the ``*_total`` the last readings, from which the next sample's delta is taken.
    ``last_us`` is the time of the last sample folded in (not stored: a resumed writer starts a
    new delta span).

    ``load_samples`` counts the samples with a load profile, ``load_*`` sum their average
    sessions per class (:data:`LOAD_COLUMNS`), ``cpus`` is the CPU count they were set
    against (None: not known). Statements are read once a minute: ``stmt_seconds`` is the
    time the minute's ``statement_ms`` covers, from the reading before (its busy sessions,
    :attr:`busy`), ``stmt_at`` the time of the last reading (µs), which the next one's span
    starts from.
    """

    t: int
    samples: int = 0
    active: int = 0
    idle: int = 0
    idle_tx: int = 0
    waiting: int = 0
    refreshing: int = 0
    xacts: int = 0
    job_runs: int = 0
    statement_ms: float = 0.0
    seconds: float = 0.0
    xact_total: int | None = None
    runs_total: int | None = None
    stmt_total: float | None = None
    load_samples: int = 0
    load_cpu: float = 0.0
    load_io: float = 0.0
    load_lock: float = 0.0
    load_lwlock: float = 0.0
    load_ipc: float = 0.0
    load_client: float = 0.0
    load_other: float = 0.0
    cpus: int | None = None
    stmt_seconds: float = 0.0
    stmt_at: int | None = None
    last_us: int | None = None

    def row(self) -> tuple[object, ...]:
        """The stored columns, in :data:`SERIES` order."""
        return tuple(getattr(self, name) for name in SERIES)

    @classmethod
    def of(cls, t: int, values: Sequence[object]) -> Bucket:
        """A bucket read back from the store (columns in :data:`SERIES` order, or the first
        of them: an older store's)."""
        return cls(int(t), *values)  # type: ignore[arg-type]  # the fields after t: SERIES

    @property
    def load_sums(self) -> tuple[float, ...]:
        """The sums of :data:`LOAD_COLUMNS`, in their order."""
        return tuple(getattr(self, name) for name in LOAD_COLUMNS)

    @property
    def load(self) -> tuple[float, ...] | None:
        """Average active sessions per class of :data:`SHOWN_CLASSES` over the minute's
        samples (None: no sample had a profile)."""
        n = self.load_samples
        return tuple(v / n for v in self.load_sums) if n else None

    @property
    def busy(self) -> float | None:
        """Statement time per second over the span the minute's readings cover: how many
        sessions were busy running statements on average (None: no span known)."""
        return self.statement_ms / 1000 / self.stmt_seconds if self.stmt_seconds > 0 else None


def refreshes(query: str) -> bool:
    """Whether a session's statement refreshes a materialized view (or a chain of them).

    >>> refreshes(" REFRESH MATERIALIZED VIEW CONCURRENTLY v"), refreshes("select 1")
    (True, False)
    >>> refreshes("CALL pgcrisis.refresh_chain(ARRAY['public.a'], 1, '09:00', 1, 1)")
    True
    """
    text = query.lstrip().lower()
    return text.startswith("refresh materialized view") or "refresh_chain" in text


def reading(snapshot: Snapshot, read: Collection[Part] | None = None) -> Reading:
    """A sample's :class:`Reading` (with ``read``, only the parts read in it count: a counter
    not read reads ``None``). Counted sessions count by their state like rows."""
    active = idle = idle_tx = waiting = refreshing = 0
    for b in snapshot.all_sessions():
        if not b.is_client:
            continue
        if b.state == "active":
            n = b.sessions
            active += n
            waiting += n * (b.wait_event_type == "Lock")
            refreshing += isinstance(b, Backend) and refreshes(b.query)  # groups: no query
        elif b.state == "idle":
            idle += b.sessions
        elif b.state is not None and b.state.startswith("idle in transaction"):
            idle_tx += b.sessions
    transactions = snapshot.transactions if read is None or ACTIVITY in read else None
    statements = snapshot.statements if read is None or STATEMENTS in read else None
    cron = snapshot.cron if read is None or CRON in read else None
    xacts = transactions.total if transactions is not None else None
    stmt = None
    if statements is not None and (statements.rows or statements.db_total_exec_ms):
        stmt = statements.db_total_exec_ms
    runs = sum(r.runs for r in cron.runs) if cron is not None and cron.jobs else None
    profile = snapshot.load if read is None or LOAD in read else None
    if profile is None or not profile.samples:
        return Reading(active, idle, idle_tx, waiting, refreshing, xacts, runs, stmt)
    return Reading(active, idle, idle_tx, waiting, refreshing, xacts, runs, stmt,
                   profile.shown(), profile.cpus.cpus)


def _grow(total: float | None, now: float | None) -> float:
    """A counter's growth (a counter that went down was reset: no negative work)."""
    if total is None or now is None or now < total:
        return 0
    return now - total


def fold(bucket: Bucket | None, t_us: int, r: Reading, step_us: int = MINUTE_US) -> Bucket:
    """``bucket`` with the sample at ``t_us`` folded in; a new bucket when the sample starts a
    new minute (the counters' last readings carry over).

    >>> b = fold(None, 0, Reading(2, 1, 0, 0, 0, 100, None, 500.0, (1.5, 0.5, 0, 0, 0, 0, 0), 2))
    >>> b = fold(b, 30_000_000, Reading(1, 3, 0, 1, 0, 160, None, 2_000.0))
    >>> (b.samples, b.active, b.idle, b.waiting, b.xacts, b.seconds, b.load, b.cpus)
    (2, 2, 3, 1, 60, 30.0, (1.5, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0), 2)
    >>> (b.statement_ms, b.stmt_seconds, b.busy)  # 1.5 s of statements in 30 s
    (1500.0, 30.0, 0.05)
    >>> fold(b, 61_000_000, Reading(0, 0, 0, 0, 0, 10, None, None)).xacts  # a reset
    0
    """
    minute = t_us - t_us % step_us
    if bucket is None:
        bucket = Bucket(minute)
    elif bucket.t != minute:
        bucket = Bucket(minute, xact_total=bucket.xact_total, runs_total=bucket.runs_total,
                        stmt_total=bucket.stmt_total, stmt_at=bucket.stmt_at,
                        last_us=bucket.last_us)
    span = 0.0
    if r.xacts is not None and bucket.xact_total is not None and bucket.last_us is not None:
        span = (t_us - bucket.last_us) / 1e6
    stmt_span = 0.0
    if (r.statement_ms is not None and bucket.stmt_total is not None
            and bucket.stmt_at is not None and r.statement_ms >= bucket.stmt_total):
        stmt_span = (t_us - bucket.stmt_at) / 1e6
    sums = bucket.load_sums if r.load is None else tuple(
        a + b for a, b in zip(bucket.load_sums, r.load, strict=True))
    return Bucket(
        minute, bucket.samples + 1, max(bucket.active, r.active), max(bucket.idle, r.idle),
        max(bucket.idle_tx, r.idle_tx), max(bucket.waiting, r.waiting),
        max(bucket.refreshing, r.refreshing),
        xacts=bucket.xacts + int(_grow(bucket.xact_total, r.xacts)),
        job_runs=bucket.job_runs + int(_grow(bucket.runs_total, r.runs)),
        statement_ms=bucket.statement_ms + _grow(bucket.stmt_total, r.statement_ms),
        seconds=bucket.seconds + span,
        xact_total=r.xacts if r.xacts is not None else bucket.xact_total,
        runs_total=r.runs if r.runs is not None else bucket.runs_total,
        stmt_total=r.statement_ms if r.statement_ms is not None else bucket.stmt_total,
        load_samples=bucket.load_samples + (r.load is not None),
        load_cpu=sums[0], load_io=sums[1], load_lock=sums[2], load_lwlock=sums[3],
        load_ipc=sums[4], load_client=sums[5], load_other=sums[6],
        cpus=r.cpus if r.cpus is not None else bucket.cpus,
        stmt_seconds=bucket.stmt_seconds + stmt_span,
        stmt_at=t_us if r.statement_ms is not None else bucket.stmt_at,
        last_us=t_us if r.xacts is not None else bucket.last_us)


def buckets_of(snapshots: Iterable[Snapshot], step_us: int = MINUTE_US) -> list[Bucket]:
    """The series of ``snapshots`` (for a store written before the series was stored, or a
    range of a few minutes, drawn a bucket a second)."""
    from pgcrisis.store._db import to_us

    out: list[Bucket] = []
    bucket: Bucket | None = None
    before: Statements | None = None
    for s in snapshots:
        # a moment read back holds the statements of the last minute's reading: they were
        # read again where they changed (the span of their time starts at the reading before)
        read = _ALL if s.statements != before else _ALL_BUT_STATEMENTS
        before = s.statements
        bucket = fold(bucket, to_us(s.server_time or s.taken_at), reading(s, read), step_us)
        if out and out[-1].t == bucket.t:
            out[-1] = bucket
        else:
            out.append(bucket)
    return out
