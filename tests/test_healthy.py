"""No false alarms: a healthy server under a mixed read/write load gives nothing above info,
with triage's default load window taken (no cpu-saturation, io-saturation or runaway-client
for a busy but healthy server)."""

from __future__ import annotations

import os
import subprocess
import threading
from typing import Any

import psycopg

from pgcrisis.judge import TriageReport
from pgcrisis.lab.app import create_app
from pgcrisis.lab.scenario import wait_until
from pgcrisis.model.findings import Severity
from pgcrisis.model.load import DEFAULT_WINDOW_S
from tests.helpers import PgServer, triage
from tests.scenarios.users import SimulatedUsers

#: how many reads and writes make a load worth judging (each reader 100, each writer 50)
READS, WRITES = 300, 100


def _read(conn: psycopg.Connection[Any], i: int) -> None:
    conn.execute("SELECT o.id, o.status, sum(oi.qty) FROM orders o JOIN order_items oi"
                 " ON oi.order_id = o.id WHERE o.customer_id = %s GROUP BY o.id", (1 + i % 100,))


def _write(conn: psycopg.Connection[Any], i: int) -> None:
    with conn.transaction():
        row = conn.execute("INSERT INTO orders (customer_id, site_id) VALUES (%s, %s)"
                           " RETURNING id", (1 + i % 100, 1 + (i % 100) * 2)).fetchone()
        assert row is not None
        conn.execute("INSERT INTO order_items (order_id, product, qty, price)"
                     " VALUES (%s, 'P1', 1, 9.5)", (row[0],))
        conn.execute("UPDATE customers SET name = name WHERE id = %s", (1 + i % 100,))


def _sessions(dsn: str, application_name: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                           (application_name,)).fetchone()
    return int(row[0]) if row else 0


def _under_load(readers: SimulatedUsers, writers: SimulatedUsers) -> None:
    """Until the load has really run: every reader and writer several times over (what the
    checks could mistake for a fault is in the statistics)."""
    wait_until(lambda: len(readers.latencies.samples) >= READS
               and len(writers.latencies.samples) >= WRITES, what="the load to run")


def test_no_warning_or_critical_on_a_healthy_server_under_load(pg: PgServer, db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        for ext in ("pg_stat_statements", "hypopg"):
            if ext not in pg.unavailable:
                conn.execute(f"CREATE EXTENSION IF NOT EXISTS {ext}")
        create_app(conn, scale=0.05)
        conn.execute("CREATE INDEX ON orders (site_id)")
        conn.execute("CREATE INDEX ON standing_order_items (customer_id)")
    readers = SimulatedUsers(db, _read, users=3, name="reader", application_name="shop",
                             think_s=0.01).start()
    writers = SimulatedUsers(db, _write, users=2, name="writer", application_name="orders-api",
                             think_s=0.01).start()
    try:
        _under_load(readers, writers)
        report = triage(db, sample_s=DEFAULT_WINDOW_S)
    finally:
        read_lat, write_lat = readers.stop(), writers.stop()
    assert read_lat.samples and write_lat.samples, "the load really ran"
    loud = [f"{f.code}: {f.title}" for f in report.findings if f.severity is not Severity.INFO]
    assert loud == []
    _sampled(report)


def _sampled(report: TriageReport) -> None:
    """The report judged a real load window (the saturation checks had something to judge),
    and the plans of the statements carrying it (bad-plan had plans to judge)."""
    profile = report.snapshot.load
    assert profile is not None and profile.samples >= 5
    skipped = {s.check for s in report.results.skipped}
    assert not {"cpu-saturation", "io-saturation"} & skipped
    if "slow-query" not in skipped:  # pg_stat_statements is there
        # The load's statements were measured over the window. Sessions seen active at the
        # sampled instants may be none: these statements take well under a millisecond.
        assert profile.statements
        assert "bad-plan" not in skipped
        assert [p for p in report.snapshot.plans.plans if p.reason is None and p.nodes]


def test_pgbench_and_app_load_give_nothing_loud_and_nothing_about_pgcrisis(
        pg: PgServer, db: str) -> None:
    """pgbench (TPC-B-like writes), the app's readers and writers, and a second pgcrisis
    sampling at the same time: no warning or critical, and no finding about pgcrisis."""
    env = {**os.environ, "PGAPPNAME": "pgbench"}
    pgbench = str(pg.tool("pgbench"))  # the same lookup as the server's, never a fixed path
    subprocess.run([pgbench, "-i", "-s", "2", "-q", db], check=True, env=env,
                   capture_output=True, timeout=120)
    with psycopg.connect(db, autocommit=True) as conn:
        if "pg_stat_statements" not in pg.unavailable:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        create_app(conn, scale=0.05)
        conn.execute("CREATE INDEX ON orders (site_id)")
        conn.execute("CREATE INDEX ON standing_order_items (customer_id)")
    # -N (simple-update): TPC-B without its deliberate hot spot (every transaction updating one
    # of two branch rows), which makes sessions wait for each other for microseconds
    bench = subprocess.Popen([pgbench, "-c", "4", "-j", "2", "-T", "6", "-n", "-N", db], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    readers = SimulatedUsers(db, _read, users=3, name="reader", application_name="shop",
                             think_s=0.01).start()
    writers = SimulatedUsers(db, _write, users=2, name="writer", application_name="orders-api",
                             think_s=0.01).start()
    sampling: list[TriageReport] = []
    other = threading.Thread(target=lambda: sampling.append(triage(db, sample_s=2.5)))
    try:
        _under_load(readers, writers)
        wait_until(lambda: _sessions(db, "pgbench") >= 4, what="pgbench's 4 clients")
        other.start()
        wait_until(lambda: _sessions(db, "pgcrisis") >= 1, what="the other pgcrisis sampling")
        report = triage(db, all_databases=True, sample_s=DEFAULT_WINDOW_S)
        other.join(30)
    finally:
        read_lat, write_lat = readers.stop(), writers.stop()
        out, err = bench.communicate(timeout=60)
    assert bench.returncode == 0, err.decode()
    assert b"number of transactions actually processed" in out
    assert read_lat.samples and write_lat.samples, "the load really ran"
    for r in (report, *sampling):
        loud = [f"{f.code}: {f.title}" for f in r.findings if f.severity is not Severity.INFO]
        assert loud == []
        about_us = [f.title for f in r.findings for o in f.objects
                    if (o.name or "").startswith("pgcrisis")]
        assert about_us == []
    _sampled(report)
    assert sampling and sampling[0].snapshot.sample is not None
    assert sampling[0].snapshot.sample.total_calls > 0
