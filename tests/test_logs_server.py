"""A real server writes stderr with three prefixes (the Debian one, RDS's, pgBadger's); the
reader infers each, reads its errors with their statement, and counts the FATAL of a refused
connection whose backend then exits (failure classes 1 and 3's RDS prefix)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from pgcrisis.lab.scenario import wait_until
from pgcrisis.logs.read import LogReader
from pgcrisis.logs.statements import tag_of
from tests.helpers import PgServer

PREFIXES = ["%m [%p] %q%u@%d ", "%t:%r:%u@%d:[%p]:",
            "%m [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h "]


@pytest.fixture
def stderr_log(pg: PgServer) -> Iterator[PgServer]:
    """The session's server logging to stderr until the end of the test."""
    if pg.embedded is None:
        pytest.skip("needs the suite's own server (its log directory), not PGCRISIS_TEST_DSN")
    try:
        yield pg
    finally:
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            conn.execute("ALTER SYSTEM RESET log_destination")
            conn.execute("ALTER SYSTEM RESET log_line_prefix")
            conn.execute("SELECT pg_reload_conf()")


def _written_with(pg: PgServer, prefix: str) -> tuple[Path, int]:
    """Set the server's prefix; the stderr file and where the lines written with it start."""
    with psycopg.connect(pg.dsn, autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET log_destination = 'stderr'")
        conn.execute(f"ALTER SYSTEM SET log_line_prefix = '{prefix}'")
        conn.execute("SELECT pg_reload_conf()")

    def active() -> bool:
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            row = conn.execute("SELECT current_setting('log_line_prefix'), "
                               "pg_current_logfile('stderr')").fetchone()
        return row is not None and row[0] == prefix and row[1] is not None

    wait_until(active, what=f"log_line_prefix {prefix!r} in effect")
    with psycopg.connect(pg.dsn, autocommit=True) as conn:
        row = conn.execute("SELECT current_setting('data_directory'), "
                           "pg_current_logfile('stderr')").fetchone()
    assert row is not None
    path = Path(row[0]) / row[1]  # log_directory may be absolute
    return path, path.stat().st_size


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_real_servers_stderr_is_read_with_its_prefix_inferred(
        stderr_log: PgServer, db: str, prefix: str, tmp_path: Path) -> None:
    path, start = _written_with(stderr_log, prefix)
    with (psycopg.connect(db, autocommit=True, application_name="shop") as conn,
          pytest.raises(psycopg.errors.DivisionByZero)):
        conn.execute("SELECT 1/0 -- first line\n  /* view='report' */")
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(db, user="no_such_role", connect_timeout=10).close()
    marker = f"marker-{uuid.uuid4().hex}"
    with psycopg.connect(db, autocommit=True) as conn, pytest.raises(psycopg.DataError):
        conn.execute(f"SELECT '{marker}'::int")
    wait_until(lambda: marker in path.read_text(errors="replace"), what="the marker logged")
    with path.open("rb") as f:
        f.seek(start)
        (tmp_path / "postgresql.log").write_bytes(f.read())
    reader = LogReader([str(tmp_path / "postgresql.log")])
    records = list(reader)
    assert reader.stats.prefix_source == "inferred" and reader.stats.unread.count == 0, (
        reader.stats)
    [division] = [r for r in records if r.message == "division by zero"]
    assert tag_of(division.statement) == "report" and "first line" in division.statement
    [refused] = [r for r in records if "no_such_role" in r.message]
    assert refused.severity == "FATAL"
    assert reader.stats.severities["FATAL"] >= 1 and reader.stats.severities["ERROR"] >= 2
