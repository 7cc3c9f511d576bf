"""Refresh plans in time: daily windows, the current pg_cron schedule, and a plan's lanes as
pg_cron jobs. Pure: the statements are built here and run by :mod:`pgcrisis.cache.apply.cron`.

pg_cron is the scheduler of record. Each lane of the plan becomes one daily job
(:func:`lane_job_name`: ``pgcrisis-cache-lane-N``) that ``CALL``s
``pgcrisis.refresh_chain``: the lane's views one after another, each in its own
transaction, each waiting for its bases in other lanes to finish in this cycle (not for a
clock time). Jobs that refreshed only planned views before are deactivated
(``cron.alter_job(..., active := false)``: reversible), never deleted.

Where pg_cron is not installed, ``cache run`` executes the same plan itself: at the window's
start each day, the views by plan priority, bases first, at most ``lanes`` at once.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from psycopg import sql

from pgcrisis.actions import Job, PauseJobs
from pgcrisis.cache.model import job_views
from pgcrisis.cache.planner import Schedule, observed, plan_schedule
from pgcrisis.errors import ConfigError
from pgcrisis.model.cron_schedule import MINUTES_PER_DAY, daily_at, hh_mm
from pgcrisis.model.jobs import CronJob

if TYPE_CHECKING:
    from pgcrisis.cache.catalog import CacheCatalog

#: what the name of every job a plan installs starts with (the one place it is spelled)
LANE_PREFIX = "pgcrisis-cache-lane-"


def lane_job_name(lane: int) -> str:
    """The pg_cron job name of a plan's ``lane`` (counted from 1, as shown).

    >>> lane_job_name(2)
    'pgcrisis-cache-lane-2'
    """
    return f"{LANE_PREFIX}{lane}"


def is_lane_job(jobname: str | None) -> bool:
    """Whether a pg_cron job is a lane an earlier plan installed."""
    return (jobname or "").startswith(LANE_PREFIX)


class LaneJob(NamedTuple):
    """One lane of a plan as a pg_cron job: its name, cron schedule and command."""

    name: str
    schedule: str
    command: str


@dataclass(frozen=True, slots=True)
class Window:
    """A daily window, minutes after midnight; it may run past midnight."""

    start_min: int
    end_min: int

    @classmethod
    def parse(cls, text: str) -> Window:
        """``01:00-05:00`` (or ``23:00-02:00``).

        >>> Window.parse("01:00-05:30").seconds
        16200.0
        """
        try:
            a, b = text.split("-")
            start = _minutes(a)
            end = _minutes(b)
        except ValueError:
            raise ConfigError(f"a window is HH:MM-HH:MM, not {text!r}") from None
        if start == end:
            raise ConfigError("the window is empty")
        return cls(start, end)

    @property
    def seconds(self) -> float:
        return 60.0 * ((self.end_min - self.start_min) % MINUTES_PER_DAY)

    @property
    def label(self) -> str:
        return f"{hh_mm(self.start_min)}-{hh_mm(self.end_min)}"


def _minutes(text: str) -> int:
    h, m = text.strip().split(":")
    hours, minutes = int(h), int(m)
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ValueError(text)
    return hours * 60 + minutes


def plan_for(cat: CacheCatalog, window: Window, max_concurrent: int | None = None,
             seed: int = 0) -> Schedule:
    """The plan for every matview, from its p95 refresh duration (measured, else estimated)."""
    durations = {name: max(1.0, d.p95_s) for name, d in cat.durations.items()}
    return plan_schedule(durations, cat.graph.bases, window_s=window.seconds,
                         max_concurrent=max_concurrent, seed=seed)


def current_schedule(cat: CacheCatalog, jobs: Iterable[CronJob]) -> Schedule:
    """Today's pg_cron refresh jobs as a schedule over the day (for comparison).

    A job's views run one after another from each start minute (one transaction: one lock
    span). A lane of an installed plan also waits for its views' bases in other lanes,
    as ``pgcrisis.refresh_chain`` does.
    """
    starts: dict[str, float] = {}
    durations: dict[str, float] = {}

    def duration(name: str) -> float:
        return cat.durations[name].p95_s if name in cat.durations else 60.0

    def place(name: str, at: float, tag: str) -> float:
        key = name if name not in starts else f"{name}@{tag}"
        starts[key], durations[key] = at, duration(name)
        return at + durations[key]

    chains: list[tuple[float, list[str]]] = []
    for job in jobs:
        schedule = job.parsed_schedule()
        views = job_views(job)
        if not job.active or not views or schedule is None:
            continue
        for minute in schedule.minutes_of_day:
            if not job.refreshes:  # a lane: placed below, once its bases are
                chains.append((60.0 * minute, list(views)))
                continue
            at = 60.0 * minute
            for name in views:
                at = place(name, at, f"{job.jobid}:{minute}")
    in_chains = {v for _, views in chains for v in views}
    ends: dict[str, float] = {}
    cursors = [at for at, _ in chains]
    progressed = True
    while progressed:
        progressed = False
        for i, (_, left) in enumerate(chains):
            while left:
                waits = [b for b in cat.graph.bases.get(left[0], ()) if b in in_chains]
                if any(b not in ends for b in waits):
                    break
                name = left.pop(0)
                start = max([cursors[i], *(ends[b] for b in waits)])
                cursors[i] = ends[name] = place(name, start, f"lane{i}")
                progressed = True
    for i, (_, left) in enumerate(chains):  # waiting on a cycle: run when the wait ends
        for name in left:
            cursors[i] = place(name, cursors[i], f"lane{i}")
    return observed(starts, durations, cat.graph.bases, 86400.0)


def lane_commands(plan: Schedule, window: Window, *, allow_plain: bool = False,
                  ) -> list[LaneJob]:
    """One pg_cron job per lane that has views."""
    lane_of = {s.view: s.lane for s in plan.slots}
    out = []
    for lane in range(plan.lanes):
        slots = plan.lane_slots(lane)
        if not slots:
            continue
        views = [s.view for s in slots]
        waits = [",".join(b for b in s.bases if lane_of.get(b) != lane) for s in slots]
        first = window.start_min + int(slots[0].start_s // 60)
        command = sql.SQL(
            "CALL pgcrisis.refresh_chain({}, {}, {}::time, {}, {})").format(
            _array(views), _array(waits), sql.Literal(hh_mm(window.start_min)),
            sql.Literal(math.ceil(plan.window_s)), sql.Literal(allow_plain)).as_string(None)
        out.append(LaneJob(lane_job_name(lane + 1), daily_at(first), command))
    return out


def _array(items: list[str]) -> sql.Composable:
    return sql.SQL("ARRAY[{}]::text[]").format(sql.SQL(", ").join(sql.Literal(i) for i in items))


def install_statements(plan: Schedule, window: Window, jobs: Iterable[CronJob], *,
                       allow_plain: bool = False) -> list[str]:
    """Unschedule the previous plan's lanes, deactivate jobs that only refreshed planned
    views, schedule the new lanes."""
    planned = {s.view for s in plan.slots}
    out = [f"SELECT cron.unschedule({j.jobid})" for j in jobs if is_lane_job(j.jobname)]
    for job in jobs:
        if (job.active and job.refreshes and not is_lane_job(job.jobname)
                and len(job.refreshes) == len(job.statements)
                and all(s.target in planned for s in job.refreshes)):
            out.extend(PauseJobs((Job(job.jobid, job.label),)).sql)  # the catalogue's pause
    for name, schedule, command in lane_commands(plan, window, allow_plain=allow_plain):
        out.append(sql.SQL("SELECT cron.schedule({}, {}, {})").format(
            sql.Literal(name), sql.Literal(schedule), sql.Literal(command)).as_string(None))
    return out


def next_start(window: Window, now: datetime) -> datetime:
    """When the window opens next (now, if it is open and ``now`` is its first minute)."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    at = today + timedelta(minutes=window.start_min)
    return at if at >= now else at + timedelta(days=1)


def priority_order(plan: Schedule) -> tuple[str, ...]:
    """The plan's views by planned start (bases always come before their dependents)."""
    return tuple(s.view for s in sorted(plan.slots, key=lambda s: (s.start_s, s.lane)))


def sleep_until(when: datetime, stop: Callable[[], bool], now: Callable[[], datetime]) -> bool:
    """Sleep until ``when``; False when ``stop()`` became true first."""
    while not stop():
        left = (when - now()).total_seconds()
        if left <= 0:
            return True
        time.sleep(min(left, 1.0))
    return False
