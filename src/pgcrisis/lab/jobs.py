"""pg_cron job faults: a cleanup that runs every 5 minutes for nothing, its growing backlog,
and a job that fails every night.

pg_cron runs a job at most once a minute, so a test cannot wait for real history. Instead
:func:`fast_forward` *replays* a job's past: it really runs the job's command N times (each in
its own transaction, as the job's user) and records each run in ``cron.job_run_details``
exactly as pg_cron would (a ``runid`` from ``cron.runid_seq``, the pid that ran it, the
database, user and command, ``succeeded``/``failed``, the command tag or error as
``return_message``), with start and end times spaced by the job's interval back in time.

Every scenario here needs pg_cron in the database it is given (the cron database).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import psycopg
from psycopg import sql

from pgcrisis.errors import ScenarioError, first_line
from pgcrisis.lab.app import create_app
from pgcrisis.lab.scenario import Metric, Scenario, admin_connect
from pgcrisis.model.cron_schedule import CronSchedule

#: every job a lab scenario schedules is named with this prefix
JOB_PREFIX = "pgcrisis-lab-"


@dataclass(frozen=True, slots=True)
class RecordedRun:
    """One replayed run, as written to ``cron.job_run_details``."""

    runid: int
    status: str
    return_message: str
    duration_s: float


def require_pg_cron(conn: psycopg.Connection[Any]) -> None:
    """Create pg_cron here if needed, or raise :class:`ScenarioError` saying why it cannot."""
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_cron")
    except psycopg.Error as exc:
        raise ScenarioError(
            f"this scenario needs pg_cron in this database: {first_line(exc)}") from None


def schedule_job(conn: psycopg.Connection[Any], name: str, schedule: str, command: str) -> int:
    """``cron.schedule`` (replacing a job of the same name); returns the jobid."""
    row = conn.execute("SELECT cron.schedule(%s, %s, %s)", (name, schedule, command)).fetchone()
    if row is None:
        raise ScenarioError(f"cron.schedule returned nothing for {name}")
    return int(row[0])


def unschedule_jobs(conn: psycopg.Connection[Any], prefix: str) -> None:
    """Remove every job whose name starts with ``prefix`` (and its run history)."""
    conn.execute(
        "DELETE FROM cron.job_run_details WHERE jobid IN "
        "(SELECT jobid FROM cron.job WHERE jobname LIKE %s)", (prefix + "%",))
    conn.execute("SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname LIKE %s",
                 (prefix + "%",))


def _run_once(conn: psycopg.Connection[Any], command: str, role: str | None) -> tuple[str, str]:
    """Run ``command`` in its own transaction; (status, return_message) as pg_cron records."""
    try:
        with conn.transaction():
            if role is not None:
                conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
            cur = conn.execute(command.encode())
            tag = cur.statusmessage or ""
            while cur.nextset():  # pg_cron reports the tag of the last statement
                tag = cur.statusmessage or tag
        return "succeeded", tag
    except psycopg.Error as exc:
        message = exc.diag.message_primary or str(exc).strip()
        return "failed", f"ERROR: {message}"


def fast_forward(conn: psycopg.Connection[Any], jobid: int, runs: int, *,
                 interval_s: float | None = None, ended_s_ago: float = 0.0,
                 before_each: Callable[[psycopg.Connection[Any], int], None] | None = None,
                 ) -> list[RecordedRun]:
    """Replay ``runs`` past runs of job ``jobid``: run its command for real, record the runs.

    ``conn`` must be an autocommit connection to the job's database. Runs are recorded
    ``interval_s`` apart (default: the schedule's interval), the newest starting one interval
    before ``ended_s_ago`` seconds ago, so that the next run is due about then; each lasts
    as long as the command really took. ``before_each(conn, i)`` runs before run ``i`` (to
    let the app add rows between runs, say). Returns the runs, oldest first.
    """
    row = conn.execute(
        "SELECT j.schedule, j.command, j.database, j.username, current_database(), current_user"
        "  FROM cron.job j WHERE j.jobid = %s", (jobid,)).fetchone()
    if row is None:
        raise ScenarioError(f"no pg_cron job {jobid}")
    schedule, command, database, username, here, me = row
    if database != here:
        raise ScenarioError(f"job {jobid} runs in database {database}, not {here}")
    if interval_s is None:
        interval_s = CronSchedule.parse(schedule).interval_s
        if interval_s is None:
            raise ScenarioError(f"job {jobid}'s schedule {schedule!r} has no interval")
    done: list[tuple[str, str, float]] = []
    for i in range(runs):
        if before_each is not None:
            before_each(conn, i)
        t0 = time.perf_counter()
        status, message = _run_once(conn, command, username if username != me else None)
        done.append((status, message, time.perf_counter() - t0))
    recorded = []
    for i, (status, message, duration) in enumerate(done):
        start_ago = ended_s_ago + (runs - i) * interval_s
        out = conn.execute(
            "INSERT INTO cron.job_run_details"
            " (jobid, runid, job_pid, database, username, command, status, return_message,"
            "  start_time, end_time)"
            " VALUES (%(jobid)s, nextval('cron.runid_seq'), pg_backend_pid(), %(db)s, %(user)s,"
            "  %(command)s, %(status)s, %(message)s, now() - make_interval(secs => %(ago)s),"
            "  now() - make_interval(secs => %(ago)s) + make_interval(secs => %(took)s))"
            " RETURNING runid",
            {"jobid": jobid, "db": database, "user": username, "command": command,
             "status": status, "message": message, "ago": start_ago, "took": duration},
        ).fetchone()
        assert out is not None
        recorded.append(RecordedRun(int(out[0]), status, message, duration))
    return recorded


def _job(conn: psycopg.Connection[Any], name: str) -> tuple[int, str, str, bool]:
    row = conn.execute("SELECT jobid, schedule, command, active FROM cron.job WHERE jobname = %s",
                       (name,)).fetchone()
    if row is None:
        raise ScenarioError(f"the job {name} is not scheduled")
    return int(row[0]), str(row[1]), str(row[2]), bool(row[3])


def _runs_per_hour(schedule: str, active: bool) -> float:
    return CronSchedule.parse(schedule).runs_per_day / 24 if active else 0.0


def _rows_read(conn: psycopg.Connection[Any], table: str) -> float:
    """Tuples read from ``table`` by sequential and index scans, as the statistics count."""
    row = conn.execute(
        "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)"
        "  FROM pg_stat_user_tables WHERE relid = to_regclass(%s)", (table,)).fetchone()
    return float(row[0]) if row else 0.0


class CleanupTooFrequent(Scenario):
    """A cleanup job runs every 5 minutes and never finds a row it may delete.

    The seed incident's daily cleanup "workflow": it deletes audit rows once they are
    processed and older than 30 days, but the rows are only marked processed by an export
    step that waits for something that never happens (stuck behind a dependency), so every
    run reads the table and deletes nothing; and it runs every 5 minutes instead of nightly.
    ``inject`` schedules it and fast-forwards ``runs`` past runs (12: an hour of history).

    ``measure()``: audit rows the job reads in a day, measured by replaying the day's runs at
    its current schedule and reading the table's statistics before and after.
    """

    code: ClassVar[str] = "job-too-frequent"
    title: ClassVar[str] = "A cleanup job runs every 5 minutes and deletes nothing"
    jobname: ClassVar[str] = JOB_PREFIX + "cleanup-audit-log"
    schedule: ClassVar[str] = "*/5 * * * *"
    command: ClassVar[str] = (
        "DELETE FROM audit_log WHERE processed AND changed_at < now() - interval '30 days'")

    def __init__(self, dsn: str, scale: float = 1.0, runs: int = 12) -> None:
        super().__init__(dsn)
        self.scale = scale
        self.runs = runs
        self.jobid: int | None = None

    def setup(self) -> None:
        with admin_connect(self.dsn) as conn:
            require_pg_cron(conn)
            create_app(conn, self.scale)

    def _between_runs(self, conn: psycopg.Connection[Any], i: int) -> None:
        """What the app does between two runs of the job (nothing, here)."""

    def inject(self) -> None:
        with admin_connect(self.dsn) as conn:
            self.jobid = schedule_job(conn, self.jobname, self.schedule, self.command)
            conn.execute("DELETE FROM cron.job_run_details WHERE jobid = %s", (self.jobid,))
            fast_forward(conn, self.jobid, self.runs, before_each=self._between_runs)

    def self_check(self) -> None:
        with admin_connect(self.dsn) as conn:
            jobid, schedule, _, active = _job(conn, self.jobname)
            row = conn.execute(
                "SELECT count(*) FILTER (WHERE return_message = 'DELETE 0'), count(*)"
                "  FROM cron.job_run_details WHERE jobid = %s", (jobid,)).fetchone()
            stuck = conn.execute(
                "SELECT count(*) FROM audit_log"
                " WHERE NOT processed AND changed_at < now() - interval '30 days'").fetchone()
        assert row is not None and stuck is not None
        interval = CronSchedule.parse(schedule).interval_s or 0
        if not active or interval >= 3600:
            raise ScenarioError(f"the cleanup job runs every {interval:.0f} s, not every 5 min")
        if row[1] < self.runs or row[0] < self.runs:
            raise ScenarioError(f"only {row[0]} of {row[1]} recorded runs deleted nothing")
        if stuck[0] == 0:
            raise ScenarioError("no audit rows are stuck past the 30-day retention")

    def measure(self) -> Metric:
        return self.measure_reads()

    def measure_reads(self) -> Metric:
        """Replay one day of the job at its current schedule (every run really executed, in
        one session, as pg_cron would) and measure the audit rows those runs read, from the
        table's statistics (sequential + index tuples read) before and after."""
        with admin_connect(self.dsn) as conn:
            _, schedule, command, active = _job(conn, self.jobname)
            runs = CronSchedule.parse(schedule).runs_per_day if active else 0
            before = _rows_read(conn, "audit_log")
            with admin_connect(self.dsn, application_name="pg_cron") as job:
                for _ in range(int(runs)):
                    _run_once(job, command, None)
                if job.info.server_version >= 150000:
                    job.execute("SELECT pg_stat_force_next_flush()")
            # the job's session reports its counters when it ends (or, from 15, on demand)
            read = 0.0
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                conn.execute("SELECT pg_stat_clear_snapshot()")
                read = _rows_read(conn, "audit_log") - before
                if read > 0 or runs == 0:
                    break
                time.sleep(0.05)
        return Metric("audit rows the cleanup job reads in a day", "rows", read,
                      "measured: a day replayed, pg_stat_user_tables")

    def remove(self) -> None:
        """Unschedule the job (its rows stay: they are the app's)."""
        with admin_connect(self.dsn) as conn:
            unschedule_jobs(conn, self.jobname)


class CleanupBacklog(CleanupTooFrequent):
    """The same cleanup while the app keeps logging: rows pile up that it never removes.

    Between replayed runs the app inserts ``rows_per_run`` unprocessed audit rows (some dated
    past the retention, as back-dated imports are), so the table grows while every run
    deletes nothing.

    ``measure()``: audit rows past the 30-day retention that are still there (stuck).
    """

    code: ClassVar[str] = "job-backlog"
    title: ClassVar[str] = "The cleanup job deletes nothing while the audit log keeps growing"

    def __init__(self, dsn: str, scale: float = 1.0, runs: int = 12,
                 rows_per_run: int | None = None) -> None:
        super().__init__(dsn, scale, runs)
        self.rows_per_run = rows_per_run or max(50, int(2000 * scale))

    def _between_runs(self, conn: psycopg.Connection[Any], i: int) -> None:
        conn.execute(
            "INSERT INTO audit_log (table_name, record_id, action, changed_at, payload)"
            " SELECT 'orders', g, 'update', now() - (g %% 60) * interval '1 day',"
            "        jsonb_build_object('run', %(i)s)"
            "   FROM generate_series(1, %(n)s) g", {"i": i, "n": self.rows_per_run})

    def self_check(self) -> None:
        super().self_check()
        with admin_connect(self.dsn) as conn:
            row = conn.execute(
                "SELECT n_tup_ins - n_tup_del, n_live_tup FROM pg_stat_user_tables"
                " WHERE relid = 'audit_log'::regclass").fetchone()
        if row is None or row[0] <= 0:
            raise ScenarioError("audit_log is not growing")

    def measure(self) -> Metric:
        with admin_connect(self.dsn) as conn:
            row = conn.execute(
                "SELECT count(*) FROM audit_log"
                " WHERE changed_at < now() - interval '30 days'").fetchone()
        assert row is not None
        return Metric("audit rows past retention still kept", "rows", float(row[0]))


