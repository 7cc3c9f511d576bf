"""pg_cron job checks: job-too-frequent, job-failing, job-backlog.

They judge each job by its newest runs (``Cron.history_limit``, summarised by the probe) and
its schedule. Inactive jobs are left alone: they no longer run, whatever their history says.
Helpers here (``job_ref``, ``job_of``) are shared with the matview checks.
"""

from __future__ import annotations

from collections.abc import Iterable

from pgcrisis import durations, shorten
from pgcrisis.actions import Job, PauseJobs, RescheduleJob
from pgcrisis.checks.registry import check
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.model.cron_schedule import daily_at
from pgcrisis.model.evidence import TooFrequentEvidence
from pgcrisis.model.findings import Finding, ObjectRef, Remedy, Severity
from pgcrisis.model.jobs import CronJob, JobRuns
from pgcrisis.model.snapshot import Snapshot

#: where "at night" is: quiet-hours runs go to 03:00 plus a per-job minute
NIGHT_MINUTE = 3 * 60


def job_ref(job: CronJob) -> ObjectRef:
    """The contract's ``job`` object: jobid and the job's name (or command)."""
    return ObjectRef(kind="job", jobid=job.jobid, name=job.label)


def job_of(job: CronJob) -> Job:
    """The job as an action names it."""
    return Job(job.jobid, job.label)


def night_schedule(job: CronJob) -> str:
    """A once-a-day schedule in the small hours, spread by jobid so jobs do not pile up."""
    return daily_at(NIGHT_MINUTE + job.jobid % 60)


def _job_line(job: CronJob) -> str:
    """How a detail names a job: ``Job 7 ('*/5 * * * *': DELETE FROM audit WHERE …)``."""
    return f"Job {job.jobid} ({job.schedule!r}: {shorten.first_line(job.command, 200)})"


def _active_with_runs(snapshot: Snapshot) -> Iterable[tuple[CronJob, JobRuns]]:
    for job in snapshot.cron.jobs:
        runs = snapshot.cron.runs_for(job.jobid)
        if job.active and runs is not None:
            yield job, runs


@check("job-too-frequent", needs=("cron",))
def job_too_frequent(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """A job that runs far more often than its work needs.

    Two signs, each over at least ``job_min_runs`` recent runs: most runs changed nothing
    (command tags ``DELETE 0``, ``UPDATE 0``, ``INSERT 0 0``: a share of at least
    ``job_noop_share``) while it runs more often than ``job_too_frequent_interval_s``; or its
    runs overlap or follow each other back to back (busy ``job_busy_share`` of its interval).
    The interval is the schedule's shortest gap between runs, else the runs' own spacing.
    """
    for job, runs in _active_with_runs(snapshot):
        if runs.runs < t.job_min_runs:
            continue
        schedule = job.parsed_schedule()
        interval = (schedule.interval_s if schedule else None) or runs.mean_interval_s
        if not interval:
            continue
        noop = (runs.zero_row_share >= t.job_noop_share
                and interval < t.job_too_frequent_interval_s)
        busy_share = (runs.mean_duration_s or 0.0) / interval
        back_to_back = runs.overlaps > 0 or busy_share >= t.job_busy_share
        if not (noop or back_to_back):
            continue
        runs_per_day = schedule.runs_per_day if schedule else 86400.0 / interval
        seconds_per_day = runs_per_day * (runs.mean_duration_s or 0.0)
        if noop:
            title = (f"job {job.jobid} ({job.label}) runs every "
                     f"{durations.period(interval)}; "
                     f"{runs.zero_row_runs} of its last {runs.runs} runs changed nothing")
            why = (f"{runs.zero_row_share:.0%} of its last {runs.runs} runs reported 0 rows "
                   f"changed, yet it runs every {durations.period(interval)} "
                   f"({runs_per_day:.0f} times a day)")
        else:
            title = (f"job {job.jobid} ({job.label}) runs back to back: a run takes "
                     f"{runs.mean_duration_s or 0:.0f} s of its "
                     f"{durations.period(interval)} interval")
            why = (f"its runs take {busy_share:.0%} of the time between starts"
                   + (f" and {runs.overlaps} started before the previous one ended"
                      if runs.overlaps else ""))
        schedule_text = night_schedule(job)
        objects = [job_ref(job)] + [
            ObjectRef(kind="relation", name=s.target) for s in job.deletes if s.resolved
        ]
        yield Finding(
            code="job-too-frequent",
            severity=Severity.WARNING,
            title=title,
            detail=(f"{_job_line(job)}: {why}. "
                    f"Every run costs a connection and a pass over its tables "
                    f"({seconds_per_day:.0f} s of work a day) for nothing."),
            objects=tuple(objects),
            evidence=TooFrequentEvidence(
                interval_s=interval,
                runs=runs.runs,
                zero_row_runs=runs.zero_row_runs,
                zero_row_share=round(runs.zero_row_share, 3),
                runs_per_day=round(runs_per_day, 2),
                mean_duration_s=runs.mean_duration_s,
                busy_share=round(busy_share, 3),
                overlaps=runs.overlaps,
                seconds_per_day=round(seconds_per_day, 1),
            ),
            remedy=Remedy(
                summary=(f"Run it once a day at night ({schedule_text!r}) unless its work "
                         "really cannot wait that long."),
                actions=(RescheduleJob(job_of(job), schedule_text, job.schedule),),
            ),
            impact=seconds_per_day / 24,
        )


@check("job-failing", needs=("cron",))
def job_failing(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """A job whose last ``job_failing_runs`` or more runs failed (critical: all recent runs).

    The detail carries the newest error message pg_cron recorded.
    """
    for job, runs in _active_with_runs(snapshot):
        if runs.consecutive_failures < t.job_failing_runs:
            continue
        all_failed = runs.failed == runs.runs
        error = shorten.first_line((runs.last_error or "").removeprefix("ERROR:").strip(),
                                   120)
        yield Finding(
            code="job-failing",
            severity=Severity.CRITICAL if all_failed else Severity.WARNING,
            title=(f"job {job.jobid} ({job.label}) failed its last "
                   f"{runs.consecutive_failures} runs: {error}"),
            detail=(f"{_job_line(job)} failed {runs.consecutive_failures} times in a row"
                    + (" (every run on record)" if all_failed else
                       f" ({runs.failed} of its last {runs.runs} runs)")
                    + f". Last error: {runs.last_error}"),
            objects=(job_ref(job),),
            evidence={
                "consecutive_failures": runs.consecutive_failures,
                "runs": runs.runs,
                "failed": runs.failed,
                "last_error": runs.last_error,
                "last_start_age_s": runs.last_start_age_s,
            },
            remedy=Remedy(
                summary=("Fix what the error names; until it is fixed, pause the job so it "
                         "stops failing (and holding whatever it locks) on every run."),
                actions=(PauseJobs((job_of(job),)),),
            ),
            impact=float(runs.consecutive_failures),
        )


@check("job-backlog", needs=("cron",))
def job_backlog(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """A cleanup job that deletes nothing while the table it cleans keeps gaining rows.

    Judged for DELETE jobs with at least ``job_min_runs`` recent runs ending in a DELETE tag:
    every one deleted 0 rows, yet the target holds at least ``job_backlog_min_rows`` live rows
    and gained more rows than it lost since its statistics were reset. The rows the job exists
    to remove never match its condition (stuck behind something), so the table grows and
    every run reads it for nothing.
    """
    for job, runs in _active_with_runs(snapshot):
        if runs.delete_runs < t.job_min_runs or runs.deleted_rows != 0:
            continue
        for stmt in job.deletes:
            target = snapshot.cron.target(stmt.target) if stmt.resolved else None
            if target is None or target.n_live_tup < t.job_backlog_min_rows:
                continue
            net = target.n_tup_ins - target.n_tup_del
            if net <= 0:
                continue
            yield Finding(
                code="job-backlog",
                severity=Severity.WARNING,
                title=(f"job {job.jobid} ({job.label}) deleted nothing in {runs.delete_runs} "
                       f"runs while {target.name} grew to {target.n_live_tup:,} rows"),
                detail=(f"{shorten.first_line(stmt.text, 200)} removed 0 rows in each of its last "
                        f"{runs.delete_runs} runs, yet {target.name} gained {net:,} rows net "
                        f"({target.n_tup_ins:,} inserted, {target.n_tup_del:,} deleted since "
                        f"its statistics were reset) and holds {target.n_live_tup:,}. The rows "
                        "it should remove never match its condition, so they pile up while "
                        "every run still reads the table."),
                objects=(job_ref(job), ObjectRef(kind="relation", name=target.name)),
                evidence={
                    "delete_runs": runs.delete_runs,
                    "deleted_rows": 0,
                    "table": target.name,
                    "live_rows": target.n_live_tup,
                    "inserted_rows": target.n_tup_ins,
                    "deleted_rows_total": target.n_tup_del,
                    "net_growth": net,
                },
                remedy=Remedy(
                    summary=(f"Find why rows in {target.name} never become deletable (the "
                             "flag or dependency the condition waits for) and fix that, or "
                             "correct the condition; meanwhile run the job once a day."),
                    actions=(RescheduleJob(job_of(job), night_schedule(job), job.schedule),),
                ),
                impact=float(target.n_live_tup) / 1e6,
            )
