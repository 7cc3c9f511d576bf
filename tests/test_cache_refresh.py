"""`pgcrisis cache` graph and refresh on a real server: chains through plain views, cycles,
concurrent refreshes that never block readers, and one refresh at a time per view."""

from __future__ import annotations

import threading
import time

import psycopg

from pgcrisis.cache.apply.refresh import BUSY, REFRESHED, UNREADY, RefreshOptions
from pgcrisis.cache.apply.schema import ensure_schema
from pgcrisis.cache.service import catalog, refresh_views
from pgcrisis.dsn import Target
from pgcrisis.lab.app import create_app
from pgcrisis.lab.cache import build_tree
from pgcrisis.lab.scenario import admin_connect, wait_until
from tests.scenarios.cache import build_cycle, create_slow_view

SCALE = 0.02
CALC = "public.mv_customer_totals"
SUMMARY = "public.mv_region_summary"


def _refreshes(dsn: str) -> list[tuple[str, str, float, float]]:
    with admin_connect(dsn) as conn:
        rows = conn.execute(
            "SELECT view, status, extract(epoch FROM started_at)::float8,"
            " extract(epoch FROM finished_at)::float8 FROM pgcrisis.refresh_log ORDER BY id"
        ).fetchall()
    return [(str(a), str(b), float(c), float(d)) for a, b, c, d in rows]


def test_chain_through_plain_views_is_found_and_refreshed_base_first(db: str) -> None:
    with admin_connect(db) as conn:
        create_app(conn, SCALE)
        build_tree(conn)
        conn.execute("CREATE UNIQUE INDEX ON mv_customer_totals (customer_id)")
        conn.execute("CREATE UNIQUE INDEX ON mv_region_summary (region)")
    cat = catalog(Target(db, "test"))
    assert cat.graph.bases[SUMMARY] == (CALC,)
    assert cat.graph.via[(SUMMARY, CALC)] == ("public.v_region_report",
                                               "public.v_customer_report")
    assert cat.graph.levels == {CALC: 0, SUMMARY: 1}
    # named by search path, dependents pulled in, base first
    run = refresh_views(Target(db, "test"), ["mv_customer_totals"], with_dependents=True)
    assert run.order == (CALC, SUMMARY)
    assert [(o.view, o.status, o.concurrently) for o in run.outcomes] == [
        (CALC, REFRESHED, True), (SUMMARY, REFRESHED, True)]
    log = _refreshes(db)
    assert [v for v, *_ in log] == [CALC, SUMMARY]
    assert log[1][2] >= log[0][3]  # the dependent started after its base finished


def test_cycle_is_reported_not_looped_on(db: str) -> None:
    with admin_connect(db) as conn:
        build_cycle(conn)
    cat = catalog(Target(db, "test"))
    assert cat.graph.cycles == (("public.mv_cycle_a", "public.mv_cycle_b"),)
    assert cat.graph.order() == ()
    run = refresh_views(Target(db, "test"), ["mv_cycle_a"], with_dependents=True)
    assert run.outcomes == ()
    assert run.stuck == ("public.mv_cycle_a", "public.mv_cycle_b")


def test_unready_view_is_not_refreshed_plainly_unless_allowed(db: str) -> None:
    with admin_connect(db) as conn:
        create_slow_view(conn, "mv_plain", seconds=0, key=False)
    run = refresh_views(Target(db, "test"), ["public.mv_plain"])
    assert run.outcomes[0].status == UNREADY
    run = refresh_views(Target(db, "test"), ["mv_plain"],
                        options=RefreshOptions(allow_plain=True))
    assert (run.outcomes[0].status, run.outcomes[0].concurrently) == (REFRESHED, False)


def _timed_read(dsn: str) -> float:
    with admin_connect(dsn) as conn:
        conn.execute("SET statement_timeout = 10000")
        t0 = time.perf_counter()
        conn.execute("SELECT count(*) FROM mv_slow")
        return time.perf_counter() - t0


def _running(dsn: str, query_like: str, *, sleeping: bool = False) -> bool:
    """Whether a session is running a statement like ``query_like`` (in ``pg_sleep``)."""
    with admin_connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
                           " AND query ILIKE %s AND (NOT %s OR wait_event = 'PgSleep')",
                           (query_like, sleeping)).fetchone()
    return bool(row and row[0])


def _refresh_started(dsn: str) -> None:
    wait_until(lambda: _running(dsn, "refresh materialized view%"), timeout=5,
               what="the refresh to start")


def test_plain_refresh_blocks_a_reader_but_cache_refresh_does_not(db: str) -> None:
    with admin_connect(db) as conn:
        create_slow_view(conn, "mv_slow", seconds=1.0)

    def plain() -> None:
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute("REFRESH MATERIALIZED VIEW mv_slow")

    thread = threading.Thread(target=plain)
    thread.start()
    _refresh_started(db)
    blocked = _timed_read(db)
    thread.join()
    assert blocked > 0.6  # waited for the plain refresh's ACCESS EXCLUSIVE lock

    thread = threading.Thread(target=lambda: refresh_views(Target(db, "test"), ["mv_slow"]))
    thread.start()
    _refresh_started(db)
    passed = _timed_read(db)
    assert thread.is_alive()  # the reader's query completed during the refresh
    thread.join()
    assert passed < 0.5
    assert [s for v, s, *_ in _refreshes(db)] == [REFRESHED]


def test_two_refreshes_of_one_view_at_once_refresh_it_once(db: str) -> None:
    with admin_connect(db) as conn:
        create_slow_view(conn, "mv_slow", seconds=1.0)
    results: list[str] = []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        outcome = refresh_views(Target(db, "test"), ["mv_slow"]).outcomes[0]
        results.append(outcome.status)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [BUSY, REFRESHED]
    assert sorted(s for _, s, *_ in _refreshes(db)) == [BUSY, REFRESHED]


def test_pg_cron_chain_waits_for_a_base_in_another_lane(db: str) -> None:
    """What a planned pg_cron lane runs: the dependent's lane waits for its base's lane."""
    with admin_connect(db) as conn:
        create_app(conn, SCALE)
        build_tree(conn)
        conn.execute("CREATE UNIQUE INDEX ON mv_customer_totals (customer_id)")
        conn.execute("CREATE UNIQUE INDEX ON mv_region_summary (region)")
        ensure_schema(conn)

    def chain(views: str, waits: str) -> None:
        with admin_connect(db) as conn:
            conn.execute(f"CALL pgcrisis.refresh_chain(ARRAY[{views}], ARRAY[{waits}],"
                         " '00:00'::time, 30)".encode())

    dependent = threading.Thread(target=chain, args=(f"'{SUMMARY}'", f"'{CALC}'"))
    dependent.start()
    wait_until(lambda: _running(db, "CALL pgcrisis.refresh_chain%", sleeping=True),
               what="the dependent's lane to wait for its base")
    assert dependent.is_alive() and _refreshes(db) == []
    chain(f"'{CALC}'", "''")
    dependent.join()
    log = _refreshes(db)
    assert [(v, s) for v, s, *_ in log] == [(CALC, REFRESHED), (SUMMARY, REFRESHED)]
    assert log[1][2] >= log[0][3]
