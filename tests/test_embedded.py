"""The embedded server: newest binaries, private directory and socket, clean stop."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from pgcrisis.embedded import EmbeddedServer, find_binaries


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    """A directory the unprivileged server user can reach (pytest's own is 0700 under root)."""
    path = Path(tempfile.mkdtemp(prefix="pgcrisis-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_starts_privately_and_stops_cleanly(tmp_path: Path) -> None:
    binaries = find_binaries()
    assert binaries is not None, "tests need PostgreSQL server binaries"
    directory = tmp_path / "cluster"
    server = EmbeddedServer(directory=directory, dbname="demo")
    with server:
        assert (server.socket_dir / f".s.PGSQL.{server.port}").exists()
        with psycopg.connect(server.dsn) as conn:
            row = conn.execute(
                "SELECT current_database(), current_setting('log_destination'),"
                " current_setting('listen_addresses')").fetchone()
            assert row == ("demo", "jsonlog", "127.0.0.1")
            preload = conn.execute("SHOW shared_preload_libraries").fetchone()
            assert preload is not None and "pg_stat_statements" in preload[0]
        with psycopg.connect(server.dsn_for("postgres"), autocommit=True) as conn:
            conn.execute("SELECT pg_log_backend_memory_contexts(pg_backend_pid())")
        # the socket inside the directory works too (trust for local connections)
        with psycopg.connect(host=str(server.socket_dir), port=server.port, user="postgres",
                             dbname="demo") as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        proc = server._proc
        assert proc is not None
    assert proc.poll() is not None, "the postmaster must be gone after the with block"
    logs = list((directory / "data" / "log").glob("*.json"))
    assert logs, "jsonlog files are written"
    json.loads(logs[0].read_text().splitlines()[0])


def test_stops_when_the_body_fails(tmp_path: Path) -> None:
    server = EmbeddedServer(directory=tmp_path / "c")
    with pytest.raises(RuntimeError), server:
        raise RuntimeError("test failure inside the with block")
    assert server._proc is None


def test_wrong_password_is_refused(tmp_path: Path) -> None:
    with (EmbeddedServer(directory=tmp_path / "c") as server,
          pytest.raises(psycopg.OperationalError, match="password authentication failed")):
        psycopg.connect(server.dsn_for("app", password="nope"))


def test_falls_back_to_the_pgserver_wheel_and_says_what_is_missing(tmp_path: Path) -> None:
    from tests.helpers import triage

    with EmbeddedServer(directory=tmp_path / "w", backend="pgserver") as server:
        assert {"jit", "pg_cron", "hypopg"} <= set(server.unavailable)
        with psycopg.connect(server.dsn) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("app",)
        report = triage(server.dsn)
        skipped = {s.check: s.reason for s in report.results.skipped}
        assert "pg_stat_statements is not installed" in skipped["jit-overhead"]
