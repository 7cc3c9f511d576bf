"""Actions on pg_cron jobs, all through ``cron.alter_job``: pause, resume, reschedule, change
the command, and turn a job's refreshes into concurrent ones."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

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


class _SetActive(Action):
    """Jobs made active or not (``ACTIVE``; undo: the other way); ``VERB`` words it. Alike
    ones merge: pausing thirteen jobs is one decision with one undo."""

    __slots__ = ()

    jobs: tuple[Job, ...]
    ACTIVE: ClassVar[bool] = False
    VERB: ClassVar[str] = ""
    MERGE = True

    @property
    def statements(self) -> tuple[Statement, ...]:
        return tuple(_active(j.jobid, self.ACTIVE) for j in self.jobs)

    @property
    def undo(self) -> tuple[Statement, ...]:
        return tuple(_active(j.jobid, not self.ACTIVE) for j in self.jobs)

    @property
    def title(self) -> str:
        if len(self.jobs) == 1:
            return f"{self.VERB} the pg_cron job {self.jobs[0].label}"
        return f"{self.VERB} {len(self.jobs)} pg_cron jobs: {listed([j.label for j in self.jobs])}"

    @property
    def ident(self) -> str:
        return (f"{self.VERB}-job-{self.jobs[0].jobid}" if len(self.jobs) == 1
                else f"{self.VERB}-{len(self.jobs)}-jobs")

    def _merged(self, other: Action) -> Action:
        assert isinstance(other, _SetActive)
        known = {j.jobid for j in self.jobs}
        more = tuple(j for j in other.jobs if j.jobid not in known)
        # every subclass is a dataclass whose field is ``jobs``
        return replace(self, jobs=self.jobs + more)  # type: ignore[call-arg]


@dataclass(frozen=True, slots=True)
class PauseJobs(_SetActive):
    """Stop pg_cron jobs from running (undo: resume them)."""

    jobs: tuple[Job, ...]

    KIND = "pause-job"
    VERB = "pause"

    @property
    def risk(self) -> str:
        return "the job stops running until resumed (a run in progress goes on)" if len(
            self.jobs) == 1 else ("the jobs stop running until resumed (runs in progress go "
                                  "on)")


@dataclass(frozen=True, slots=True)
class ResumeJobs(_SetActive):
    """Let paused pg_cron jobs run again (undo: pause them)."""

    jobs: tuple[Job, ...]

    KIND = "resume-job"
    VERB = "resume"
    ACTIVE = True

    @property
    def risk(self) -> str:
        return "the job runs again at its next scheduled time" if len(self.jobs) == 1 else (
            "the jobs run again at their next scheduled times")


def _alter(jobid: int, field: str, value: str) -> Statement:
    return Statement("SELECT cron.alter_job({}, " + field + " := {})",
                     (number(jobid), Literal(value)))


class _AlterJob(Action):
    """One of a pg_cron job's ``FIELD`` given a new value (undo: its ``previous`` one)."""

    __slots__ = ()

    job: Job
    previous: str
    FIELD: ClassVar[str] = ""

    @property
    def value(self) -> str:
        raise NotImplementedError

    @property
    def statements(self) -> tuple[Statement, ...]:
        return (_alter(self.job.jobid, self.FIELD, self.value),)

    @property
    def undo(self) -> tuple[Statement, ...]:
        return (_alter(self.job.jobid, self.FIELD, self.previous),)

    @property
    def ident(self) -> str:
        return f"{self.KIND}-{self.job.jobid}"


@dataclass(frozen=True, slots=True)
class RescheduleJob(_AlterJob):
    """Give a pg_cron job a new ``schedule`` (undo: its ``previous`` one)."""

    job: Job
    schedule: str
    previous: str

    KIND = "reschedule-job"
    FIELD = "schedule"

    @property
    def value(self) -> str:
        return self.schedule

    @property
    def title(self) -> str:
        return f"run the pg_cron job {self.job.label} at {self.schedule!r}"

    @property
    def risk(self) -> str:
        return "the job's work waits for its new time (whatever it cleans or refreshes, later)"


@dataclass(frozen=True, slots=True)
class SetJobCommand(_AlterJob):
    """Give a pg_cron job a new ``command`` (undo: its ``previous`` one)."""

    job: Job
    command: str
    previous: str

    KIND = "job-command"
    FIELD = "command"

    @property
    def value(self) -> str:
        return self.command

    @property
    def title(self) -> str:
        return f"change the command of the pg_cron job {self.job.label}"

    @property
    def risk(self) -> str:
        return "the job runs the new command from its next run"


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
