"""Exclusive-time arithmetic against values computed by hand (see tests/plans/hand.py), on
both parsers (PostgreSQL's indented layout and compact JSON) and the text format."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from pgcrisis.dsn import Target
from pgcrisis.plan import PlanAnalysis, analyse_bytes
from pgcrisis.plan.capture import capture
from pgcrisis.plan.whitespace import Compactor
from tests.plans import hand
from tests.plans.pgformat import dumps

LAYOUTS = {
    "indented": lambda doc: dumps(doc).encode(),
    "compact": lambda doc: json.dumps(doc, separators=(",", ":")).encode(),
    "pretty": lambda doc: json.dumps(doc, indent=4).encode(),
}
PARSERS = {"indented": "nodes", "compact": "nodes", "pretty": "nodes"}

CASES: dict[str, tuple[Callable[[], Any], dict[int, float]]] = {
    "loops-initplan-subplan-cte": (hand.loops_initplan_subplan_cte, {
        1: 15.0, 2: 30.0, 3: 4.0, 4: 5.0, 5: 5.0, 6: 16.0, 7: 15.0, 8: 2.0, 9: 8.0}),
    "nested-ctes-initplan-deep": (hand.nested_ctes_initplan_deep, {
        1: 20.0, 2: 10.0, 3: 40.0, 4: 10.0, 5: 10.0, 6: 80.0, 7: 5.0, 8: 20.0, 9: 5.0}),
    "parallel": (hand.parallel, {1: 2.0, 2: 5.0, 3: 5.0, 4: 40.0}),
    "initplan-below-gather": (hand.initplan_below_gather, {1: 4.0, 2: 6.0, 3: 20.0}),
    "clamp": (hand.clamp, {1: 0.0, 2: 10.5}),
}


def _exclusive(analysis: PlanAnalysis) -> dict[int, float]:
    assert analysis.nodes is not None
    return {n.id: round(n.exclusive_ms, 6) for n in analysis.nodes}


@pytest.mark.parametrize("fast", [False, True], ids=["strict", "nodes"])
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_exclusive_times_match_hand_computed(case: str, layout: str, fast: bool) -> None:
    build, expected = CASES[case]
    parser = PARSERS[layout] if fast else "strict"
    analysis = analyse_bytes(LAYOUTS[layout](build()), name=f"{case}:{layout}", parser=parser)
    assert _exclusive(analysis) == pytest.approx(expected)


def test_time_outside_the_tree_is_split_into_triggers_and_the_rest() -> None:
    summary = analyse_bytes(dumps(hand.loops_initplan_subplan_cte()).encode()).summary
    assert summary.root_ms == pytest.approx(100.0)
    assert summary.triggers_ms == pytest.approx(3.0)
    assert summary.other_ms == pytest.approx(7.0)
    assert summary.execution_ms == pytest.approx(110.0)


def test_loops_multiply_inclusive_time() -> None:
    analysis = analyse_bytes(dumps(hand.loops_initplan_subplan_cte()).encode())
    assert analysis.nodes is not None
    index_scan = analysis.nodes[5]
    assert (index_scan.node_type, index_scan.loops) == ("Index Scan", 1000)
    assert index_scan.inclusive_ms == pytest.approx(20.0)


@pytest.mark.parametrize("layout", ["indented", "compact"])
def test_a_plan_1000_levels_deep(layout: str) -> None:
    # json.dumps itself recurses too deep here: compact with our own streaming compactor.
    text = dumps(hand.deep(1000)).encode()
    if layout == "compact":
        text = b"".join(Compactor().chunks([text]))
        assert b"\n" not in text
    analysis = analyse_bytes(text, parser=PARSERS[layout])
    assert analysis.summary.nodes == 1000
    assert analysis.summary.max_depth == 1000
    assert analysis.summary.root_ms == pytest.approx(1000.0)
    assert analysis.nodes is not None
    assert all(n.exclusive_ms == pytest.approx(1.0) for n in analysis.nodes)
    hottest = analysis.hot_nodes[0]
    assert len(analysis.hot_paths[hottest.id]) == hottest.depth


def test_a_huge_plan_folds_to_its_hot_paths() -> None:
    analysis = analyse_bytes(dumps(hand.deep(300)).encode(), full_tree_limit=50)
    assert analysis.folded
    assert analysis.summary.nodes == 300
    assert len(analysis.hot_nodes) == 25


def test_tips_about_many_partitions_become_one_per_append() -> None:
    scans = [hand.node("Seq Scan", 2.0, rows=10, plan_rows=10, **{
        "Parent Relationship": "Member", "Relation Name": f"events_{i}", "Schema": "public",
        "Alias": f"events_{i}", "Filter": "(events.kind = 7)", "Rows Removed by Filter": 5000})
        for i in range(500)]
    root = hand.node("Append", 1000.0, rows=5000, plan_rows=5000, children=scans)
    analysis = analyse_bytes(dumps(hand.statement(root, 1001.0)).encode())
    tips = [t for t in analysis.tips if t.code == "missing-index"]
    assert len(tips) == 1
    assert tips[0].node == 1
    assert tips[0].title.startswith("500 members of Append #1")
    assert tips[0].saving_ms == pytest.approx(500 * 2.0 * 5000 / 5010, rel=1e-3)
    assert tips[0].sql == ("CREATE INDEX CONCURRENTLY ON public.events_0 (kind)",)


def test_nested_ctes_are_counted_once_and_the_rest_is_unattributed() -> None:
    analysis = analyse_bytes(dumps(hand.nested_ctes_initplan_deep()).encode())
    assert analysis.nodes is not None
    summary = analysis.summary
    assert sum(n.exclusive_ms for n in analysis.nodes) == pytest.approx(200.0)
    assert summary.attributed_ms == pytest.approx(summary.root_ms)
    assert summary.unattributed_ms == pytest.approx(0.0)
    assert summary.other_ms == pytest.approx(10.0)
    assert not any("counted twice" in note for note in analysis.notes)


def test_clamped_time_shows_as_unattributed() -> None:
    summary = analyse_bytes(dumps(hand.clamp()).encode()).summary
    # the parent's children report more than the parent (timing overhead): clamped to 0
    assert summary.attributed_ms <= summary.root_ms + 1e-9
    assert summary.unattributed_ms == pytest.approx(summary.root_ms - summary.attributed_ms)


def test_nested_ctes_on_the_real_server_add_up_to_the_root(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE t AS SELECT g AS x, g % 10 AS k FROM generate_series(1, 50000)"
                     " g; CREATE TABLE u AS SELECT g AS x FROM generate_series(1, 10) g;"
                     " ANALYZE t, u")
    query = ("SELECT * FROM (SELECT * FROM (WITH a AS MATERIALIZED (WITH b AS MATERIALIZED"
             " (SELECT * FROM t) SELECT k, count(*) AS n FROM b GROUP BY k)"
             " SELECT * FROM a WHERE n > 0) s1 OFFSET 0) s"
             " JOIN u ON u.x = s.k WHERE u.x > (SELECT min(x) FROM u)")
    captured = capture(Target(db, "test"), query,
                       settings={"max_parallel_workers_per_gather": "0", "jit": "off"})
    analysis = analyse_bytes(captured.plan_json.encode())
    assert analysis.nodes is not None
    scans = [n for n in analysis.nodes if n.node_type == "CTE Scan"]
    assert len(scans) == 2 and any(n.depth > 0 for n in scans)
    total = sum(n.exclusive_ms for n in analysis.nodes)
    assert total <= analysis.summary.root_ms * 1.01
    assert total >= analysis.summary.root_ms * 0.8
    assert not any("counted twice" in note for note in analysis.notes)
