"""No false alarms: a healthy server under a mixed read/write load gives nothing above info."""

from __future__ import annotations

import time
from typing import Any

import psycopg

from pgcrisis.lab.app import create_app
from pgcrisis.lab.users import SimulatedUsers
from pgcrisis.model.findings import Severity
from tests.helpers import PgServer, triage


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
        time.sleep(3)
        report = triage(db)
    finally:
        read_lat, write_lat = readers.stop(), writers.stop()
    assert read_lat.samples and write_lat.samples, "the load really ran"
    loud = [f"{f.code}: {f.title}" for f in report.findings if f.severity is not Severity.INFO]
    assert loud == []
