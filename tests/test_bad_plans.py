"""bad-plan on real servers: statements carrying the load, run by several pgbench clients
(``pgbench -f``) over 300,000 customers and 1,200,000 orders (tests/scenarios/plans.py), and
what triage, with its default load window, says of their generic plans.

- a correlated subquery (a SubPlan run per customer, each run an index lookup) and a join on
  a range (a Nested Loop checking every pair) are each named first among the findings about
  statements, by their text and queryid, with the shape, its share of the plan's cost and
  its advice, and ``slow-query`` of the statement is linked to it;
- statements with good plans (index scans) get a plan and no tip, so no bad-plan, even with
  the load thresholds lowered until they would;
- a missing index is one finding: ``missing-index`` wins over the plan's own tip about the
  same scan.

The generic plans come from ``EXPLAIN (GENERIC_PLAN)`` on PostgreSQL 16+ (the wheel's 18)
and from a prepared statement planned generically before (the system's 15): both are run.
Each test takes 10-25 s on the shared 2-core machine, the tables about 5 s once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from pgcrisis.checks.causes import tree
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.collect import probe_plans
from pgcrisis.collect.collector import collect
from pgcrisis.collect.generic_plan import GENERIC_PLAN, NO_PARAMETERS, PREPARED
from pgcrisis.collect.probe_plans import BUDGET_MS, MAX_PLANS
from pgcrisis.collect.session import connect
from pgcrisis.dsn import Target
from pgcrisis.judge import TriageReport
from pgcrisis.model.evidence import of
from pgcrisis.model.evidence_saturation import CpuSaturationEvidence
from pgcrisis.model.findings import Finding, Severity
from pgcrisis.model.load import DEFAULT_WINDOW_S
from pgcrisis.model.parts import PLANS, RELATIONS, STATEMENTS
from pgcrisis.model.plans import StatementPlan
from tests.helpers import PgServer, triage
from tests.scenarios.load import cores, recorded_window
from tests.scenarios.plans import (
    BAND_JOIN,
    BY_REF,
    CUSTOMER_ORDERS,
    LOOKUP,
    SUBQUERY,
    Pgbench,
    queryid,
    reset_statements,
    shop,
)

pytestmark = pytest.mark.needs("pg_stat_statements")

#: the findings about statements: bad-plan must come first among them
STATEMENT_CODES = frozenset({"bad-plan", "missing-index", "slow-query", "jit-overhead"})


@pytest.fixture(scope="module")
def shop_db(pg: PgServer) -> Iterator[str]:
    """A database with the shop's tables, built once for the module."""
    name = f"t_plans_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg.dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"'.encode())
    dsn = pg.dsn_for(name)
    shop(dsn)
    yield dsn
    with psycopg.connect(pg.dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


@pytest.fixture
def shop_now(shop_db: str) -> Iterator[str]:
    """The shop with pg_stat_statements emptied: the test's statements are its own."""
    with psycopg.connect(shop_db, autocommit=True) as conn:
        reset_statements(conn)
    yield shop_db


def _method(pg: PgServer) -> str:
    return GENERIC_PLAN if pg.version_num >= 160000 else PREPARED


def _planned(report: TriageReport, qid: int) -> StatementPlan:
    """The statement's plan, read within the part's bounds."""
    plans = report.snapshot.plans
    assert plans.explains <= MAX_PLANS and plans.elapsed_ms < BUDGET_MS
    plan = plans.of(qid)
    assert plan is not None, [(p.query, p.reason) for p in plans.plans]
    assert plan.reason is None and plan.nodes > 0 and plan.total_cost > 0
    return plan


def _first_about_statements(report: TriageReport) -> Finding:
    about = [f for f in report.findings if f.code in STATEMENT_CODES]
    assert about, [f.title for f in report.findings]
    return about[0]


def _linked_slow_query(report: TriageReport, cause: Finding, qid: int) -> None:
    """slow-query of the statement is a consequence of ``cause``."""
    slow = [i for i, f in enumerate(report.findings) if f.code == "slow-query"
            and any(o.kind == "query" and o.queryid == qid for o in f.objects)]
    assert slow, [f.title for f in report.findings]
    assert report.caused_by[slow[0]] == (report.findings.index(cause),)


def _cpu_first(report: TriageReport, qid: int, shape: str, words: str) -> Finding:
    """cpu-saturation is the first finding above info, names the statement (its queryid and
    text) and its plan's shape, and is caused by the statement's bad-plan."""
    loud = [f for f in report.findings if f.severity is not Severity.INFO]
    assert loud and loud[0].code == "cpu-saturation", [f.title for f in report.findings]
    first = loud[0]
    assert first.objects[0].kind == "query" and first.objects[0].queryid == qid
    assert f"(query {qid}): " in first.title and words in first.title, first.title
    # a live finding's typed record; over a window, its mapping with the window's keys
    ev = of(first.evidence, CpuSaturationEvidence)
    lead = ev.statements[0] if ev is not None else first.evidence["statements"][0]
    assert lead["queryid"] == qid and lead["plan_shape"] == shape and words in lead["plan"]
    assert "its generic plan: " in first.detail
    causes = report.causes_of(first)
    assert [(c.code, c.objects[0].queryid) for c in causes] == [("bad-plan", qid)]
    assert causes[0].evidence["shape"] == shape
    return first


def test_a_correlated_subquery_run_by_more_clients_than_cores_is_named_with_its_shape(
        pg: PgServer, shop_now: str, tmp_path: Path) -> None:
    """cpu-saturation first, naming the statement and its SubPlan; bad-plan, its cause, with
    the advice. Live, and over a recording made meanwhile (the part is read at its full
    samples)."""
    with Pgbench(pg.tool("pgbench"), shop_now, SUBQUERY, "SELECT count(*) FROM customers",
                 clients=4 * cores()):
        report = triage(shop_now, sample_s=DEFAULT_WINDOW_S)
        recorded = recorded_window(shop_now, str(tmp_path / "plans.db"), 6)
    qid = queryid(shop_now, "SELECT count(*) FROM customers")
    assert qid is not None
    words = "SubPlan 1 executed per row of a 300k-row Seq Scan on public.customers"
    _cpu_first(report, qid, "subplan-per-row", words)
    _cpu_first(recorded, qid, "subplan-per-row", words)
    bad = recorded.by_code("bad-plan")
    assert [f.objects[0].queryid for f in bad] == [qid], [f.title for f in recorded.findings]
    assert bad[0].evidence["shape"] == "subplan-per-row" and "started_at" in bad[0].evidence
    plan = _planned(report, qid)
    assert plan.method == _method(pg) and plan.share >= 0.5
    assert plan.tips[0].code == "subplan-per-row" and plan.tips[0].share >= 0.9
    first = _first_about_statements(report)
    assert first.code == "bad-plan", [f.title for f in report.findings]
    assert first.objects[0].kind == "query" and first.objects[0].queryid == qid
    assert first.title.startswith("SELECT count(*) FROM customers c WHERE (SELECT sum(o.")
    assert f"(query {qid})" in first.title and words in first.title
    ev = first.evidence
    assert ev["shape"] == "subplan-per-row" and ev["shape_share"] >= 0.9
    assert 270_000 <= ev["runs"] <= 330_000  # the planner's count of customers
    assert "Bitmap Heap Scan on public.orders" in first.detail or \
        "Index Scan" in first.detail  # each run is already an index lookup
    assert first.remedy is not None
    assert first.remedy.summary.startswith("Rewrite the correlated subquery as a join")
    _linked_slow_query(report, first, qid)
    # root first: what its load makes (CPU saturation, a client's time) is printed beneath it
    root, depth = tree(report.findings, report.caused_by)[0]
    assert (report.findings[root], depth) == (first, 0)


def test_a_nested_loop_over_large_inputs_run_by_more_clients_than_cores_is_named(
        pg: PgServer, shop_now: str) -> None:
    with Pgbench(pg.tool("pgbench"), shop_now, BAND_JOIN, "SELECT count(*) FROM orders o JOIN",
                 clients=4 * cores()):
        report = triage(shop_now, sample_s=DEFAULT_WINDOW_S)
    qid = queryid(shop_now, "SELECT count(*) FROM orders o JOIN")
    assert qid is not None
    words = ("Nested Loop checks each of 1.2M rows of Seq Scan on public.orders against 20 rows"
             " of Seq Scan on public.price_bands")
    _cpu_first(report, qid, "nested-loop-explosion", words)
    plan = _planned(report, qid)
    assert plan.method == _method(pg)
    first = _first_about_statements(report)
    assert first.code == "bad-plan", [f.title for f in report.findings]
    assert first.objects[0].queryid == qid and f"(query {qid})" in first.title
    assert "SELECT count(*) FROM orders o JOIN price_bands b" in first.title
    assert first.evidence["shape"] == "nested-loop-explosion" and words in first.title
    assert first.evidence["shape_share"] >= 0.5 and first.evidence["rows"] >= 1e6  # pairs
    assert first.remedy is not None and "hash or merge join" in first.remedy.summary
    _linked_slow_query(report, first, qid)


def test_statements_with_good_plans_get_no_bad_plan(pg: PgServer, shop_now: str) -> None:
    """Index scans carrying all the load are planned (those the window saw running: a
    0.05 ms lookup may escape its samples), show no tip, and give no bad-plan even with the
    time a statement must take lowered to nothing."""
    with Pgbench(pg.tool("pgbench"), shop_now, LOOKUP + CUSTOMER_ORDERS,
                 "SELECT amount FROM orders WHERE id", clients=4, min_calls=300, min_ms=0.0,
                 application_name="shop-api"):
        report = triage(shop_now, Thresholds(bad_plan_min_ms=0.0), sample_s=DEFAULT_WINDOW_S)
    good = [queryid(shop_now, like) for like in ("SELECT amount FROM orders WHERE id",
                                                 "SELECT c.credit, sum(o.amount)")]
    planned = [_planned(report, qid) for qid in good
               if qid is not None and report.snapshot.plans.of(qid) is not None]
    assert planned, [(p.query, p.reason) for p in report.snapshot.plans.plans]
    assert {p.queryid for p in report.snapshot.plans.plans} <= set(good)
    assert all(p.method == _method(pg) and p.tips == () for p in planned)
    assert report.by_code("bad-plan") == []


def test_a_missing_index_is_one_finding_missing_index_wins(pg: PgServer, shop_now: str) -> None:
    """The plan's own tip names the Seq Scan of orders too; missing-index (the index verified
    with hypopg where it is installed) is the one finding, and slow-query points at it."""
    with Pgbench(pg.tool("pgbench"), shop_now, BY_REF, "SELECT id, amount FROM orders"):
        report = triage(shop_now, sample_s=DEFAULT_WINDOW_S)
    qid = queryid(shop_now, "SELECT id, amount FROM orders")
    assert qid is not None
    plan = _planned(report, qid)
    assert plan.method in (_method(pg), NO_PARAMETERS)
    assert plan.tips and plan.tips[0].code == "missing-index"
    assert plan.tips[0].table == "public.orders" and plan.tips[0].index_columns == ("ref",)
    named = [f for f in report.findings if f.code in STATEMENT_CODES - {"slow-query"}
             and any(o.kind == "query" and o.queryid == qid for o in f.objects)]
    assert [f.code for f in named] == ["missing-index"], [f.title for f in named]
    _linked_slow_query(report, named[0], qid)


def test_plans_are_bounded_in_time_and_say_why_one_is_missing(
        pg: PgServer, shop_now: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plan that cannot be had (its table locked by DDL: planning waits past lock_timeout),
    and the statements after the budget is spent, are kept with the reason; every EXPLAIN
    is counted in the pass's queries."""
    with psycopg.connect(shop_now, autocommit=True) as conn:
        for i in range(1, 30):
            conn.execute("SELECT amount FROM orders WHERE id = %s", (i,))
            conn.execute("SELECT c.credit FROM customers c WHERE c.id = %s", (i,))
    with connect(Target(shop_now, "test")) as conn, \
            psycopg.connect(shop_now) as ddl:
        baseline = collect(conn, parts=[STATEMENTS, RELATIONS])
        ddl.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")  # held until rollback
        locked = collect(conn, parts=[STATEMENTS, RELATIONS, PLANS])
        ddl.rollback()
        monkeypatch.setattr(probe_plans, "BUDGET_MS", 0)
        spent = collect(conn, parts=[STATEMENTS, RELATIONS, PLANS])
    reasons = {p.query.split(" WHERE")[0]: p.reason for p in locked.plans.plans}
    assert reasons == {"SELECT amount FROM orders": (
        "a table it reads is locked: planning it waited past lock_timeout (DDL or another "
        "strong lock holds it)"), "SELECT c.credit FROM customers c": None}
    assert locked.plans.explains == 2
    cleanup = 1 if _method(pg) == PREPARED else 0  # the failed PREPARE's, looked for
    assert locked.query_count == baseline.query_count + 2 + cleanup
    assert spent.plans.explains == 0 and spent.query_count == baseline.query_count
    assert [p.reason for p in spent.plans.plans] == [
        "the 0 s for plans were spent on the statements before it"] * 2
