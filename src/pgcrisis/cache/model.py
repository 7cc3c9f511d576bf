"""What ``pgcrisis cache`` knows about each materialized view beyond the snapshot."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pgcrisis.model.jobs import CronJob

#: where a duration comes from, most trusted first
SOURCES = ("pgcrisis", "pg_cron", "pg_stat_statements", "estimate")


@dataclass(frozen=True, slots=True)
class Durations:
    """Measured refresh durations of one view (seconds).

    ``source``: ``pgcrisis`` (its own refresh log), ``pg_cron`` (runs of a job refreshing
    only this view), ``pg_stat_statements`` (p50 read as the mean, p95 as mean + 1.645 sd,
    capped at the maximum) or ``estimate`` (from its size: nothing was measured).
    """

    view: str
    p50_s: float
    p95_s: float
    runs: int
    source: str


def estimate(view: str, relpages: int) -> Durations:
    """A guess for a view never seen refreshing: one second plus 10 s per GB (8 kB pages).

    >>> estimate("a", 131072).p50_s
    11.0
    """
    seconds = 1.0 + relpages / 131072 * 10.0
    return Durations(view, seconds, seconds, 0, "estimate")


_CHAIN = re.compile(r"pgcrisis\.refresh_chain\(\s*ARRAY\[(?P<views>[^\]]*)\]", re.IGNORECASE)
_LITERAL = re.compile(r"'((?:[^']|'')*)'")


def chain_views(command: str) -> tuple[str, ...]:
    """The views a lane job's ``CALL pgcrisis.refresh_chain(...)`` refreshes, in order.

    >>> chain_views("CALL pgcrisis.refresh_chain(ARRAY['public.a', 'public.b']::text[], x)")
    ('public.a', 'public.b')
    """
    match = _CHAIN.search(command)
    if not match:
        return ()
    return tuple(m.replace("''", "'") for m in _LITERAL.findall(match["views"]))


def job_views(job: CronJob) -> tuple[str, ...]:
    """The matviews a job refreshes: its REFRESH statements, or a lane's chain."""
    return tuple(s.target or "?" for s in job.refreshes) or chain_views(job.command)
