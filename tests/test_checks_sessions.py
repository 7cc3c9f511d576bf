"""Sessions idle in transaction and statements that run too long."""

from __future__ import annotations

import time
from typing import Any

import psycopg

from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.lab.scenario import Worker, wait_until
from pgcrisis.model.findings import Severity
from tests.helpers import only, triage


def _state(dsn: str, pid: int) -> str | None:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
        return row[0] if row else None


def _client_addr(dsn: str) -> str | None:
    """The address the server sees this test's connections come from."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT host(inet_client_addr())").fetchone()
        return row[0] if row else None


def test_idle_transaction_blocking_nobody_is_reported_only_past_the_threshold(db: str) -> None:
    def idle(conn: psycopg.Connection[Any]) -> None:
        with conn.transaction():
            conn.execute("SELECT 1")
            worker.release.wait(60)

    worker = Worker(db, idle, name="idle", application_name="report-builder").start_and_wait()
    try:
        assert worker.pid is not None
        pid = worker.pid
        wait_until(lambda: _state(db, pid) == "idle in transaction", what="idle state")
        assert triage(db).by_code("idle-in-transaction") == []  # default threshold: 60 s
        time.sleep(1.2)
        finding = only(triage(db, Thresholds(idle_in_transaction_s=1.0)), "idle-in-transaction")
    finally:
        worker.cancel()
        worker.join(10)
    assert finding.objects[0].pid == pid
    assert finding.objects[0].name == "report-builder"
    # the client by pg_stat_activity's keys (the worker connects over TCP, as this test does)
    client = finding.objects[1]
    assert (client.kind, client.application_name, client.client_addr) == (
        "client", "report-builder", _client_addr(db))
    assert client.name == f"report-builder@{client.client_addr}"
    assert finding.evidence["blocks"] == 0
    assert finding.remedy is not None and f"pg_terminate_backend({pid})" in finding.remedy.sql[0]


def test_long_running_query(db: str) -> None:
    def sleeper(conn: psycopg.Connection[Any]) -> None:
        conn.execute("SELECT pg_sleep(30)")

    worker = Worker(db, sleeper, name="sleeper", application_name="nightly-report").start_and_wait()
    try:
        assert worker.pid is not None
        pid = worker.pid
        wait_until(lambda: _state(db, pid) == "active", what="the sleep to start")
        time.sleep(1.2)
        report = triage(db, Thresholds(long_running_query_s=1.0,
                                       long_running_query_critical_s=600))
    finally:
        worker.cancel()
        worker.join(10)
    finding = only(report, "long-running-query")
    assert finding.objects[0].pid == pid
    assert finding.severity is Severity.WARNING
    assert "pg_sleep" in finding.detail
    assert finding.remedy is not None
    assert finding.remedy.sql == (f"SELECT pg_cancel_backend({pid})",)


def test_idle_session_caught_between_statements_is_not_news(db: str) -> None:
    """A blocking idle session is reported only once it or its waiter has sat a second."""
    from tests.scenarios.locks import IdleTransactionChain

    with IdleTransactionChain(db, readers=1):
        early = triage(db, Thresholds(idle_blocking_min_s=30.0))
        late = triage(db, Thresholds(idle_blocking_min_s=0.0))
    assert early.by_code("idle-in-transaction") == []
    assert len(late.by_code("idle-in-transaction")) == 1
