"""``pgcrisis record --log``: the errors a real server writes to its log, in each of the three
formats it can write (jsonlog, csvlog, stderr with its ``log_line_prefix``), end up in the
store counted per SQLSTATE, normalized statement, application and sqlcommenter tag.

The session's server logs in jsonlog; for the length of this test it writes csvlog and
stderr beside it (``ALTER SYSTEM``, reset afterwards), so the three followers read the
same errors written by the server itself, nothing hand-made."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from pgcrisis.lab.scenario import wait_until
from pgcrisis.logs.read import records_of
from pgcrisis.store import open_store
from tests.helpers import PgServer

RECORD_S = 12
FORMATS = ("jsonlog", "csvlog", "stderr")
#: a common production prefix (the application is in it, so stderr can name it too)
PREFIX = "%m [%p] %q%u@%d %a "


@pytest.fixture
def every_log_format(pg: PgServer) -> Iterator[Path]:
    """The server's log directory, written in jsonlog, csvlog and stderr until the end."""
    if pg.embedded is None:
        pytest.skip("needs the suite's own server (its log directory), not PGCRISIS_TEST_DSN")
    with psycopg.connect(pg.dsn, autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET log_destination = 'jsonlog,csvlog,stderr'")
        conn.execute(f"ALTER SYSTEM SET log_line_prefix = '{PREFIX}'")
        conn.execute("SELECT pg_reload_conf()")
    try:
        yield pg.embedded.log_dir
    finally:
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            conn.execute("ALTER SYSTEM RESET log_destination")
            conn.execute("ALTER SYSTEM RESET log_line_prefix")
            conn.execute("SELECT pg_reload_conf()")


def test_errors_of_every_log_format_are_counted_by_tag(
        db: str, every_log_format: Path, tmp_path: Path) -> None:
    started = datetime.now(UTC)
    recorders = {}
    for fmt in FORMATS:
        argv = [sys.executable, "-m", "pgcrisis", "record", db,
                "--store", str(tmp_path / f"{fmt}.db"), "--name", "shop",
                "--duration", f"{RECORD_S}s", "--log", str(every_log_format),
                "--log-format", fmt]
        if fmt == "stderr":
            argv += ["--log-line-prefix", PREFIX]
        with (tmp_path / f"{fmt}.err").open("w") as err:
            recorders[fmt] = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err)
    # each follower starts at its file's end: the errors come once every recorder said it
    # started (it says so after its follower has found that end), or ended (checked below)
    for fmt, process in recorders.items():
        wait_until(lambda fmt=fmt, process=process: process.poll() is not None
                   or "Ctrl-C stops" in (tmp_path / f"{fmt}.err").read_text(),
                   what=f"the {fmt} recorder to start")
    with psycopg.connect(db, autocommit=True, application_name="shop-web") as conn:
        for _ in range(3):
            with pytest.raises(psycopg.errors.DivisionByZero):
                conn.execute("SELECT 1/0 /* view='customer_report' */")
        for _ in range(2):
            with pytest.raises(psycopg.errors.UndefinedTable):
                conn.execute("SELECT * FROM no_such_table /* view='orders_page' */")
    with psycopg.connect(db) as conn:
        user, dbname = conn.info.user, conn.info.dbname
    said = {}
    for fmt, process in recorders.items():
        process.wait(timeout=RECORD_S + 60)
        said[fmt] = (tmp_path / f"{fmt}.err").read_text()
        assert process.returncode == 0, f"{fmt}: {said[fmt].strip()}"
    # a stderr log without %e in its prefix has no SQLSTATE to read: counted without, and said
    assert "has no %e" in said["stderr"] and "has no %e" not in said["csvlog"]
    for fmt in FORMATS:
        store = open_store(str(tmp_path / f"{fmt}.db"), create=False)
        try:
            rows = store.log_errors("shop", started - timedelta(minutes=1),
                                    datetime.now(UTC) + timedelta(minutes=1))
        finally:
            store.close()
        ours: Counter[tuple[str, str, str, str]] = Counter()
        who = set()
        for row in rows:
            if row.application == "shop-web":
                ours[(row.severity, row.sqlstate, row.statement, row.tag)] += row.count
                who.add((row.role, row.database))
                assert row.sample, f"{fmt}: a sample message"
        assert who == {(user, dbname)}, f"{fmt}: {who}"
        known = fmt != "stderr"
        assert ours == {
            ("ERROR", "22012" if known else "", "SELECT ?/?", "customer_report"): 3,
            ("ERROR", "42P01" if known else "", "SELECT * FROM no_such_table", "orders_page"): 2,
        }, f"{fmt}: {ours}"


def test_a_verbose_stderr_log_gives_the_sqlstate_in_the_text() -> None:
    """With log_error_verbosity = verbose the SQLSTATE starts the message."""
    lines = ["2026-11-26 09:14:03.250 UTC [42] ERROR:  22012: division by zero",
             "2026-11-26 09:14:03.250 UTC [42] LOCATION:  int4div, int.c:841",
             "2026-11-26 09:14:03.250 UTC [42] STATEMENT:  SELECT 1/0"]
    [record] = records_of(lines, "stderr", "%m [%p] ")
    assert (record.sqlstate, record.message, record.statement) == (
        "22012", "division by zero", "SELECT 1/0")


def test_slow_statements_of_the_log_are_counted_with_their_durations(
        db: str, pg: PgServer, tmp_path: Path) -> None:
    """A statement over ``log_min_duration_statement`` (set for its session) is in the store
    as a slow statement of its view, role and database, its durations summed."""
    from pgcrisis.logs.events import Kind, classify
    from pgcrisis.logs.record import LogRecord

    sample = LogRecord(datetime.now(UTC), "LOG", "00000",
                       "duration: 51.2 ms  statement: SELECT pg_sleep(0.05)")
    event = classify(sample)
    if event is None or event.kind != Kind.SLOW:
        pytest.skip("events.classify does not give slow statements yet (the log-findings "
                    "work fills it)")
    if pg.embedded is None:
        pytest.skip("needs the suite's own server (its log directory), not PGCRISIS_TEST_DSN")
    started = datetime.now(UTC)
    err = tmp_path / "record.err"
    with err.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "pgcrisis", "record", db, "--store", str(tmp_path / "s.db"),
             "--name", "shop", "--duration", f"{RECORD_S}s", "--log", str(pg.embedded.log_dir),
             "--log-format", "jsonlog"], stdout=subprocess.DEVNULL, stderr=out)
    wait_until(lambda: process.poll() is not None or "Ctrl-C stops" in err.read_text(),
               what="the recorder to start")
    with psycopg.connect(db, autocommit=True, application_name="shop-slow") as conn:
        user, dbname = conn.info.user, conn.info.dbname
        conn.execute("SET log_min_duration_statement = 0")
        for _ in range(3):
            conn.execute("SELECT pg_sleep(0.05) /* view='slow_page' */")
    process.wait(timeout=RECORD_S + 60)
    assert process.returncode == 0, err.read_text()
    store = open_store(str(tmp_path / "s.db"), create=False)
    try:
        rows = [r for r in store.log_slow("shop", started - timedelta(minutes=1),
                                          datetime.now(UTC) + timedelta(minutes=1))
                if r.application == "shop-slow" and r.tag == "slow_page"]
    finally:
        store.close()
    assert {(r.statement, r.role, r.database) for r in rows} == {
        ("SELECT pg_sleep(?)", user, dbname)}
    assert sum(r.count for r in rows) == 3
    assert sum(r.total_ms for r in rows) >= 150.0 and max(r.max_ms for r in rows) >= 50.0
