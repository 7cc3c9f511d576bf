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


def _bucket(at: datetime, seconds: int) -> datetime:
    if seconds == 60:
        return at.replace(second=0, microsecond=0)
    stamp = int(at.timestamp()) // seconds * seconds
    return datetime.fromtimestamp(stamp, tz=at.tzinfo)


def _counts(snapshot: Snapshot) -> tuple[int, int, int]:
    active = waiting = refreshing = 0
    for b in snapshot.activity:
        if not b.is_client or b.state != "active":
            continue
        active += 1
        waiting += b.wait_event_type == "Lock"
        text = b.query.lstrip().lower()
        refreshing += text.startswith("refresh materialized view") or "refresh_chain" in text
    return active, waiting, refreshing


def per_minute(snapshots: Sequence[Snapshot], seconds: int = 60) -> list[Minute]:
    """One :class:`Minute` per minute (or per ``seconds``) that has samples, oldest first."""
    minutes: dict[datetime, list[Snapshot]] = {}
    for s in snapshots:
        minutes.setdefault(_bucket(s.server_time or s.taken_at, seconds), []).append(s)
    out: list[Minute] = []
    previous_runs: int | None = None
    previous_ms: float | None = None
    for start in sorted(minutes):
        group = minutes[start]
        counts = [_counts(s) for s in group]
        runs = statement_ms = 0.0
        for s in group:
            if s.statements.rows or s.statements.db_total_exec_ms:
                total = s.statements.db_total_exec_ms
                if previous_ms is not None and total >= previous_ms:
                    statement_ms += total - previous_ms
                previous_ms = total
            if s.cron.jobs:
                total_runs = sum(r.runs for r in s.cron.runs)
                if previous_runs is not None and total_runs >= previous_runs:
                    runs += total_runs - previous_runs
                previous_runs = total_runs
        out.append(Minute(start, len(group), max(c[0] for c in counts),
                          max(c[1] for c in counts), max(c[2] for c in counts), int(runs),
                          statement_ms))
    return out


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
