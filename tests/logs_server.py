"""Lines a real server wrote to its log, for the transport tests to wrap and unwrap: the
session's server writes stderr (with a prefix), csvlog and jsonlog for the length of one
fixture, and is made to log messages of every shape a transport must carry (one line, a
DETAIL on two lines, a multi-line statement, lines longer than syslog's 900-byte chunks,
with and without spaces, with multibyte characters)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from pgcrisis.lab.scenario import wait_until
from tests.helpers import PgServer

PREFIX = "%m [%p] %q%u@%d %a "
MARKER = "transport-end-marker"
WORDS = " ".join(f"word{i}" for i in range(400))
STATEMENTS = (
    "SELECT 1/0",
    "SELECT 1,\n  2/0\n  -- two lines more",
    "DO $$ BEGIN RAISE EXCEPTION 'boom' USING DETAIL = 'line one' || chr(10) || 'line two',"
    " HINT = 'a hint'; END $$",
    f"SELECT 1/0 /* {WORDS} */",
    "SELECT 1/0 /* " + "x" * 2000 + " */",
    "SELECT 'é€日本'::text, 1/0 /* " + "日本語" * 400 + " */",
    f"SELECT '{MARKER}'::int",
)


@dataclass(frozen=True)
class ServerLog:
    """What the server wrote while the fixture ran, in each format."""

    stderr: list[str]
    csvlog: list[str]
    jsonlog: list[str]

    def csv_rows(self) -> list[list[str]]:
        return list(csv.reader("\n".join(self.csvlog).splitlines(keepends=True)))


def _sizes(log_dir: Path) -> dict[Path, int]:
    return {p: p.stat().st_size for p in log_dir.iterdir() if p.is_file()}


def _new_lines(log_dir: Path, before: dict[Path, int], suffix: str) -> list[str]:
    lines: list[str] = []
    for path in sorted(log_dir.glob(f"*{suffix}"), key=lambda p: (p.stat().st_mtime, p.name)):
        with path.open("rb") as f:
            f.seek(before.get(path, 0))
            lines += f.read().decode("utf-8").splitlines()
    return lines


def _written(log_dir: Path, before: dict[Path, int], suffixes: tuple[str, ...]) -> bool:
    return all(any(MARKER in line for line in _new_lines(log_dir, before, s)) for s in suffixes)


@pytest.fixture(scope="module")
def server_log(pg: PgServer) -> Iterator[ServerLog]:
    """The lines the session's server wrote (stderr, csvlog, jsonlog) for STATEMENTS."""
    if pg.embedded is None:
        pytest.skip("needs the suite's own server (its log directory), not PGCRISIS_TEST_DSN")
    log_dir = pg.embedded.log_dir
    destinations = "stderr,csvlog,jsonlog" if pg.version_num >= 150000 else "stderr,csvlog"
    suffixes = (".log", ".csv", ".json") if pg.version_num >= 150000 else (".log", ".csv")
    with psycopg.connect(pg.dsn, autocommit=True) as conn:
        conn.execute(f"ALTER SYSTEM SET log_destination = '{destinations}'")
        conn.execute(f"ALTER SYSTEM SET log_line_prefix = '{PREFIX}'")
        conn.execute("SELECT pg_reload_conf()")
    try:
        with psycopg.connect(pg.dsn, autocommit=True, application_name="transport") as conn:
            # the reload has reached this new backend: it logs with the prefix
            wait_until(lambda: conn.execute("SHOW log_line_prefix").fetchone() == (PREFIX,),
                       what="the new log_line_prefix")
            # and the logging collector has opened a file for each destination
            wait_until(lambda: all(any(log_dir.glob(f"*{s}")) for s in suffixes),
                       what="a log file for each destination")
            before = _sizes(log_dir)
            for statement in STATEMENTS:
                with pytest.raises(psycopg.Error):
                    conn.execute(statement.encode())
        wait_until(lambda: _written(log_dir, before, suffixes), what="the server's log lines")
        yield ServerLog(_new_lines(log_dir, before, ".log"), _new_lines(log_dir, before, ".csv"),
                        _new_lines(log_dir, before, ".json"))
    finally:
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            conn.execute("ALTER SYSTEM RESET log_destination")
            conn.execute("ALTER SYSTEM RESET log_line_prefix")
            conn.execute("SELECT pg_reload_conf()")
