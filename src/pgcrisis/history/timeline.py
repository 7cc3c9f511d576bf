"""The per-minute picture of a window of a recording (pure): what a person would rather look
at than read: active sessions, lock waiters, refreshes running, job runs, statement time.

Peaks are the highest value seen in any sample of the minute (a 1 s interval sees what was
stuck, not every short wait); job runs and statement time come from the counters of the
minute's full samples (pg_cron's run counts, pg_stat_statements' execution time), deltas
between consecutive readings, a counter that went down counting as a reset (no negative
work).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pgcrisis.model.snapshot import Snapshot
from pgcrisis.store import from_us
from pgcrisis.store.series import buckets_of


@dataclass(frozen=True, slots=True)
class Minute:
    """One minute of the window."""

    start: datetime
    samples: int
    active: int
    waiting: int
    refreshing: int
    job_runs: int
    statement_ms: float


def per_minute(snapshots: Sequence[Snapshot], seconds: int = 60) -> list[Minute]:
    """One :class:`Minute` per minute (or per ``seconds``) that has samples, oldest first:
    the store's per-minute series (:func:`~pgcrisis.store.series.buckets_of`), the figures
    a person reads."""
    return [Minute(from_us(b.t), b.samples, b.active, b.waiting, b.refreshing, b.job_runs,
                   b.statement_ms)
            for b in buckets_of(snapshots, step_us=seconds * 1_000_000)]


#: the picture's rows: label, attribute, unit
ROWS = (("active sessions", "active", ""), ("lock waiters", "waiting", ""),
        ("refreshes running", "refreshing", ""), ("job runs", "job_runs", ""),
        ("statement time", "statement_ms", "ms"))

_BARS = " ▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float]) -> str:
    """One character per value, its height relative to the largest.

    >>> sparkline([0, 1, 2, 4, 8])
    ' ▁▂▄█'
    """
    top = max(values, default=0) or 1
    return "".join(_BARS[round(v / top * (len(_BARS) - 1))] for v in values)
