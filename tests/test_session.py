"""Diagnostic sessions are safe: named, read-only, short timeouts, and unblockable."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from pgcrisis.collect.session import SessionLimits, connect
from pgcrisis.dsn import Target, redact, resolve
from pgcrisis.errors import ConfigError
from pgcrisis.lab.app import create_app
from pgcrisis.lab.scenario import Worker, wait_until
from tests.helpers import triage


def test_session_is_named_read_only_with_short_timeouts(db: str) -> None:
    with connect(Target(db, "test")) as conn:
        settings = dict(conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN ('application_name',"
            " 'statement_timeout', 'lock_timeout', 'transaction_read_only')").fetchall())
        assert settings == {"application_name": "pgcrisis", "statement_timeout": "5000",
                            "lock_timeout": "100", "transaction_read_only": "on"}
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TABLE nope (id int)")
    limits = SessionLimits(statement_timeout_ms=1500, lock_timeout_ms=50)
    with connect(Target(db, "test"), limits) as conn:
        row = conn.execute("SHOW statement_timeout").fetchone()
        assert row == ("1500ms",)


def test_triage_finishes_while_an_access_exclusive_lock_queue_stands(db: str) -> None:
    """An ALTER TABLE waits behind a long reader; everything after queues behind the ALTER.
    triage inspects that table's statistics and must still finish in seconds."""
    with psycopg.connect(db, autocommit=True) as conn:
        create_app(conn, scale=0.02)
    holding = threading.Event()

    def long_reader(conn: psycopg.Connection[Any]) -> None:
        with conn.transaction():
            conn.execute("SELECT count(*) FROM orders")
            holding.set()
            reader.release.wait(60)

    def ddl(conn: psycopg.Connection[Any]) -> None:
        conn.execute("ALTER TABLE orders ADD COLUMN flagged boolean")

    reader = Worker(db, long_reader, name="reader").start_and_wait()
    holding.wait(10)
    alter = Worker(db, ddl, name="ddl").start_and_wait()
    try:
        with psycopg.connect(db, autocommit=True) as conn:
            wait_until(lambda: bool(conn.execute(
                "SELECT 1 FROM pg_locks WHERE NOT granted AND mode = 'AccessExclusiveLock'"
            ).fetchall()), what="the queued ACCESS EXCLUSIVE lock")
        started = time.perf_counter()
        report = triage(db)
        elapsed = time.perf_counter() - started
    finally:
        for w in (alter, reader):
            w.cancel()
            w.join(10)
    assert elapsed < 10, f"triage took {elapsed:.1f} s behind the lock queue"
    # it diagnosed this database, and read the locked table's statistics rather than skip them
    assert report.snapshot.server.database == conninfo_to_dict(db)["dbname"]
    assert "relations" not in report.snapshot.unavailable
    assert "public.orders" in {t.name for t in report.snapshot.relations.tables}
    assert any(f.code == "blocking-lock" for f in report.findings)


def test_dsn_resolution_order_and_redaction() -> None:
    env = {"PGCRISIS_DSN": "host=a", "DATABASE_URL": "host=b"}
    assert resolve("host=x", env).conninfo == "host=x"
    assert resolve(None, env).source == "PGCRISIS_DSN"
    assert resolve(None, {"DATABASE_URL": "host=b"}).source == "DATABASE_URL"
    assert resolve(None, {}).conninfo == ""
    assert redact("postgres://u:pw@h/db") == "postgres://u:***@h/db"
    with pytest.raises(ConfigError, match="invalid connection string"):
        resolve("host=a password=secret ='", {})
