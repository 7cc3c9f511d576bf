"""Actions on pg_cron jobs, all through ``cron.alter_job``: pause, resume, reschedule, change
the command, and turn a job's refreshes into concurrent ones."""

from __future__ import annotations

from dataclasses import dataclass

from pgcrisis.actions.base import Action
from pgcrisis.actions.statement import Literal, Statement, number
from pgcrisis.shorten import listed


@dataclass(frozen=True, slots=True)
class Job:
    """A pg_cron job as an action names it: its id and its name (or command)."""

    jobid: int
    name: str = ""

    @property
    def label(self) -> str:
        return self.name or str(self.jobid)


def _active(jobid: int, active: bool) -> Statement:
    return Statement("SELECT cron.alter_job({}, active := " + ("true" if active else "false")
                     + ")", (number(jobid),))


def _jobs(jobs: tuple[Job, ...], more: tuple[Job, ...]) -> tuple[Job, ...]:
    known = {j.jobid for j in jobs}
    return jobs + tuple(j for j in more if j.jobid not in known)


@dataclass(frozen=True, slots=True)
class PauseJobs(Action):
    """Stop pg_cron jobs from running (undo: resume them). Alike pauses merge: pausing
    thirteen jobs is one decision with one undo."""

    jobs: tuple[Job, ...]

    KIND = "pause-job"
    MERGE = True

    @property
    def statements(self) -> tuple[Statement, ...]:
        return tuple(_active(j.jobid, False) for j in self.jobs)

    @property
    def undo(self) -> tuple[Statement, ...]:
        return tuple(_active(j.jobid, True) for j in self.jobs)

    @property
    def title(self) -> str:
        if len(self.jobs) == 1:
            return f"pause the pg_cron job {self.jobs[0].label}"
        return f"pause {len(self.jobs)} pg_cron jobs: {listed([j.label for j in self.jobs])}"

    @property
    def risk(self) -> str:
        return "the job stops running until resumed (a run in progress goes on)" if len(
            self.jobs) == 1 else ("the jobs stop running until resumed (runs in progress go "
                                  "on)")

    @property
    def ident(self) -> str:
        return (f"pause-job-{self.jobs[0].jobid}" if len(self.jobs) == 1
                else f"pause-{len(self.jobs)}-jobs")

    def _merged(self, other: Action) -> Action:
        assert isinstance(other, PauseJobs)
        return PauseJobs(_jobs(self.jobs, other.jobs), database=self.database)


@dataclass(frozen=True, slots=True)
class ResumeJobs(Action):
    """Let paused pg_cron jobs run again (undo: pause them)."""

    jobs: tuple[Job, ...]

    KIND = "resume-job"
    MERGE = True

    @property
    def statements(self) -> tuple[Statement, ...]:
        return tuple(_active(j.jobid, True) for j in self.jobs)

    @property
    def undo(self) -> tuple[Statement, ...]:
        return tuple(_active(j.jobid, False) for j in self.jobs)

    @property
    def title(self) -> str:
        if len(self.jobs) == 1:
            return f"resume the pg_cron job {self.jobs[0].label}"
        return f"resume {len(self.jobs)} pg_cron jobs: {listed([j.label for j in self.jobs])}"

    @property
    def risk(self) -> str:
        return "the job runs again at its next scheduled time" if len(self.jobs) == 1 else (
            "the jobs run again at their next scheduled times")

    @property
    def ident(self) -> str:
        return (f"resume-job-{self.jobs[0].jobid}" if len(self.jobs) == 1
                else f"resume-{len(self.jobs)}-jobs")

    def _merged(self, other: Action) -> Action:
        assert isinstance(other, ResumeJobs)
        return ResumeJobs(_jobs(self.jobs, other.jobs), database=self.database)


def _alter(jobid: int, field: str, value: str) -> Statement:
    return Statement("SELECT cron.alter_job({}, " + field + " := {})",
                     (number(jobid), Literal(value)))


@dataclass(frozen=True, slots=True)
class RescheduleJob(Action):
    """Give a pg_cron job a new ``schedule`` (undo: its ``previous`` one)."""

    job: Job
    schedule: str
    previous: str

    KIND = "reschedule-job"

    @property
    def statements(self) -> tuple[Statement, ...]:
        return (_alter(self.job.jobid, "schedule", self.schedule),)

    @property
    def undo(self) -> tuple[Statement, ...]:
        return (_alter(self.job.jobid, "schedule", self.previous),)

    @property
    def title(self) -> str:
        return f"run the pg_cron job {self.job.label} at {self.schedule!r}"

    @property
    def risk(self) -> str:
        return "the job's work waits for its new time (whatever it cleans or refreshes, later)"

    @property
    def ident(self) -> str:
        return f"reschedule-job-{self.job.jobid}"


@dataclass(frozen=True, slots=True)
class SetJobCommand(Action):
    """Give a pg_cron job a new ``command`` (undo: its ``previous`` one)."""

    job: Job
    command: str
    previous: str

    KIND = "job-command"

    @property
    def statements(self) -> tuple[Statement, ...]:
        return (_alter(self.job.jobid, "command", self.command),)

    @property
    def undo(self) -> tuple[Statement, ...]:
        return (_alter(self.job.jobid, "command", self.previous),)

    @property
    def title(self) -> str:
        return f"change the command of the pg_cron job {self.job.label}"

    @property
    def risk(self) -> str:
        return "the job runs the new command from its next run"

    @property
    def ident(self) -> str:
        return f"job-command-{self.job.jobid}"


@dataclass(frozen=True, slots=True)
class RefreshConcurrentlyInJobs(Action):
    """Make pg_cron jobs refresh their materialized views CONCURRENTLY: ``steps`` are each
    job's (the unique index a view lacks, created CONCURRENTLY; a first plain refresh of an
    unpopulated one; then the job's new command), each statement once. Undo: the jobs' old
    commands back (an index created stays: it harms nothing). Alike ones merge."""

    steps: tuple[Action, ...]

    KIND = "concurrent-refresh"
    MERGE = True

    @property
    def jobs(self) -> tuple[Job, ...]:
        return tuple(s.job for s in self.steps if isinstance(s, SetJobCommand))

    @property
    def statements(self) -> tuple[Statement, ...]:
        return tuple(dict.fromkeys(s for step in self.steps for s in step.statements))

    @property
    def undo(self) -> tuple[Statement, ...]:
        return tuple(s for step in self.steps for s in step.undo)

    @property
    def title(self) -> str:
        return f"refresh CONCURRENTLY in job(s) {', '.join(j.label for j in self.jobs)}"

    @property
    def risk(self) -> str:
        return ("a concurrent refresh takes longer and needs a unique index (created "
                "CONCURRENTLY first where missing), but readers are never locked out")

    @property
    def ident(self) -> str:
        jobs = self.jobs
        return (f"concurrent-refresh-job-{jobs[0].jobid}" if len(jobs) == 1
                else f"concurrent-refresh-{len(jobs)}-jobs")

    def _merged(self, other: Action) -> Action:
        assert isinstance(other, RefreshConcurrentlyInJobs)
        return RefreshConcurrentlyInJobs(
            self.steps + tuple(s for s in other.steps if s not in self.steps),
            database=self.database)
