"""job-too-frequent, job-failing, job-backlog on a real server with pg_cron, and the schedule
parser they stand on.

pg_cron runs a job at most once a minute, so the scenarios replay a job's past runs with
``fast_forward`` (really running the command, recording the runs as pg_cron would).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pgcrisis.checks.jobs import job_too_frequent
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.lab.jobs import CleanupBacklog, CleanupTooFrequent
from pgcrisis.lab.scenario import admin_connect
from pgcrisis.model.cron_schedule import CronSchedule
from pgcrisis.model.findings import ObjectRef, Severity
from pgcrisis.model.jobs import Cron, CronJob, JobRuns
from pgcrisis.model.server import ServerInfo
from pgcrisis.model.snapshot import Snapshot
from tests.helpers import only, triage
from tests.scenarios.jobs import FailingJob

SCALE = 0.02
CRON_CHECKS = ("job-too-frequent", "job-failing", "job-backlog", "refresh-spike")


@pytest.fixture
def cleanup(cron_db: str) -> Iterator[CleanupTooFrequent]:
    scenario = CleanupTooFrequent(cron_db, scale=SCALE)
    with scenario:
        yield scenario
    scenario.remove()


def _job_object(report_jobs: tuple[CronJob, ...], name: str) -> ObjectRef:
    job = next(j for j in report_jobs if j.jobname == name)
    return ObjectRef(kind="job", jobid=job.jobid, name=name)


def test_cleanup_every_five_minutes_is_too_frequent(cleanup: CleanupTooFrequent) -> None:
    report = triage(cleanup.dsn)
    finding = only(report, "job-too-frequent")
    assert finding.severity is Severity.WARNING
    assert finding.objects[0] == _job_object(report.snapshot.cron.jobs, cleanup.jobname)
    assert finding.objects[1] == ObjectRef(kind="relation", name="public.audit_log")
    assert finding.evidence["interval_s"] == 300
    assert finding.evidence["zero_row_runs"] >= 12  # pg_cron itself may have run it once more
    assert finding.evidence["runs_per_day"] == 288

    before = cleanup.measure()
    assert finding.remedy is not None
    with admin_connect(cleanup.dsn) as conn:
        for statement in finding.remedy.sql:
            conn.execute(statement.encode())
    after = cleanup.measure()
    assert after.value == pytest.approx(before.value / 288)
    assert not triage(cleanup.dsn).by_code("job-too-frequent")


def test_cleanup_that_never_deletes_while_the_table_grows_is_a_backlog(cron_db: str) -> None:
    scenario = CleanupBacklog(cron_db, scale=SCALE, runs=6)
    with scenario:
        report = triage(cron_db)
        finding = only(report, "job-backlog")
        assert finding.severity is Severity.WARNING
        assert finding.objects[0] == _job_object(report.snapshot.cron.jobs, scenario.jobname)
        assert finding.objects[1] == ObjectRef(kind="relation", name="public.audit_log")
        assert finding.evidence["delete_runs"] >= 6
        assert finding.evidence["net_growth"] > 0
        assert scenario.measure().value > 0
    scenario.remove()


def test_job_failing_every_run_is_critical(cron_db: str) -> None:
    scenario = FailingJob(cron_db, scale=SCALE, runs=4)
    with scenario:
        report = triage(cron_db)
        finding = only(report, "job-failing")
        assert finding.severity is Severity.CRITICAL
        assert finding.objects[0] == _job_object(report.snapshot.cron.jobs, scenario.jobname)
        with admin_connect(cron_db) as conn:  # the contract's key is cron.job's jobid
            row = conn.execute("SELECT jobname FROM cron.job WHERE jobid = %s",
                               (finding.objects[0].jobid,)).fetchone()
        assert row == (scenario.jobname,)
        assert finding.evidence["consecutive_failures"] == 4
        assert 'relation "orders_archive" does not exist' in finding.detail
        assert 'orders_archive' in finding.title
        assert scenario.measure().value == 1
        assert finding.remedy is not None
        with admin_connect(cron_db) as conn:
            for statement in finding.remedy.sql:
                conn.execute(statement.encode())
        assert scenario.measure().value == 0  # paused
        assert not triage(cron_db).by_code("job-failing")
    scenario.remove()


def test_job_failing_since_it_last_worked_is_a_warning(cron_db: str) -> None:
    scenario = FailingJob(cron_db, scale=SCALE, runs=3, earlier_successes=2)
    with scenario:
        finding = only(triage(cron_db), "job-failing")
        assert finding.severity is Severity.WARNING
        assert finding.evidence["consecutive_failures"] == 3
        assert finding.evidence["runs"] == 5
    scenario.remove()


def test_cron_checks_are_skipped_where_pg_cron_is_not_installed(db: str) -> None:
    report = triage(db)
    reasons = {s.check: s.reason for s in report.results.skipped}
    for code in CRON_CHECKS:
        assert reasons[code] == "pg_cron is not installed in this database"
    assert "matview-blocking-refresh" not in reasons  # the live half needs no pg_cron


def _snapshot(job: CronJob, runs: JobRuns) -> Snapshot:
    server = ServerInfo(version_num=150000, server_version="15", database="app",
                        current_user="postgres", is_superuser=True, own_pid=1)
    return Snapshot(server=server, taken_at=datetime.now(UTC),
                    cron=Cron(jobs=(job,), runs=(runs,)))


def test_runs_back_to_back_are_too_frequent_even_when_they_do_work() -> None:
    job = CronJob(jobid=7, jobname=None, schedule="* * * * *", command="CALL rebuild_cache()",
                  database="app", username="app", active=True)
    runs = JobRuns(jobid=7, runs=10, succeeded=10, failed=0, running=0, zero_row_runs=0,
                   rows_affected=None, delete_runs=0, deleted_rows=None,
                   consecutive_failures=0, last_status="succeeded", last_error=None,
                   last_start_age_s=60.0, first_start_age_s=600.0, mean_duration_s=58.0,
                   max_duration_s=59.0, mean_interval_s=60.0, overlaps=0)
    (finding,) = job_too_frequent(_snapshot(job, runs), Thresholds())
    assert finding.objects[0] == ObjectRef(kind="job", jobid=7, name="CALL rebuild_cache()")
    assert "back to back" in finding.title
    assert finding.remedy is not None
    assert finding.remedy.sql == ("SELECT cron.alter_job(7, schedule := '7 3 * * *')",)


@pytest.mark.parametrize(("text", "interval", "per_day", "first"), [
    ("*/5 * * * *", 300, 288, 0),
    ("0 9 * * *", 86400, 1, 540),
    ("@daily", 86400, 1, 0),
    ("@hourly", 3600, 24, 0),
    ("15 2 * * 1-5", 86400, 261 / 365, 135),
    ("0 0 1 * *", 28 * 86400, 12 / 365, 0),
    ("*/20 8-10 * * *", 1200, 9, 480),
    ("0,30 12 * jan,jul sun", 1800, 2 * 8 / 365, 720),
    ("30 seconds", 30, 2880, 0),
])
def test_schedule_expansion(text: str, interval: float, per_day: float, first: int) -> None:
    schedule = CronSchedule.parse(text)
    assert schedule.interval_s == interval
    assert schedule.runs_per_day == pytest.approx(per_day)
    assert schedule.minutes_of_day[0] == first


@pytest.mark.parametrize("text", ["", "* * * *", "61 * * * *", "*/0 * * * *", "5-1 * * * *",
                                  "a b c d e", "0 0 32 * *"])
def test_schedule_rejects_what_pg_cron_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        CronSchedule.parse(text)


@given(step=st.integers(1, 59), hour=st.integers(0, 23))
def test_stepped_minutes_run_step_apart(step: int, hour: int) -> None:
    schedule = CronSchedule.parse(f"*/{step} {hour} * * *")
    assert schedule.minutes_of_day == tuple(hour * 60 + m for m in range(0, 60, step))
    assert schedule.interval_s == 60 * step  # every such hour has at least two runs
    assert schedule.runs_per_day == pytest.approx(len(range(0, 60, step)))
