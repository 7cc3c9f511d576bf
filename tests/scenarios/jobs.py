"""A pg_cron job that keeps failing, for the job-failing tests."""

from __future__ import annotations

from typing import Any, ClassVar

import psycopg

from pgcrisis.errors import ScenarioError
from pgcrisis.lab.app import create_app
from pgcrisis.lab.jobs import (
    JOB_PREFIX,
    _job,
    _runs_per_hour,
    fast_forward,
    require_pg_cron,
    schedule_job,
    unschedule_jobs,
)
from pgcrisis.lab.scenario import Metric, Scenario, admin_connect


class FailingJob(Scenario):
    """A nightly archive job fails every run since a release dropped its target table.

    ``inject`` schedules it and replays ``runs`` failed nights, after ``earlier_successes``
    good ones (recorded while the table still existed).

    ``measure()``: failures per day it will have at its current schedule (0 once paused or
    once the command works again: it is tried in a rolled-back transaction).
    """

    code: ClassVar[str] = "job-failing"
    title: ClassVar[str] = "A nightly archive job fails every run"
    jobname: ClassVar[str] = JOB_PREFIX + "archive-orders"
    schedule: ClassVar[str] = "15 2 * * *"
    command: ClassVar[str] = (
        "INSERT INTO orders_archive SELECT * FROM orders"
        " WHERE status = 'done' AND created_at < now() - interval '300 days'")

    def __init__(self, dsn: str, scale: float = 1.0, runs: int = 5,
                 earlier_successes: int = 0) -> None:
        super().__init__(dsn)
        self.scale = scale
        self.runs = runs
        self.earlier_successes = earlier_successes

    def setup(self) -> None:
        with admin_connect(self.dsn) as conn:
            require_pg_cron(conn)
            create_app(conn, self.scale)
            conn.execute("DROP TABLE IF EXISTS orders_archive")

    def inject(self) -> None:
        with admin_connect(self.dsn) as conn:
            jobid = schedule_job(conn, self.jobname, self.schedule, self.command)
            conn.execute("DELETE FROM cron.job_run_details WHERE jobid = %s", (jobid,))
            if self.earlier_successes:
                conn.execute("CREATE TABLE orders_archive (LIKE orders)")
                fast_forward(conn, jobid, self.earlier_successes,
                             ended_s_ago=self.runs * 86400.0)
                conn.execute("DROP TABLE orders_archive")  # the release that broke it
            fast_forward(conn, jobid, self.runs)

    def _fails_now(self, conn: psycopg.Connection[Any], command: str) -> bool:
        try:
            with conn.transaction(force_rollback=True):
                conn.execute(command.encode())
        except psycopg.Error:
            return True
        return False

    def self_check(self) -> None:
        with admin_connect(self.dsn) as conn:
            jobid, _, command, _ = _job(conn, self.jobname)
            row = conn.execute(
                "SELECT count(*) FROM (SELECT status FROM cron.job_run_details WHERE jobid = %s"
                " ORDER BY start_time DESC LIMIT %s) r WHERE status = 'failed'",
                (jobid, self.runs)).fetchone()
            fails = self._fails_now(conn, command)
        if row is None or row[0] < self.runs or not fails:
            raise ScenarioError("the archive job does not fail")

    def measure(self) -> Metric:
        with admin_connect(self.dsn) as conn:
            _, schedule, command, active = _job(conn, self.jobname)
            fails = self._fails_now(conn, command)
        per_day = _runs_per_hour(schedule, active) * 24
        return Metric("archive job failures per day", "runs", per_day if fails else 0.0,
                      "counted: runs per day of its schedule, if its command fails now")

    def remove(self) -> None:
        """Unschedule the job and drop the archive table if a fix created it."""
        with admin_connect(self.dsn) as conn:
            unschedule_jobs(conn, self.jobname)
            conn.execute("DROP TABLE IF EXISTS orders_archive")
