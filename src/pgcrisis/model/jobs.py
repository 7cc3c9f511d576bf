"""pg_cron jobs, what their commands do, and what their recent runs say.

Filled by the cron probe (``collect/probe_cron.py``); read by the job-*, refresh-spike and
scheduled matview-blocking-refresh checks. A job's command is parsed once, at collection,
into :class:`JobStatement` s, so checks never parse SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from pgcrisis import shorten
from pgcrisis.model.cron_schedule import CronSchedule

#: statement kinds a job command is split into
REFRESH = "refresh"
DELETE = "delete"
OTHER = "other"


@dataclass(frozen=True, slots=True)
class JobStatement:
    """One statement of a job's command.

    ``target`` is the matview a REFRESH refreshes or the table a DELETE deletes from:
    schema-qualified (``quote_ident`` style) when it could be resolved in this database,
    else as written in the command.
    """

    kind: str                 # REFRESH, DELETE or OTHER
    text: str                 # the statement as written, without the closing semicolon
    target: str | None = None
    concurrently: bool = False
    resolved: bool = False    # target found in this database


@dataclass(frozen=True, slots=True)
class CronJob:
    """One row of ``cron.job`` with its command split into statements."""

    jobid: int
    jobname: str | None
    schedule: str
    command: str
    database: str
    username: str
    active: bool
    statements: tuple[JobStatement, ...] = ()
    parse_error: str | None = None  # the command did not parse: no statements known

    @property
    def label(self) -> str:
        """What to call the job: its name, else the start of its command."""
        if self.jobname:
            return self.jobname
        return shorten.one_line(self.command, 60, mark="...")

    @property
    def refreshes(self) -> tuple[JobStatement, ...]:
        """Its REFRESH MATERIALIZED VIEW statements, in order."""
        return tuple(s for s in self.statements if s.kind == REFRESH)

    @property
    def deletes(self) -> tuple[JobStatement, ...]:
        """Its DELETE statements, in order."""
        return tuple(s for s in self.statements if s.kind == DELETE)

    def parsed_schedule(self) -> CronSchedule | None:
        """The schedule, or ``None`` when it is not one this version understands."""
        try:
            return CronSchedule.parse(self.schedule)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class JobRuns:
    """What one job's recent runs (the newest ``Cron.history_limit``) say.

    Rows counts come from the command tags pg_cron stores as ``return_message``
    (``DELETE 12``, ``UPDATE 0``, ``INSERT 0 5``); ``None`` when no run reported one.
    Durations are of finished runs; intervals are between consecutive starts.
    """

    jobid: int
    runs: int
    succeeded: int
    failed: int
    running: int
    zero_row_runs: int                  # succeeded runs whose command tag says 0 rows
    rows_affected: int | None           # rows reported by DML tags, summed
    delete_runs: int                    # succeeded runs that ended with a DELETE tag
    deleted_rows: int | None            # rows those DELETE tags report, summed
    consecutive_failures: int           # failed runs newer than the newest success
    last_status: str | None
    last_error: str | None              # return_message of the newest failed run
    last_start_age_s: float | None
    first_start_age_s: float | None     # age of the oldest run considered
    mean_duration_s: float | None
    max_duration_s: float | None
    mean_interval_s: float | None
    overlaps: int                       # runs that started before the previous one ended

    @property
    def zero_row_share(self) -> float:
        """Share of the recent runs that changed nothing."""
        return self.zero_row_runs / self.runs if self.runs else 0.0


@dataclass(frozen=True, slots=True)
class JobTarget:
    """A table a job's DELETE targets, with its ``pg_stat_user_tables`` counters."""

    name: str
    relpages: int
    n_live_tup: int
    n_dead_tup: int
    n_tup_ins: int
    n_tup_del: int
    seq_scan: int
    seq_tup_read: int


@dataclass(frozen=True, slots=True)
class Cron:
    """The pg_cron part of a snapshot: jobs, their recent runs, and their DELETE targets."""

    jobs: tuple[CronJob, ...] = ()
    runs: tuple[JobRuns, ...] = ()
    targets: tuple[JobTarget, ...] = ()
    history_limit: int = 50

    def runs_for(self, jobid: int) -> JobRuns | None:
        """The run summary of ``jobid``, if it has run."""
        for r in self.runs:
            if r.jobid == jobid:
                return r
        return None

    def target(self, name: str | None) -> JobTarget | None:
        """The DELETE target called ``name`` (schema-qualified), if it was read."""
        for t in self.targets:
            if t.name == name:
                return t
        return None
