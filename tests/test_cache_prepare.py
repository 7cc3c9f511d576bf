"""`pgcrisis cache prepare` on a real server: verified key indexes, refusals explained."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from pgcrisis.cache.apply.refresh import REFRESHED
from pgcrisis.cache.keys import declared_key
from pgcrisis.cache.service import catalog, prepare_views, refresh_views
from pgcrisis.cli.main import cli
from pgcrisis.dsn import Target
from pgcrisis.lab.app import create_app
from pgcrisis.lab.cache import build_tree
from pgcrisis.lab.scenario import admin_connect
from tests.helpers import triage

SCALE = 0.02


def test_prepare_makes_the_tree_concurrent_ready(db: str) -> None:
    with admin_connect(db) as conn:
        create_app(conn, SCALE)
        build_tree(conn)
    target = Target(db, "test")
    dry = prepare_views(target)
    steps = {s.view: s for s in dry.steps}
    assert steps["public.mv_customer_totals"].status == "index"
    assert steps["public.mv_customer_totals"].key == ("customer_id",)
    assert steps["public.mv_customer_totals"].key_from == "definition"
    assert steps["public.mv_region_summary"].key == ("region",)
    assert steps["public.mv_region_summary"].key_from == "data"
    # a dry run changes nothing (and the catalogue does see both views: not vacuously true)
    tree = {"public.mv_customer_totals", "public.mv_region_summary"}
    assert {v.name: v.concurrent_ready for v in catalog(target).matviews.views} == dict.fromkeys(
        tree, False)

    run = prepare_views(target, apply_steps=True)
    assert [error for _, error in run.applied] == ["", ""]
    assert {v.name: v.concurrent_ready for v in catalog(target).matviews.views} == dict.fromkeys(
        tree, True)
    refreshed = refresh_views(target, ["mv_customer_totals"], with_dependents=True)
    assert [(o.status, o.concurrently) for o in refreshed.outcomes] == [(REFRESHED, True)] * 2
    again = prepare_views(target)
    assert {s.status for s in again.steps} == {"ready"}


def test_prepare_refuses_a_declared_key_that_is_not_unique(db: str) -> None:
    with admin_connect(db) as conn:
        create_app(conn, SCALE)
        conn.execute("CREATE MATERIALIZED VIEW mv_orders AS SELECT customer_id, status, id"
                     " FROM orders")
        conn.execute("COMMENT ON MATERIALIZED VIEW mv_orders IS"
                     " 'Orders for the report. pgcrisis key: customer_id'")
    run = prepare_views(Target(db, "test"), ["mv_orders"], apply_steps=True)
    step = run.steps[0]
    assert (step.status, step.key, step.key_from) == ("refused", ("customer_id",), "declared")
    assert "duplicate" in step.reason
    assert run.applied == ()
    with admin_connect(db) as conn:
        row = conn.execute("SELECT count(*) FROM pg_index WHERE indrelid = 'mv_orders'::regclass"
                           ).fetchone()
    assert row == (0,)


@pytest.mark.parametrize(("comment", "key"), [
    ("pgcrisis key: a", ("a",)),
    ("x. PGCRISIS KEY = (a, \"b\")", ("a", "b")),
    ("", ()),
])
def test_declared_key(comment: str, key: tuple[str, ...]) -> None:
    assert declared_key(comment) == key


def test_a_key_column_named_order_is_quoted_in_the_remedy_and_in_prepare(db: str) -> None:
    """A reserved word as the key: the triage remedy and `cache prepare` build the same
    statement, and it runs (a bare `(order)` would be a syntax error)."""
    with admin_connect(db) as conn:
        create_app(conn, SCALE)
        conn.execute('CREATE MATERIALIZED VIEW mv_by_order AS SELECT s."order", sum(s.qty) AS qty'
                     ' FROM (SELECT order_id AS "order", qty FROM order_items) s'
                     ' GROUP BY s."order"')
    finding = next(f for f in triage(db).by_code("matview-concurrent-unready")
                   if any(o.name == "public.mv_by_order" for o in f.objects))
    assert finding.remedy is not None
    create = ('CREATE UNIQUE INDEX CONCURRENTLY mv_by_order_order_key'
              ' ON public.mv_by_order ("order")')
    assert create in finding.remedy.sql
    with admin_connect(db) as conn:
        conn.execute(create)  # the remedy as shown runs
        conn.execute("DROP INDEX mv_by_order_order_key")

    target = Target(db, "test")
    step = prepare_views(target, ["mv_by_order"]).steps[0]
    assert (step.status, step.key, step.sql) == ("index", ("order",), (create,))
    code = CliRunner().invoke(cli, ["cache", "prepare", "mv_by_order", "--apply",
                                    "--dsn", db]).exit_code
    assert code == 0
    view = next(v for v in catalog(target).matviews.views if v.name == "public.mv_by_order")
    assert view.concurrent_ready
