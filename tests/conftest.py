"""Real PostgreSQL for every test: a throwaway cluster the suite starts itself.

Set ``PGCRISIS_TEST_DSN`` to run against a server of your own instead (the role must be able
to create databases). One warm-up connection stops the run loudly if the server is unusable.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from pgcrisis.embedded import EmbeddedServer
from tests.helpers import PgServer

_SERVER: PgServer | None = None

#: what the checks' tests need of the server: room for connection tests, prepared
#: transactions (embedded.py sets max_prepared_transactions = 10) and logical slots
TEST_SETTINGS = {
    "max_connections": "300",
    "max_prepared_transactions": "10",
    "wal_level": "logical",
    "max_replication_slots": "10",
    "max_wal_senders": "10",
}


def _start() -> PgServer:
    external = os.environ.get("PGCRISIS_TEST_DSN")
    if external:
        server = PgServer(external)
    else:
        embedded = EmbeddedServer(settings=TEST_SETTINGS).start()
        server = PgServer(embedded.dsn, unavailable=dict(embedded.unavailable),
                            embedded=embedded)
    try:
        with psycopg.connect(server.dsn, connect_timeout=10) as conn:
            server.version_num = int(conn.execute("SHOW server_version_num").fetchone()[0])  # type: ignore[index]
    except psycopg.Error as exc:
        pytest.exit(f"test server unusable: {exc}", returncode=3)
    return server


@pytest.fixture(scope="session")
def pg() -> Iterator[PgServer]:
    """The session's server (started once, stopped at the end, also on failure)."""
    global _SERVER
    server = _SERVER or _start()
    _SERVER = server
    yield server


def pytest_report_header(config: pytest.Config) -> str:
    where = os.environ.get("PGCRISIS_TEST_DSN")
    return f"pgcrisis test server: {'PGCRISIS_TEST_DSN' if where else 'embedded throwaway cluster'}"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _SERVER is not None and _SERVER.embedded is not None:
        _SERVER.embedded.stop()


@pytest.fixture
def db(pg: PgServer) -> Iterator[str]:
    """A fresh, empty database for one test; its DSN. Dropped afterwards (connections ended)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg.dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield pg.dsn_for(name)
    with psycopg.connect(pg.dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def cron_db(pg: PgServer) -> Iterator[str]:
    """The database pg_cron lives in (the embedded server's app database); jobs removed after."""
    if "pg_cron" in pg.unavailable:
        pytest.fail(f"pg_cron is required by this test: {pg.unavailable['pg_cron']}")
    dsn = pg.dsn
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_cron")
        conn.execute("SELECT cron.unschedule(jobid) FROM cron.job")
        conn.execute("TRUNCATE cron.job_run_details")
    yield dsn
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT cron.unschedule(jobid) FROM cron.job")
        conn.execute("TRUNCATE cron.job_run_details")
