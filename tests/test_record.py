"""``pgcrisis record`` on a real server: it keeps sampling while a lock queue stands, records a
lost server as events and reconnects, survives kill -9, refuses a second recorder, and triage
of a past moment or window names what was wrong after it ended (on both kinds of store)."""

from __future__ import annotations

import hashlib
import itertools
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgcrisis.dsn import Target
from pgcrisis.errors import StoreError
from pgcrisis.history.service import triage_at, triage_window
from pgcrisis.lab.app import create_app
from pgcrisis.lab.scenario import admin_connect
from pgcrisis.store import open_store
from tests.helpers import PgServer, require
from tests.record_helpers import FAST, Background, central, query, spec  # noqa: F401  (fixtures)
from tests.record_helpers import server_now as _server_now
from tests.scenarios.cache import create_slow_view
from tests.scenarios.locks import IdleTransactionChain


def test_triage_at_names_a_lock_chain_after_it_ended(db: str, spec: str) -> None:  # noqa: F811
    with Background(db, spec) as rec:
        with IdleTransactionChain(db, readers=2) as chain:
            rec.wait_frames(3)
            during = _server_now(db)
            rec.wait_frames(2)
            root = chain.root_pid
        rec.wait_frames(3)
        after = _server_now(db)
    store = open_store(spec, create=False)
    try:
        then = triage_at(store, None, during)
        later = triage_at(store, None, after)
    finally:
        store.close()
    [lock] = then.by_code("blocking-lock")
    assert lock.objects[0].pid == root
    assert then.exit_code >= 1  # the same exit codes as a live triage
    assert then.recording is not None and "as of" in then.recording.line
    assert later.by_code("blocking-lock") == []


def test_samples_keep_coming_while_an_access_exclusive_queue_stands(db: str,
                                                                    tmp_path: Path) -> None:
    with admin_connect(db) as conn:
        create_app(conn, 0.01)
    holder = psycopg.connect(db)
    holder.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
    queued = threading.Thread(target=lambda: _read_orders(db), daemon=True)
    queued.start()
    try:
        with Background(db, str(tmp_path / "r.db")) as rec:
            rec.wait_frames(12)
    finally:
        holder.rollback()
        holder.close()
        queued.join(10)
    store = open_store(str(tmp_path / "r.db"), create=False)
    try:
        cover = store.coverage("test")
        assert cover is not None
        times = [s.server_time for s in store.snapshots("test", *cover)]
    finally:
        store.close()
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)
            if a and b]
    assert len(gaps) >= 10 and max(gaps) <= 2 * FAST.interval_s, gaps


def _read_orders(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute("SELECT count(*) FROM orders")


def _until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    """Poll ``condition`` until it holds (a failure names ``what`` after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.05)


def test_a_finding_that_appears_in_a_fast_sample_buys_one_full_sample_then(
        db: str, tmp_path: Path) -> None:
    """The minute's full sample may come long after a short incident: when a fast sample
    first shows a finding, every part is read at once (``--at`` that moment then has its own
    statements and jobs), once per minute and finding code however long the finding lasts;
    and a full sample comes when asked for."""
    path = str(tmp_path / "r.db")
    with Background(db, path, replace(FAST, slow_every_s=3600.0)) as rec:
        stats = rec.recorder.stats
        rec.wait_frames(2)
        assert (stats.full_frames, stats.extra_full_frames) == (1, 0)
        with IdleTransactionChain(db, readers=2):
            _until(lambda: stats.extra_full_frames >= 1, "full sample for the lock chain")
            rec.wait_frames(12)  # the chain stands (its idle root is news after a second)
            extra = stats.extra_full_frames
            assert extra <= 2, "one per finding code: blocking-lock, idle-in-transaction"
            rec.wait_frames(8)
            assert stats.extra_full_frames == extra  # no more while the findings stay
        request = rec.recorder.request_full()
        _until(lambda: stats.answered == request, "the full sample asked for")
        assert stats.extra_full_frames == extra + 1 and stats.answered_at is not None
        full = stats.full_frames
    assert full == 1 + extra + 1
    assert query(path, "SELECT count(*) FROM frames WHERE kind = 1") == [(full,)]


def test_a_lost_server_is_an_event_and_the_recorder_reconnects(db: str, pg: PgServer,
                                                               tmp_path: Path) -> None:
    store_path = str(tmp_path / "r.db")
    dbname = db.split("dbname=")[1].split(maxsplit=1)[0]
    with Background(db, store_path) as rec:
        rec.wait_frames(2)
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS false')
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                         " WHERE application_name = 'pgcrisis' AND datname = %s", (dbname,))
        _until(lambda: rec.recorder.stats.reconnects >= 2, "a refused reconnection")
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS true')
        rec.wait_frames(2, timeout=40)
    store = open_store(store_path, create=False)
    try:
        kinds = [e.kind for e in store.events("test", datetime.now(UTC) - timedelta(hours=1),
                                              datetime.now(UTC) + timedelta(hours=1))]
    finally:
        store.close()
    assert "disconnect" in kinds and "reconnect" in kinds, kinds
    assert kinds.index("disconnect") < kinds.index("reconnect")


def _cli(*args: str, **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "pgcrisis", *args], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, **kwargs)


def _frames(path: str) -> int:
    """Frames of recording ``r`` so far (0 while the recorder is still creating the file)."""
    try:
        store = open_store(path, create=False)
    except StoreError:
        return 0
    try:
        cover = store.coverage("r")
        return 0 if cover is None else sum(1 for _ in store.snapshots("r", *cover))
    finally:
        store.close()


def _await_frames(path: str, n: int, timeout: float = 30) -> None:
    """Until a recorder subprocess has stored ``n`` frames (or ``timeout`` passes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _frames(path) < n:
        time.sleep(0.2)


@pytest.mark.slow
def test_kill_9_mid_write_then_the_store_opens_and_the_recorder_resumes(
        db: str, tmp_path: Path) -> None:
    path = str(tmp_path / "r.db")
    first = _cli("record", db, "--store", path, "--name", "r", "--interval", "100ms")
    try:
        _await_frames(path, 5)
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=10)
    assert _frames(path) >= 5
    second = _cli("record", db, "--store", path, "--name", "r", "--interval", "100ms",
                  "--duration", "1s")
    _out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    assert "stopped after" in err
    import sqlite3
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_second_recorder_on_the_same_store_and_name_is_refused(db: str,
                                                                  tmp_path: Path) -> None:
    path = str(tmp_path / "r.db")
    first = _cli("record", db, "--store", path, "--name", "r", "--interval", "200ms")
    try:
        _await_frames(path, 1)
        second = _cli("record", db, "--store", path, "--name", "r")
        _out, err = second.communicate(timeout=60)
        assert second.returncode == 3
        lines = err.strip().splitlines()
        assert lines[-1].startswith("pgcrisis: ") and "Traceback" not in err
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=30)
    assert first.returncode == 0


def test_bad_input_is_one_line_and_exit_3_and_the_file_is_untouched(db: str,
                                                                      tmp_path: Path) -> None:
    path = str(tmp_path / "r.db")
    rec = _cli("record", db, "--store", path, "--name", "r", "--interval", "200ms",
               "--duration", "1s")
    rec.communicate(timeout=60)
    assert rec.returncode == 0
    outside = _cli("triage", "--store", path, "--at", "2001-01-01T00:00:00+00:00")
    _out, err = outside.communicate(timeout=60)
    assert outside.returncode == 3 and len(err.strip().splitlines()) == 1
    assert "outside the recording" in err and "covers" in err
    not_a_store = tmp_path / "notes.txt"
    not_a_store.write_text("not a recording\n")
    digest = hashlib.sha256(not_a_store.read_bytes()).hexdigest()
    bad = _cli("triage", "--store", str(not_a_store), "--at", "09:00")
    _out, err = bad.communicate(timeout=60)
    assert bad.returncode == 3 and len(err.strip().splitlines()) == 1, err
    assert hashlib.sha256(not_a_store.read_bytes()).hexdigest() == digest
    unusable = _cli("record", db, "--store", path, "--interval", "nonsense")
    _out, err = unusable.communicate(timeout=60)
    assert unusable.returncode == 3 and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_triage_of_a_window_names_a_refresh_wave_after_it_ended(
        db: str, spec: str) -> None:  # noqa: F811
    with admin_connect(db) as conn:
        for i in range(4):
            create_slow_view(conn, f"mv_wave_{i}", seconds=1.5, rows=10)
    path = spec
    with Background(db, path) as rec:
        rec.wait_frames(2)
        start = _server_now(db)
        threads = [threading.Thread(target=_refresh, args=(db, f"mv_wave_{i}"))
                   for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rec.wait_frames(2)
        end = _server_now(db)
    store = open_store(path, create=False)
    try:
        report = triage_window(store, None, start, end)
    finally:
        store.close()
    [wave] = report.by_code("refresh-wave")
    assert wave.evidence["peak_refreshes"] >= 3
    assert "started_at" in wave.evidence and "peak_at" in wave.evidence


def _refresh(dsn: str, view: str) -> None:
    with psycopg.connect(dsn, autocommit=True, application_name="reports-app") as conn:
        conn.execute(f"REFRESH MATERIALIZED VIEW {view}".encode())


def test_triage_at_names_a_jit_heavy_statement_after_its_counters_are_gone(
        pg: PgServer, db: str, spec: str) -> None:  # noqa: F811
    require(pg, "jit")
    from pgcrisis.lab.queries import JitDominatesViewQuery

    path = spec
    with Background(db, path) as rec, JitDominatesViewQuery(db, scale=0.1):
        rec.wait_frames(6)  # at least one full sample after the statement ran
        during = _server_now(db)
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_statements_reset()")
    store = open_store(path, create=False)
    try:
        report = triage_at(store, None, during)
    finally:
        store.close()
    assert report.by_code("jit-overhead"), [f.code for f in report.findings]


def test_the_store_is_never_the_watched_database_unless_asked(db: str) -> None:
    from pgcrisis.errors import ConfigError
    from pgcrisis.record.service import refuse_watched
    from tests.record_helpers import uri

    with pytest.raises(ConfigError, match="the store is the database being recorded"):
        refuse_watched(uri(db), Target(db, "test"))
    refuse_watched("/tmp/elsewhere.sqlite", Target(db, "test"))  # a file is never the server
    cli = _cli("record", db, "--store", uri(db), "--duration", "1s")
    _out, err = cli.communicate(timeout=60)
    assert cli.returncode == 3 and "being recorded" in err


def test_report_draws_the_window_as_markdown_and_html(db: str, tmp_path: Path) -> None:
    path = str(tmp_path / "r.db")
    with Background(db, path) as rec:
        rec.wait_frames(2)
        start = _server_now(db)
        with IdleTransactionChain(db, readers=2):
            rec.wait_frames(4)
        end = _server_now(db)
    since, until = start.isoformat(), end.isoformat()
    md = _cli("report", "--store", path, "--from", since, "--to", until)
    out, err = md.communicate(timeout=60)
    assert md.returncode == 0, err
    assert "## Incident timeline" in out and "lock waiters" in out and "blocking-lock" in out
    page = tmp_path / "incident.html"
    html = _cli("report", "--store", path, "--from", since, "--to", until, "--format", "html",
                "-o", str(page))
    html.communicate(timeout=60)
    assert html.returncode == 0
    text = page.read_text()
    assert text.startswith("<!doctype html>") and "<svg" in text and "<script" not in text
