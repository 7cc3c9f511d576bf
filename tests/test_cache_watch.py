"""`pgcrisis cache watch` on a real server: a burst of writes becomes at most two refreshes
per view, bases first; a worker killed mid-burst loses no dirty mark."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg

from pgcrisis.cache.apply.schema import ensure_schema
from pgcrisis.cache.apply.watch import TRIGGER, Watcher, WatchOptions
from pgcrisis.cache.service import prepare_views
from pgcrisis.dsn import Target
from pgcrisis.lab.app import create_app
from pgcrisis.lab.cache import build_tree
from pgcrisis.lab.scenario import admin_connect

SCALE = 0.02
CALC = "public.mv_customer_totals"
SUMMARY = "public.mv_region_summary"
WRITES = 10_000
WRITERS = 4


def _tree(dsn: str) -> None:
    with admin_connect(dsn) as conn:
        create_app(conn, SCALE)
        build_tree(conn)
    prepare_views(Target(dsn, "test"), apply_steps=True)
    with admin_connect(dsn) as conn:
        ensure_schema(conn)


def _burst(dsn: str, writes: int) -> None:
    """``writes`` single-row INSERTs, each its own statement and transaction, from 4 writers."""
    with admin_connect(dsn) as conn:
        orders = [r[0] for r in conn.execute("SELECT id FROM orders ORDER BY id LIMIT 50")]

    def write(k: int) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            for i in range(writes // WRITERS):
                conn.execute("INSERT INTO order_items (order_id, product, qty, price)"
                             " VALUES (%s, 'burst', 1, 1)", (orders[(i + k) % len(orders)],))

    threads = [threading.Thread(target=write, args=(k,)) for k in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _fresh(dsn: str) -> bool:
    with admin_connect(dsn) as conn:
        row = conn.execute(
            "SELECT (SELECT sum(revenue) FROM mv_customer_totals),"
            " (SELECT sum(qty * price) FROM order_items oi JOIN orders o ON o.id = oi.order_id),"
            " (SELECT sum(revenue) FROM mv_region_summary)").fetchone()
    assert row is not None
    return bool(row[0] == row[1] == row[2])


def _log(dsn: str) -> list[tuple[str, float, float]]:
    with admin_connect(dsn) as conn:
        return [(str(v), float(s), float(f)) for v, s, f in conn.execute(
            "SELECT view, extract(epoch FROM started_at)::float8,"
            " extract(epoch FROM finished_at)::float8 FROM pgcrisis.refresh_log"
            " WHERE status = 'refreshed' AND source = 'watch' ORDER BY id").fetchall()]


def _listening(dsn: str) -> bool:
    with admin_connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM pg_trigger WHERE tgname = %s",
                           (TRIGGER,)).fetchone()
    return bool(row and row[0] == 3)  # on customers, orders and order_items


def _marks(dsn: str) -> int:
    with admin_connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM pgcrisis.dirty").fetchone()
    return int(row[0]) if row else -1


def test_burst_of_writes_gives_at_most_two_refreshes_per_view_bases_first(db: str) -> None:
    _tree(db)
    stop = threading.Event()
    options = WatchOptions(quiet_s=0.5, max_staleness_s=30, max_concurrent=2, poll_s=0.2)
    with Watcher(Target(db, "test"), options) as watcher:
        thread = threading.Thread(target=watcher.run, args=(stop,))
        thread.start()
        _burst(db, WRITES)
        deadline = time.monotonic() + 30
        while _marks(db) and time.monotonic() < deadline:
            time.sleep(0.1)
        stop.set()
        thread.join()
    log = _log(db)
    per_view = {v: sum(1 for name, *_ in log if name == v) for v in (CALC, SUMMARY)}
    assert 1 <= per_view[CALC] <= 2 and 1 <= per_view[SUMMARY] <= 2, per_view
    assert _marks(db) == 0
    assert _fresh(db)
    for i, (view, started, _) in enumerate(log):
        if view == SUMMARY:  # after the refresh of its base just before it
            base = [f for name, _, f in log[:i] if name == CALC]
            assert base and started >= base[-1]


def test_killed_watch_loses_no_dirty_mark(db: str, tmp_path: Path) -> None:
    _tree(db)
    env = {**os.environ, "PGCRISIS_DSN": db}
    command = [sys.executable, "-m", "pgcrisis", "cache", "watch", "--quiet", "0.2",
               "--max-staleness", "0.5", "--poll", "0.1"]
    errors = (tmp_path / "watch.err").open("wb")
    worker = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors)
    try:
        deadline = time.monotonic() + 30
        while not _listening(db) and time.monotonic() < deadline:  # triggers in place
            time.sleep(0.05)
        writer = threading.Thread(target=_burst, args=(db, WRITES // 2))
        writer.start()
        deadline = time.monotonic() + 20
        while not _log(db) and time.monotonic() < deadline:  # it has refreshed mid-burst
            time.sleep(0.02)
        assert _log(db), (tmp_path / "watch.err").read_text()
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        writer.join()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
        errors.close()
    _burst(db, WRITES // 2)  # the rest of the burst, with no worker running
    assert not _fresh(db) and _marks(db) > 0  # writes after the kill are marked, not lost
    # a new worker picks up every mark the dead one left
    with Watcher(Target(db, "test"), WatchOptions(quiet_s=0.1, poll_s=0.1)) as watcher:
        watcher.run(until_idle=True, timeout_s=60)
    assert _marks(db) == 0
    assert _fresh(db)
