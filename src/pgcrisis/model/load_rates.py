"""Server-wide counters at one moment, and the rates two readings give.

:class:`ServerCounters` is one reading of the cumulative counters that cost almost nothing to
read (``pg_stat_database`` summed over the databases, ``pg_stat_wal`` 14+, the checkpoint
counters of ``pg_stat_bgwriter`` or, from 17, ``pg_stat_checkpointer``, and the buffers
backends wrote and fsynced themselves: ``pg_stat_bgwriter`` up to 16, ``pg_stat_io`` from
16), and the WAL position (``pg_current_wal_lsn()``, which moves while a statement runs,
where ``pg_stat_wal`` counts a statement's WAL only once its session goes idle). A field is
None where the server has no such counter. :class:`ServerRates` is what two readings give:
each counter's rate over the window, beside its *usual* level (the counter since its last
reset divided by the time since; where no reset time is known, since the server started:
the counters may count from before, so the usual level is then never below the true one and
a storm is never made to look bigger), and whether the window is to be trusted (a restart or
a reset in between makes every difference meaningless: the rates are then None, and
``broken`` says why).
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True, slots=True)
class ServerCounters:
    """One reading of the server-wide counters (``at`` and the ``*_reset_at`` are the
    server's clock, seconds since the epoch; ``started_at`` is the postmaster's start)."""

    at: float
    started_at: float
    commits: int
    rollbacks: int
    blks_read: int
    blks_hit: int
    rows_returned: int
    rows_fetched: int
    rows_inserted: int
    rows_updated: int
    rows_deleted: int
    temp_bytes: int
    db_reset_at: float | None = None
    wal_bytes: int | None = None
    wal_reset_at: float | None = None
    checkpoints_timed: int | None = None
    checkpoints_requested: int | None = None
    checkpoints_reset_at: float | None = None
    buffers_backend: int | None = None
    buffers_backend_fsync: int | None = None
    bgwriter_reset_at: float | None = None
    backend_writes: int | None = None
    backend_fsyncs: int | None = None
    io_reset_at: float | None = None
    #: bytes of WAL since the cluster's first (``pg_current_wal_lsn() - '0/0'``); None on a
    #: standby, which writes none of its own
    wal_lsn: int | None = None


@dataclass(frozen=True, slots=True)
class Rate:
    """A counter's rate per second over the window, and its usual level: the counter over
    ``usual_over_s`` seconds (since its reset, else since the server started; None where the
    counter has no usual level, as the WAL position)."""

    per_s: float
    usual_per_s: float | None = None
    usual_over_s: float | None = None

    @property
    def times_usual(self) -> float | None:
        """How many times its usual level (None when that is unknown or zero)."""
        if not self.usual_per_s:
            return None
        return self.per_s / self.usual_per_s


#: which reset time each counter counts from
_RESET = {
    **dict.fromkeys(("commits", "rollbacks", "blks_read", "blks_hit", "rows_returned",
                     "rows_fetched", "rows_inserted", "rows_updated", "rows_deleted",
                     "temp_bytes"), "db_reset_at"),
    "wal_bytes": "wal_reset_at",
    "checkpoints_timed": "checkpoints_reset_at",
    "checkpoints_requested": "checkpoints_reset_at",
    "buffers_backend": "bgwriter_reset_at",
    "buffers_backend_fsync": "bgwriter_reset_at",
    "backend_writes": "io_reset_at",
    "backend_fsyncs": "io_reset_at",
    "wal_lsn": "",  # never reset: a rate, no usual level
}
#: the counters, in the order :class:`ServerRates` lists them
COUNTERS = tuple(_RESET)


@dataclass(frozen=True, slots=True)
class ServerRates:
    """Every counter's :class:`Rate` between two readings (None where the server has no
    such counter, or the window cannot be trusted: ``broken`` says why)."""

    seconds: float
    broken: str | None = None
    commits: Rate | None = None
    rollbacks: Rate | None = None
    blks_read: Rate | None = None
    blks_hit: Rate | None = None
    rows_returned: Rate | None = None
    rows_fetched: Rate | None = None
    rows_inserted: Rate | None = None
    rows_updated: Rate | None = None
    rows_deleted: Rate | None = None
    temp_bytes: Rate | None = None
    wal_bytes: Rate | None = None
    checkpoints_timed: Rate | None = None
    checkpoints_requested: Rate | None = None
    buffers_backend: Rate | None = None
    buffers_backend_fsync: Rate | None = None
    backend_writes: Rate | None = None
    backend_fsyncs: Rate | None = None
    wal_lsn: Rate | None = None

    @classmethod
    def between(cls, start: ServerCounters, end: ServerCounters) -> ServerRates:
        """The rates from ``start`` to ``end``.

        >>> a = ServerCounters(100.0, 0.0, 10, 0, 5, 95, 0, 0, 0, 0, 0, 0, db_reset_at=0.0)
        >>> b = ServerCounters(102.0, 0.0, 30, 0, 15, 185, 0, 0, 0, 0, 0, 0, db_reset_at=0.0)
        >>> r = ServerRates.between(a, b)
        >>> r.commits, r.hit_ratio
        (Rate(per_s=10.0, usual_per_s=0.29411764705882354, usual_over_s=102.0), 0.9)
        >>> from dataclasses import replace
        >>> never = {"db_reset_at": None}  # no reset time known: usual since the server started
        >>> ServerRates.between(replace(a, **never), replace(b, **never)).commits.usual_over_s
        102.0
        >>> ServerRates.between(a, replace(b, db_reset_at=101.0)).broken
        'the commits counters were reset during the window'
        """
        seconds = end.at - start.at
        if seconds <= 0:
            return cls(0.0, "the two readings are not in order")
        if end.started_at != start.started_at:
            return cls(seconds, "the server restarted during the window")
        rates: dict[str, Rate | None] = {}
        for name, reset in _RESET.items():
            a, b = getattr(start, name), getattr(end, name)
            if a is None or b is None:
                rates[name] = None
                continue
            if (reset and getattr(start, reset) != getattr(end, reset)) or b < a:
                return cls(seconds, f"the {name.replace('_', ' ')} counters were reset "
                                    "during the window")
            if not reset:
                rates[name] = Rate((b - a) / seconds)
                continue
            since = getattr(end, reset)
            span = end.at - (since if since is not None else end.started_at)
            rates[name] = (Rate((b - a) / seconds, b / span, span) if span > 0
                           else Rate((b - a) / seconds))
        return cls(seconds, None, **rates)

    @property
    def hit_ratio(self) -> float | None:
        """Blocks found in shared buffers as a share of those asked for, over the window
        (None without reads)."""
        if self.blks_read is None or self.blks_hit is None:
            return None
        total = self.blks_read.per_s + self.blks_hit.per_s
        return self.blks_hit.per_s / total if total > 0 else None

    def known(self) -> dict[str, Rate]:
        """The rates the server has, by counter name."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name in _RESET and getattr(self, f.name) is not None}
