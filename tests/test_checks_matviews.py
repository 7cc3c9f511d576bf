"""matview-blocking-refresh, matview-concurrent-unready and refresh-spike on a real server.

Each test injects the fault with a lab scenario (whose self-check proves it real), then
asserts what triage says: the finding, its severity, its first object.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pgcrisis.lab.app import create_app
from pgcrisis.lab.blocking_refresh import PlainRefreshBlocksReaders
from pgcrisis.lab.cache import CachedViewTree, build_tree
from pgcrisis.lab.scenario import admin_connect
from pgcrisis.model.findings import ObjectRef, Severity
from pgcrisis.sqlparse.matview_key import group_key
from tests.helpers import only, triage

SCALE = 0.02
CALCULATIONS = "public.mv_customer_totals"
REPORT_VIEWS = ("public.mv_report_01", "public.mv_report_02", "public.mv_report_03")


@pytest.fixture
def tree(cron_db: str) -> Iterator[CachedViewTree]:
    """The cached-view tree with 3 report views, all refreshed by pg_cron at 09:00."""
    scenario = CachedViewTree(cron_db, scale=SCALE, views=3)
    with scenario:
        yield scenario
    scenario.remove()


def test_plain_refresh_blocking_readers_is_critical(db: str) -> None:
    with PlainRefreshBlocksReaders(db, scale=SCALE, readers=3) as scenario:
        assert scenario.refresher is not None
        pid = scenario.refresher.pid
        report = triage(db)
        finding = only(report, "matview-blocking-refresh")
        assert finding.severity is Severity.CRITICAL
        assert finding.objects[0] == ObjectRef(kind="matview", name=CALCULATIONS)
        assert finding.objects[1].kind == "backend" and finding.objects[1].pid == pid
        assert finding.evidence["readers_waiting"] == 3
        assert finding.evidence["lock"] == "held"
        assert "public.v_customer_report" in finding.evidence["blocked_views"]
        assert finding.remedy is not None
        # the refresh is done but its transaction idles: only terminating it frees the lock
        assert finding.remedy.sql[0] == f"SELECT pg_terminate_backend({pid})"
        assert any("UNIQUE INDEX" in s and "(customer_id)" in s for s in finding.remedy.sql)

        before = scenario.measure()
        with admin_connect(db) as conn:
            for statement in finding.remedy.sql:
                conn.execute(statement.encode())
        after = scenario.measure()
    assert before.value >= 300
    assert after.improved_over(before) and after.value < 250
    assert not triage(db).by_code("matview-blocking-refresh")


def test_refresh_waiting_for_its_lock_still_names_the_refresh(db: str) -> None:
    with PlainRefreshBlocksReaders(db, scale=SCALE, readers=2, awaiting=True) as scenario:
        assert scenario.refresher is not None
        report = triage(db)
        finding = only(report, "matview-blocking-refresh")
        assert finding.severity is Severity.CRITICAL
        assert finding.objects[0] == ObjectRef(kind="matview", name=CALCULATIONS)
        assert finding.objects[1].pid == scenario.refresher.pid
        assert finding.evidence["lock"] == "awaited"
        assert finding.evidence["readers_waiting"] == 2
        assert finding.remedy is not None
        assert finding.remedy.sql[0] == f"SELECT pg_cancel_backend({scenario.refresher.pid})"


def test_scheduled_plain_refreshes_are_one_warning_listing_every_job(
        tree: CachedViewTree) -> None:
    report = triage(tree.dsn)
    [finding] = report.by_code("matview-blocking-refresh")  # the tree's job and 3 report jobs
    jobs = sorted(j.jobid for j in report.snapshot.cron.jobs)
    assert finding.severity is Severity.WARNING
    assert finding.title == "4 cron jobs refresh 5 materialized views without CONCURRENTLY at 09:00"
    assert [o.id for o in finding.objects if o.kind == "job"] == jobs
    assert {o.name for o in finding.objects if o.kind == "matview"} == {
        CALCULATIONS, "public.mv_region_summary", *REPORT_VIEWS}
    assert finding.evidence["grouped"] == 4 and finding.evidence["jobs"] == jobs
    assert finding.evidence["schedules"] == ["0 9 * * *"]
    # each job's own finding is kept: the one refreshing two views first (most impact)
    items = finding.evidence["items"]
    assert sorted(i["objects"][0]["id"] for i in items) == jobs
    calc = items[0]
    assert calc["objects"][0]["name"] == "pgcrisis-lab-refresh-calculations"
    assert calc["objects"][2] == {"kind": "matview", "name": "public.mv_region_summary"}
    assert set(calc["evidence"]["blocked_views"]) == {
        "public.v_customer_report", "public.v_region_report"}
    assert calc["remedy_sql"][0].startswith("CREATE UNIQUE INDEX CONCURRENTLY")
    calc_job = calc["objects"][0]["id"]
    assert calc["remedy_sql"][-1] == (
        f"SELECT cron.alter_job({calc_job}, command := 'REFRESH MATERIALIZED VIEW "
        f"CONCURRENTLY {CALCULATIONS}; REFRESH MATERIALIZED VIEW CONCURRENTLY "
        "public.mv_region_summary')")
    # the group's remedy: every job's statements, in order, once each
    assert finding.remedy is not None
    assert list(finding.remedy.sql) == list(dict.fromkeys(
        s for i in items for s in i["remedy_sql"]))

    # the remedy works: indexes, then the job's command refreshes concurrently
    with admin_connect(tree.dsn) as conn:
        for statement in calc["remedy_sql"]:
            conn.execute(statement.encode())
        command = conn.execute("SELECT command FROM cron.job WHERE jobid = %s",
                               (calc_job,)).fetchone()
        assert command is not None
        conn.execute(command[0].encode())
    after = triage(tree.dsn)
    assert not [o for f in after.by_code("matview-blocking-refresh") for o in f.objects
                if o.kind == "job" and o.id == calc_job]
    assert not [o for f in after.by_code("matview-concurrent-unready") for o in f.objects
                if o.name == CALCULATIONS]


def test_refresh_spike_at_nine(tree: CachedViewTree) -> None:
    report = triage(tree.dsn)
    finding = only(report, "refresh-spike")
    assert finding.severity is Severity.WARNING
    first_job = min(j.jobid for j in report.snapshot.cron.jobs)
    assert finding.objects[0] == ObjectRef(kind="job", id=first_job,
                                           name="pgcrisis-lab-refresh-calculations")
    assert finding.evidence["peak"] == 4
    assert finding.evidence["starting_together"] == 4
    assert finding.evidence["peak_at"] == "09:00"
    assert finding.evidence["lower_bound"] == 1
    assert finding.evidence["durations_known"] == 4

    before = tree.measure()
    assert finding.remedy is not None and len(finding.remedy.sql) == 4
    with admin_connect(tree.dsn) as conn:
        for statement in finding.remedy.sql:
            conn.execute(statement.encode())
    after = tree.measure()
    assert (before.value, after.value) == (4, 1)
    assert not triage(tree.dsn).by_code("refresh-spike")


def test_unready_matviews_refreshed_by_jobs_are_one_warning(tree: CachedViewTree) -> None:
    report = triage(tree.dsn)
    [finding] = report.by_code("matview-concurrent-unready")
    views = {CALCULATIONS, "public.mv_region_summary", *REPORT_VIEWS}
    assert finding.severity is Severity.WARNING
    assert finding.title.startswith("5 materialized views cannot be refreshed CONCURRENTLY")
    assert "(refreshed by 4 cron jobs)" in finding.title
    assert {o.name for o in finding.objects if o.kind == "matview"} == views
    assert len([o for o in finding.objects if o.kind == "job"]) == 4
    items = {i["objects"][0]["name"]: i for i in finding.evidence["items"]}
    assert set(items) == views
    calc = items[CALCULATIONS]
    assert calc["severity"] == "warning"
    assert calc["objects"][1]["kind"] == "job"
    assert calc["evidence"]["key_columns"] == ["customer_id"]
    assert calc["evidence"]["key_from"] == "definition"
    assert "public.mv_region_summary" in calc["evidence"]["dependents"]


def test_unready_matview_nobody_refreshes_is_info_and_a_proper_index_is_quiet(db: str) -> None:
    with admin_connect(db) as conn:
        create_app(conn, SCALE)
        build_tree(conn)
    finding = only(triage(db), "matview-concurrent-unready")
    assert finding.severity is Severity.INFO
    assert finding.objects[0] == ObjectRef(kind="matview", name=CALCULATIONS)
    assert len(finding.objects) == 2  # and mv_region_summary
    assert finding.remedy is not None and len(finding.remedy.sql) == 2

    with admin_connect(db) as conn:
        for statement in finding.remedy.sql:
            conn.execute(statement.encode())
    assert not triage(db).by_code("matview-concurrent-unready")


def test_matviews_probe_walks_matview_to_view_to_matview(db: str) -> None:
    with admin_connect(db) as conn:
        create_app(conn, SCALE)
        build_tree(conn)
    mv = triage(db).snapshot.matviews
    assert mv.blocked_views(CALCULATIONS) == ("public.v_customer_report", "public.v_region_report")
    assert set(mv.dependents(CALCULATIONS)) == {
        "public.v_customer_report", "public.v_region_report", "public.mv_region_summary"}
    assert mv.blocked_views("public.mv_region_summary") == ()


def test_matviews_probe_does_not_queue_behind_a_locked_table(db: str) -> None:
    """pg_get_viewdef locks what a view reads: views over a table under DDL are skipped."""
    with admin_connect(db) as conn:
        create_app(conn, SCALE)
        build_tree(conn)
    with admin_connect(db, autocommit=False) as ddl:
        ddl.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
        report = triage(db)
        ddl.rollback()
    assert "matviews" not in report.snapshot.unavailable
    calc = report.snapshot.matviews.get(CALCULATIONS)
    assert calc is not None and calc.key_from == "statistics"
    assert report.duration_ms < 2000


@pytest.mark.parametrize(("definition", "key"), [
    ("SELECT o.customer_id, count(*) AS n FROM orders o GROUP BY o.customer_id", ("customer_id",)),
    ("SELECT oi.product, o.status, sum(oi.qty) AS qty FROM order_items oi JOIN orders o"
     " ON o.id = oi.order_id GROUP BY oi.product, o.status", ("product", "status")),
    ("SELECT region AS r, count(*) FROM customers GROUP BY 1", ("r",)),
    ("SELECT date_trunc('day', created_at) AS day, count(*) FROM orders"
     " GROUP BY date_trunc('day', created_at)", ("day",)),
    ("SELECT DISTINCT ON (customer_id) customer_id, id FROM orders", ("customer_id",)),
    ("SELECT DISTINCT region, name FROM customers", ("region", "name")),
    ("SELECT region, count(*) FROM customers GROUP BY ROLLUP (region)", ()),
    ("SELECT upper(region), count(*) FROM customers GROUP BY upper(region)", ()),
    ("SELECT id FROM orders UNION SELECT id FROM order_items", ()),
    ("SELECT * FROM customers", ()),
])
def test_row_key_from_definition(definition: str, key: tuple[str, ...]) -> None:
    assert group_key(definition) == key


def test_unpopulated_matview_with_a_key_needs_one_plain_refresh(db: str) -> None:
    with admin_connect(db) as conn:
        create_app(conn, SCALE)
        conn.execute("CREATE MATERIALIZED VIEW mv_regions AS SELECT DISTINCT region FROM customers"
                     " WITH NO DATA")
        conn.execute("CREATE UNIQUE INDEX ON mv_regions (region)")
    finding = only(triage(db), "matview-concurrent-unready")
    assert finding.severity is Severity.INFO
    assert finding.objects[0] == ObjectRef(kind="matview", name="public.mv_regions")
    assert "not populated" in finding.title
    assert finding.remedy is not None
    assert finding.remedy.sql == ("REFRESH MATERIALIZED VIEW public.mv_regions",)
