"""pg_cron jobs and what their recent runs say.

Owned by the cron probe (job-*, refresh-spike, scheduled matview-blocking-refresh checks).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CronJob:
    """One row of cron.job."""

    jobid: int
    jobname: str | None
    schedule: str
    command: str
    database: str
    username: str
    active: bool


@dataclass(frozen=True, slots=True)
class Cron:
    """The pg_cron part of a snapshot."""

    jobs: tuple[CronJob, ...] = ()
