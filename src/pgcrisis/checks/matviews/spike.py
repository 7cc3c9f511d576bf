"""refresh-spike: many refreshes scheduled into the same window, against the lower bound a
spread schedule reaches."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from pgcrisis.actions import RescheduleJob
from pgcrisis.checks.jobs import job_of, job_ref
from pgcrisis.checks.registry import check
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.model.cron_schedule import MINUTES_PER_DAY, SECONDS_PER_DAY, daily_at, hh_mm
from pgcrisis.model.findings import Finding, Remedy, Severity
from pgcrisis.model.jobs import CronJob
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.shorten import listed

#: duration assumed for a refresh job with no finished run on record
REFRESH_DEFAULT_DURATION_S = 60.0
#: the span refreshes can be spread over (schedules repeat daily)
REFRESH_SPREAD_WINDOW_S = SECONDS_PER_DAY
#: the remedy's night window spread schedules go into (minutes after midnight)
NIGHT_WINDOW = (60, 300)


@dataclass
class _Clock:
    """Refresh jobs laid on a 24-hour clock: who runs in each minute of the day."""

    busy: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    starts: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    jobs: dict[int, CronJob] = field(default_factory=dict)
    durations: dict[int, float] = field(default_factory=dict)
    runs_a_day: dict[int, int] = field(default_factory=dict)
    total_s: float = 0.0
    known: int = 0                 # jobs whose duration comes from finished runs

    def lay(self, job: CronJob, minutes: tuple[int, ...], duration: float | None) -> None:
        """``job`` starting at ``minutes`` and busy for ``duration`` (None: not known)."""
        self.known += duration is not None
        duration = REFRESH_DEFAULT_DURATION_S if duration is None else duration
        self.jobs[job.jobid] = job
        self.durations[job.jobid] = duration
        self.runs_a_day[job.jobid] = len(minutes)
        self.total_s += duration * len(minutes)
        span = max(1, math.ceil(duration / 60))
        for start in minutes:
            self.starts[start].add(job.jobid)
            for k in range(min(span, MINUTES_PER_DAY)):
                self.busy[(start + k) % MINUTES_PER_DAY].add(job.jobid)


def _clock(snapshot: Snapshot) -> _Clock:
    clock = _Clock()
    for job in snapshot.cron.jobs:
        schedule = job.parsed_schedule()
        if not job.active or not job.refreshes or schedule is None:
            continue
        minutes = tuple(schedule.minutes_of_day)
        if not minutes:
            continue
        runs = snapshot.cron.runs_for(job.jobid)
        clock.lay(job, minutes, runs.mean_duration_s if runs else None)
    return clock


def _spread(clock: _Clock, daily: list[CronJob]) -> tuple[RescheduleJob, ...]:
    """The daily jobs moved into the night window, one after the other, each given at least
    its run time (whole minutes)."""
    first, last = NIGHT_WINDOW
    step_min = max(max(math.ceil(clock.durations[j.jobid] / 60) for j in daily) if daily else 1,
                   (last - first) // max(1, len(daily)))
    return tuple(RescheduleJob(job_of(j), daily_at(first + i * step_min), j.schedule)
                 for i, j in enumerate(daily))


@check("refresh-spike", needs=("cron",))
def refresh_spike(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """Refresh jobs scheduled into the same minutes of the day.

    Every active job with a REFRESH is laid on a 24-hour clock: it starts at each minute its
    schedule names and stays busy for its mean run time (from ``cron.job_run_details``; else
    ``REFRESH_DEFAULT_DURATION_S``), at least the minute it started in. The peak is the most
    jobs busy in one minute, taking every job as running on the same day (the worst day).
    A spread schedule needs only ceil(refresh seconds per day / ``REFRESH_SPREAD_WINDOW_S``)
    at a time. Warning when the peak reaches ``refresh_spike_min`` and beats that bound.
    """
    clock = _clock(snapshot)
    if not clock.busy:
        return
    peak_minute = min(clock.busy, key=lambda m: (-len(clock.busy[m]), m))
    peak_ids = sorted(clock.busy[peak_minute])
    peak = len(peak_ids)
    lower = max(1, math.ceil(clock.total_s / REFRESH_SPREAD_WINDOW_S))
    if peak < t.refresh_spike_min or peak <= lower:
        return
    at = hh_mm(peak_minute)
    peak_jobs = [clock.jobs[i] for i in peak_ids]
    matviews = list(dict.fromkeys(s.target or "?" for j in peak_jobs for s in j.refreshes))
    together = len(clock.starts.get(peak_minute, ()))
    daily = [j for j in peak_jobs if clock.runs_a_day[j.jobid] == 1]
    night = "-".join(hh_mm(minute) for minute in NIGHT_WINDOW)
    unknown = len(clock.jobs) - clock.known
    yield Finding(
        code="refresh-spike",
        severity=Severity.WARNING,
        title=(f"{peak} refresh jobs run together at {at} ({len(matviews)} materialized views); "
               f"a spread schedule needs {lower} at a time"),
        detail=(f"At {at}, {peak} pg_cron jobs refresh {listed(matviews)} at the same time "
                f"({together} start in that very minute). Together they take about "
                f"{clock.total_s:,.0f} s a day, which spread over 24 h needs {lower} refresh at "
                f"a time: the spike loads the server and locks readers out all at once"
                + (f" ({unknown} job(s) without finished runs counted as "
                   f"{REFRESH_DEFAULT_DURATION_S:.0f} s)" if unknown else "") + "."),
        objects=tuple(job_ref(j) for j in peak_jobs),
        evidence={
            "peak": peak,
            "peak_at": at,
            "starting_together": together,
            "lower_bound": lower,
            "window_s": REFRESH_SPREAD_WINDOW_S,
            "refresh_s_per_day": round(clock.total_s, 1),
            "jobs": peak_ids,
            "matviews": matviews,
            "durations_known": clock.known,
        },
        remedy=Remedy(
            summary=(f"Spread the daily refreshes over the night ({night}), views others are "
                     "built on first"
                     + ("; move the other jobs by hand" if len(daily) < peak else "")
                     + f". `pgcrisis cache plan --window {night} --apply` installs a "
                     "dependency-aware plan at the lower bound instead."),
            actions=_spread(clock, daily),
        ),
        impact=float(peak - lower),
    )
