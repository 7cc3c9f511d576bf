"""The tips a plan's estimates alone support (plan/tips/generic.py), on plans as PostgreSQL
prints them without ANALYZE, and which statements carry the load (model/plans.py): pure, no
server (tests/test_bad_plans.py makes the same shapes on real servers)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pgcrisis.model.load import CpuCount, LoadProfile, StatementLoad
from pgcrisis.model.plans import BY_SESSIONS, BY_WINDOW_TIME, SINCE_RESET, carrying_load
from pgcrisis.model.server import ServerInfo
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.model.statements import Statement, Statements
from pgcrisis.plan import PlanAnalysis, TableStats, analyse_bytes


def _analysed(plan: dict[str, Any], **tables: TableStats) -> PlanAnalysis:
    return analyse_bytes(json.dumps([{"Plan": plan}]).encode(), estimates=True,
                         tables=lambda schema, name: tables.get(name))


def _scan(relation: str, alias: str, cost: float, rows: float, **keys: Any) -> dict[str, Any]:
    return {"Node Type": "Seq Scan", "Relation Name": relation, "Schema": "public",
            "Alias": alias, "Startup Cost": 0.0, "Total Cost": cost, "Plan Rows": rows,
            **keys}


def _lookup_subplan(cost: float = 20.05) -> dict[str, Any]:
    return {"Node Type": "Aggregate", "Parent Relationship": "SubPlan",
            "Subplan Name": "SubPlan 1", "Total Cost": cost, "Plan Rows": 1,
            "Plans": [{"Node Type": "Index Scan", "Parent Relationship": "Outer",
                       "Relation Name": "orders", "Schema": "public", "Alias": "o",
                       "Index Name": "orders_customer_id_idx", "Total Cost": cost - 0.01,
                       "Plan Rows": 4, "Index Cond": "(o.customer_id = c.id)"}]}


def test_a_correlated_subplan_run_per_row_of_a_large_scan() -> None:
    scan = _scan("customers", "c", 2_007_489.27, 667, Filter="((SubPlan 1) > $1)",
                 Plans=[_lookup_subplan()])
    tips = _analysed(scan).tips
    assert [t.code for t in tips] == ["subplan-per-row"]
    tip = tips[0]
    assert tip.title == "SubPlan 1 executed per row of a 100k-row Seq Scan on public.customers"
    assert tip.estimate is not None and 99_000 < tip.estimate.runs < 101_000
    assert tip.estimate.share > 0.99 and tip.severity.value == "critical"
    assert "already reads through Index Scan using orders_customer_id_idx" in tip.detail
    assert tip.saving_ms == 0.0  # no time was measured: none is promised


def test_below_a_limit_only_the_part_the_limit_uses_counts() -> None:
    """A Limit of 10 rows over the same scan: the planner charges it a ten-thousandth of the
    scan, and expects the SubPlan to run about 10 times: no tip."""
    scan = _scan("customers", "c", 2_007_489.27, 100_000, Output=["c.id", "(SubPlan 1)"],
                 Plans=[_lookup_subplan()])
    limit = {"Node Type": "Limit", "Total Cost": 200.75, "Plan Rows": 10,
             "Plans": [{**scan, "Parent Relationship": "Outer"}]}
    assert _analysed(limit).tips == ()
    assert [t.code for t in _analysed(scan).tips] == ["subplan-per-row"]  # the whole scan


def test_a_hashed_or_rarely_run_subplan_is_no_tip() -> None:
    hashed = _scan("orders", "o", 30_000.0, 600_000, Filter="(NOT (hashed SubPlan 1))",
                   Plans=[_lookup_subplan(5000.0)])
    assert _analysed(hashed).tips == ()
    rare = _scan("customers", "c", 250.0, 10, Filter="((SubPlan 1) > $1)",
                 Plans=[_lookup_subplan()])
    assert _analysed(rare).tips == ()


def _nested_loop(inner: dict[str, Any], outer_rows: float = 500_000, **keys: Any
                 ) -> dict[str, Any]:
    return {"Node Type": "Nested Loop", "Join Type": "Inner", "Total Cost": 175_000.0,
            "Plan Rows": 2_000_000, **keys,
            "Plans": [_scan("orders", "o", 11_000.0, outer_rows, **{
                "Parent Relationship": "Outer", "Parallel Aware": True}),
                      {**inner, "Parent Relationship": "Inner"}]}


def test_a_nested_loop_over_every_pair_counts_all_processes() -> None:
    loop = _nested_loop(_scan("price_bands", "b", 1.5, 20),
                        **{"Join Filter": "((o.amount >= b.low) AND (o.amount < b.high))"})
    gather = {"Node Type": "Gather", "Total Cost": 190_000.0, "Plan Rows": 2,
              "Workers Planned": 2, "Plans": [{**loop, "Parent Relationship": "Outer"}]}
    tips = _analysed(gather).tips
    assert [t.code for t in tips] == ["nested-loop-explosion"]
    # 500k rows a process, in two workers and the leader's share: the planner's 2.4
    assert tips[0].title.startswith("Nested Loop checks each of 1.2M rows of Seq Scan on "
                                    "public.orders against 20 rows")
    assert tips[0].estimate is not None and tips[0].estimate.rows == 24_000_000


def test_a_nested_loop_into_an_index_is_no_tip() -> None:
    inner = {"Node Type": "Index Scan", "Relation Name": "customers", "Schema": "public",
             "Alias": "c", "Total Cost": 0.42, "Plan Rows": 1,
             "Index Cond": "(c.id = o.customer_id)"}
    assert _analysed(_nested_loop(inner)).tips == ()


def test_a_filter_keeping_a_few_rows_of_a_large_table_asks_for_its_index() -> None:
    scan = _scan("orders", "orders", 22_700.0, 1, Filter="(orders.ref = $1)")
    tip, = _analysed(scan, orders=TableStats(1_200_000, 7_600)).tips
    assert tip.code == "missing-index"
    assert tip.title == "Seq Scan on public.orders: its filter keeps about 1 of 1.2M rows"
    assert tip.sql == ("CREATE INDEX CONCURRENTLY ON public.orders (ref)",)
    assert tip.estimate is not None and tip.estimate.index_columns == ("ref",)
    assert tip.estimate.relation == ("public", "orders")
    # without the table's size (the catalog's), a plan does not say what the filter removed
    assert _analysed(scan).tips == ()
    # nor is a filter keeping most of the table a missing index
    assert _analysed(_scan("orders", "orders", 22_700.0, 600_000, Filter="(orders.ref > $1)"),
                     orders=TableStats(1_200_000, 7_600)).tips == ()


def test_an_analysed_plan_gets_explains_tips_not_the_estimates() -> None:
    scan = _scan("orders", "orders", 22_700.0, 1, Filter="(orders.ref = $1)",
                 **{"Actual Total Time": 90.0, "Actual Rows": 1, "Actual Loops": 1,
                    "Rows Removed by Filter": 1_199_999})
    tips = _analysed(scan, orders=TableStats(1_200_000, 7_600)).tips
    assert tips and all(t.estimate is None for t in tips)


# -- which statements carry the load --------------------------------------------------------

SERVER = ServerInfo(150000, "15.0", "app", "me", True, 1, {}, {}, frozenset())


def _statement(queryid: int, total_ms: float) -> Statement:
    return Statement(queryid, f"SELECT {queryid}", "app", 10, total_ms, total_ms / 10, 10, 0, 0)


def _window(*statements: StatementLoad) -> LoadProfile:
    return LoadProfile(1.0, 6, CpuCount(2, "test"), statements=statements, statements_s=1.0)


def _snapshot(load: LoadProfile | None) -> Snapshot:
    rows = (_statement(1, 90_000.0), _statement(2, 5_000.0), _statement(3, 5_000.0))
    return Snapshot(SERVER, datetime(2026, 1, 1, tzinfo=UTC), load=load,
                    statements=Statements(rows, db_total_exec_ms=100_000.0))


def _seen(queryid: int, exec_ms: float, active: float) -> StatementLoad:
    return StatementLoad(1.0, exec_ms, 1.0, 0, 0, 0, 0, 0, None, None, queryid=queryid,
                         query="", role=None, active=active)


def test_the_window_says_which_statements_carry_the_load_now() -> None:
    """By the larger of two measures of their time in the window; another database's
    statement (99: not among this database's) is left out; without a window, the time
    since pg_stat_statements' reset."""
    carriers = carrying_load(_snapshot(_window(
        _seen(2, 0.0, 3.0), _seen(3, 900.0, 0.0), _seen(99, 5_000.0, 1.0))), 5)
    assert [(c.statement.queryid, round(c.share, 2), c.measured_by) for c in carriers] == [
        (2, 0.75, BY_SESSIONS), (3, 0.15, BY_WINDOW_TIME)]
    since = carrying_load(_snapshot(None), 2)
    assert [(c.statement.queryid, c.share, c.measured_by) for c in since] == [
        (1, 0.9, SINCE_RESET), (2, 0.05, SINCE_RESET)]
