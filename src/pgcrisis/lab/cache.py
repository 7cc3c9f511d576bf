"""Cached-view faults: a tree of materialized views refreshed all at once (a plain REFRESH
that locks readers out is :mod:`.blocking_refresh`).

The seed incident's app caches "calculations" views that many customer-facing views are
joined to, some of which are cached again: here ``mv_customer_totals`` (orders x items per
customer), the plain views ``v_customer_report`` (customers joined to it) and
``v_region_report`` (on that), and ``mv_region_summary`` cached from the latter: matview ->
plain view -> plain view -> matview. None has a unique index, so none can refresh
CONCURRENTLY.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar

import psycopg
from psycopg import sql

from pgcrisis.cache.schedule import LANE_PREFIX
from pgcrisis.errors import ScenarioError, first_line
from pgcrisis.lab.app import create_app
from pgcrisis.lab.jobs import (
    JOB_PREFIX,
    fast_forward,
    require_pg_cron,
    schedule_job,
    unschedule_jobs,
)
from pgcrisis.lab.scenario import Metric, Scenario, Worker, admin_connect
from pgcrisis.model.cron_schedule import CronSchedule

#: the cached calculations view at the root of the tree
CALCULATIONS = "mv_customer_totals"

TREE_SQL = """
CREATE MATERIALIZED VIEW IF NOT EXISTS mv_customer_totals AS
SELECT o.customer_id,
       count(DISTINCT o.id) AS orders,
       sum(oi.qty * oi.price) AS revenue,
       max(o.created_at) AS last_order_at
  FROM orders o
  JOIN order_items oi ON oi.order_id = o.id
 GROUP BY o.customer_id;
CREATE OR REPLACE VIEW v_customer_report AS
SELECT c.id AS customer_id, c.name, c.region, t.orders, t.revenue, t.last_order_at
  FROM customers c
  LEFT JOIN mv_customer_totals t ON t.customer_id = c.id;
CREATE OR REPLACE VIEW v_region_report AS
SELECT region, count(*) AS customers, sum(revenue) AS revenue
  FROM v_customer_report
 GROUP BY region;
CREATE MATERIALIZED VIEW IF NOT EXISTS mv_region_summary AS
SELECT * FROM v_region_report;
ANALYZE mv_customer_totals;
ANALYZE mv_region_summary;
"""

DROP_TREE_SQL = """
DROP MATERIALIZED VIEW IF EXISTS mv_region_summary;
DROP VIEW IF EXISTS v_region_report;
DROP VIEW IF EXISTS v_customer_report;
DROP MATERIALIZED VIEW IF EXISTS mv_customer_totals;
"""

#: the report matviews' definition: one slice of sales per product and status each
REPORT_SQL = """
SELECT oi.product, o.status, sum(oi.qty) AS qty, sum(oi.qty * oi.price) AS revenue
  FROM order_items oi
  JOIN orders o ON o.id = oi.order_id
 WHERE o.customer_id % {slices} = {slice}
 GROUP BY oi.product, o.status
"""


def replay_firing(dsn: str, commands: list[str]) -> int:
    """Run ``commands`` at once, each on its own connection (as pg_cron starts the jobs due
    in one minute), and return how many were running at the same moment: the peak overlap of
    their measured [start, end) intervals. A command that fails raises ScenarioError."""
    start = threading.Barrier(len(commands))
    spans: list[tuple[float, float]] = []

    def run(command: str) -> Callable[[psycopg.Connection[Any]], None]:
        def job(conn: psycopg.Connection[Any]) -> None:
            start.wait(30)
            t0 = time.perf_counter()
            conn.execute(command.encode())
            spans.append((t0, time.perf_counter()))
        return job

    workers = [Worker(dsn, run(command), name=f"cron-job-{i}", application_name="pg_cron")
               for i, command in enumerate(commands)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(300)
    failed = [w.error for w in workers if w.error is not None]
    if failed:
        raise ScenarioError(f"a replayed job failed: {first_line(failed[0])}")
    events = sorted([(t0, 1) for t0, _ in spans] + [(t1, -1) for _, t1 in spans])
    running = peak = 0
    for _, step in events:  # an end sorts before a start at the same instant
        running += step
        peak = max(peak, running)
    return peak


def build_tree(conn: psycopg.Connection[Any]) -> None:
    """Create the calculations tree (idempotent) and ANALYZE its matviews."""
    conn.execute(TREE_SQL)


def _usable_key_index(conn: psycopg.Connection[Any], view: str) -> bool:
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = to_regclass(%s)"
        " AND i.indisunique AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL)",
        (view,)).fetchone()
    return bool(row and row[0])


def _reaches(conn: psycopg.Connection[Any], top: str, bottom: str) -> bool:
    """Whether ``top`` is built on ``bottom`` through rewrite-rule dependencies."""
    row = conn.execute(
        """
        WITH RECURSIVE down(oid) AS (
            SELECT to_regclass(%(top)s)::oid
            UNION
            SELECT d.refobjid FROM down
              JOIN pg_rewrite w ON w.ev_class = down.oid
              JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = w.oid
                              AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> down.oid
        )
        SELECT to_regclass(%(bottom)s)::oid IN (SELECT oid FROM down)
        """, {"top": top, "bottom": bottom}).fetchone()
    return bool(row and row[0])


class CachedViewTree(Scenario):
    """A tree of cached views and ``views`` more, all refreshed by pg_cron at 09:00, plainly.

    ``setup`` builds the calculations tree and ``views`` report matviews (12 at the demo's
    scale). ``inject`` schedules one job refreshing the tree (both matviews in one command,
    the root first) and one job per report view, all at ``'0 9 * * *'`` without
    CONCURRENTLY, then replays ``history_runs`` past run(s) of each so durations are known.
    Triage should see a refresh spike, scheduled blocking refreshes and unready views.

    ``measure()``: the peak number of refresh jobs running at once when the schedule fires,
    each firing minute replayed for real (:func:`replay_firing`); after ``pgcrisis cache plan
    --apply`` its lane jobs are replayed instead.
    """

    code: ClassVar[str] = "refresh-spike"
    title: ClassVar[str] = "Every cached view refreshes at 09:00 with a plain REFRESH"
    schedule: ClassVar[str] = "0 9 * * *"
    prefix: ClassVar[str] = JOB_PREFIX + "refresh-"

    def __init__(self, dsn: str, scale: float = 1.0, views: int = 12,
                 history_runs: int = 1) -> None:
        super().__init__(dsn)
        self.scale = scale
        self.views = views
        self.history_runs = history_runs

    @property
    def report_views(self) -> list[str]:
        """Names of the extra report matviews."""
        return [f"mv_report_{i + 1:02d}" for i in range(self.views)]

    def setup(self) -> None:
        with admin_connect(self.dsn) as conn:
            require_pg_cron(conn)
            create_app(conn, self.scale)
            build_tree(conn)
            for i, name in enumerate(self.report_views):
                body = sql.SQL(REPORT_SQL).format(slices=sql.Literal(self.views),
                                                  slice=sql.Literal(i))
                conn.execute(sql.SQL("CREATE MATERIALIZED VIEW IF NOT EXISTS {} AS {}").format(
                    sql.Identifier(name), body))

    def inject(self) -> None:
        with admin_connect(self.dsn) as conn:
            jobs = [schedule_job(
                conn, self.prefix + "calculations", self.schedule,
                f"REFRESH MATERIALIZED VIEW {CALCULATIONS}; "
                "REFRESH MATERIALIZED VIEW mv_region_summary")]
            jobs += [schedule_job(conn, self.prefix + name, self.schedule,
                                  f"REFRESH MATERIALIZED VIEW {name}")
                     for name in self.report_views]
            for jobid in jobs:
                conn.execute("DELETE FROM cron.job_run_details WHERE jobid = %s", (jobid,))
                if self.history_runs:
                    fast_forward(conn, jobid, self.history_runs)

    def self_check(self) -> None:
        with admin_connect(self.dsn) as conn:
            row = conn.execute(
                "SELECT count(*) FROM cron.job WHERE active AND schedule = %s"
                " AND command ILIKE '%%refresh materialized view%%'"
                " AND command NOT ILIKE '%%concurrently%%'", (self.schedule,)).fetchone()
            ready = _usable_key_index(conn, CALCULATIONS)
            chained = _reaches(conn, "mv_region_summary", CALCULATIONS)
        if row is None or row[0] < min(3, self.views + 1):
            raise ScenarioError("the refresh jobs are not all scheduled at the same time")
        if ready:
            raise ScenarioError(f"{CALCULATIONS} already has a unique index")
        if not chained:
            raise ScenarioError("mv_region_summary is not built on mv_customer_totals")

    def measure(self) -> Metric:
        """Replay each minute in which refresh jobs fire: run those jobs' commands for real,
        together, each on its own connection as pg_cron's workers would, and measure how many
        were running at the same moment (the peak over every firing minute)."""
        with admin_connect(self.dsn) as conn:
            # the scenario's jobs, and the lanes `pgcrisis cache plan --apply` put in their place
            rows = conn.execute(
                "SELECT schedule, command FROM cron.job WHERE active"
                " AND (jobname LIKE %s OR jobname LIKE %s)",
                (self.prefix + "%", LANE_PREFIX + "%")).fetchall()
        firing: dict[int, list[str]] = {}
        for text, command in rows:
            for minute in CronSchedule.parse(text).minutes_of_day:
                firing.setdefault(minute, []).append(command)
        peak = max((replay_firing(self.dsn, commands) for commands in firing.values()),
                   default=0)
        return Metric("refresh jobs running at once when the schedule fires", "jobs",
                      float(peak), "measured: firings replayed, overlap of runs")

    def remove(self) -> None:
        """Unschedule the jobs and drop the views."""
        with admin_connect(self.dsn) as conn:
            unschedule_jobs(conn, self.prefix)
            for name in self.report_views:
                conn.execute(sql.SQL("DROP MATERIALIZED VIEW IF EXISTS {}").format(
                    sql.Identifier(name)))
            conn.execute(DROP_TREE_SQL)
