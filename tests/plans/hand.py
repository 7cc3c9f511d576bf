"""Hand-written plans whose exclusive times are computed by hand in the tests.

Each builder returns the document psql would print (a one-element list). Only the keys the
analysis reads are filled; numbers are chosen so the arithmetic is easy to check by eye.
"""

from __future__ import annotations

from typing import Any

Node = dict[str, Any]


def node(node_type: str, total: float, loops: float = 1, rows: float = 1, plan_rows: float = 1,
         children: list[Node] | None = None, **extra: Any) -> Node:
    """A plan node with ANALYZE figures (``total`` is Actual Total Time per loop)."""
    out: Node = {"Node Type": node_type}
    for key in ("Parent Relationship", "Subplan Name"):
        if key in extra:
            out[key] = extra.pop(key)
    out.update({"Parallel Aware": False, "Startup Cost": 0.0, "Total Cost": 100.0,
                "Plan Rows": plan_rows, "Plan Width": 4, "Actual Startup Time": 0.0,
                "Actual Total Time": total, "Actual Rows": rows, "Actual Loops": loops})
    out.update(extra)
    if children:
        out["Plans"] = children
    return out


def statement(root: Node, execution: float, **extra: Any) -> list[dict[str, Any]]:
    """psql's array around one plan."""
    doc: dict[str, Any] = {"Plan": root, "Planning Time": 0.5}
    doc.update(extra)
    doc["Execution Time"] = execution
    return [doc]


def loops_initplan_subplan_cte() -> list[dict[str, Any]]:
    """Loops, an InitPlan used deep down, a SubPlan, a CTE, a trigger.

    ===  =======================================  =========  ==============================
    id   node                                     inclusive  exclusive (by hand)
    ===  =======================================  =========  ==============================
    1    Hash Join                                100        100 - 60 - 25 = 15 (CTE and
                                                             InitPlan are not its children's
                                                             time: the users hold it)
    2    [CTE c] Seq Scan big                     30         30
    3    [InitPlan 2 (returns $1)] Result         4          4
    4    Nested Loop                              60         60 - 35 - 20 = 5
    5    CTE Scan on c                            35         35 - 30 (the CTE it ran) = 5
    6    Index Scan t, 0.02 ms x 1000 loops       20         20 - 4 (InitPlan $1 in its
                                                             Index Cond) = 16
    7    Hash                                     25         25 - 10 = 15
    8    Seq Scan u, filter with SubPlan 3        10         10 - 8 = 2
    9    [SubPlan 3] Index Only Scan x 1000       8          8
    ===  =======================================  =========  ==============================

    Execution Time 110 = 100 in the tree + 3 in a trigger + 7 start-up and other.
    """
    root = node("Hash Join", 100, rows=500, plan_rows=500, children=[
        node("Seq Scan", 30, rows=1000, plan_rows=1000, **{
            "Parent Relationship": "InitPlan", "Subplan Name": "CTE c",
            "Relation Name": "big", "Schema": "public", "Alias": "big"}),
        node("Result", 4, **{"Parent Relationship": "InitPlan",
                             "Subplan Name": "InitPlan 2 (returns $1)", "Output": ["42"]}),
        node("Nested Loop", 60, rows=1000, plan_rows=1000, children=[
            node("CTE Scan", 35, rows=1000, plan_rows=1000, **{
                "Parent Relationship": "Outer", "CTE Name": "c", "Alias": "c"}),
            node("Index Scan", 0.02, loops=1000, **{
                "Parent Relationship": "Inner", "Index Name": "t_pkey", "Relation Name": "t",
                "Schema": "public", "Alias": "t", "Index Cond": "((t.id = c.id) AND (t.x > $1))"}),
        ], **{"Parent Relationship": "Outer", "Join Type": "Inner"}),
        node("Hash", 25, rows=500, plan_rows=500, children=[
            node("Seq Scan", 10, rows=500, plan_rows=500, children=[
                node("Index Only Scan", 0.008, loops=1000, **{
                    "Parent Relationship": "SubPlan", "Subplan Name": "SubPlan 3",
                    "Index Name": "v_pkey", "Relation Name": "v", "Schema": "public",
                    "Alias": "v"}),
            ], **{"Parent Relationship": "Outer", "Relation Name": "u", "Schema": "public",
                  "Alias": "u", "Filter": "(u.flag AND (SubPlan 3))"}),
        ], **{"Parent Relationship": "Inner"}),
    ], **{"Join Type": "Inner", "Hash Cond": "(c.id = u.id)"})
    return statement(root, 110.0, Triggers=[
        {"Trigger Name": "audit_trg", "Relation": "u", "Time": 3.0, "Calls": 500}])


def nested_ctes_initplan_deep() -> list[dict[str, Any]]:
    """A CTE inside a CTE, each owned by the CTE Scan that reads it, below the root; an
    InitPlan three levels down, used by the node that lists it.

    ===  =========================================  =========  ===========================
    id   node                                       inclusive  exclusive (by hand)
    ===  =========================================  =========  ===========================
    1    Hash Join                                  200        200 - 150 - 30 = 20
    2    Subquery Scan on s                         150        150 - 140 = 10
    3    CTE Scan on a (lists CTE a)                140        140 - 100 (CTE a) = 40
    4    [CTE a] HashAggregate                      100        100 - 90 = 10
    5    CTE Scan on b (lists CTE b)                90         90 - 80 (CTE b) = 10
    6    [CTE b] Seq Scan on t                      80         80
    7    Hash                                       30         30 - 25 = 5
    8    Seq Scan on u, Filter uses $0              25         25 - 5 (InitPlan 1) = 20
    9    [InitPlan 1 (returns $0)] Result           5          5
    ===  =========================================  =========  ===========================

    The exclusive times add up to 200, the root's time: nothing counted twice. Execution
    Time 210: 10 outside the tree.
    """
    cte_b = node("Seq Scan", 80, rows=1000, plan_rows=1000, **{
        "Parent Relationship": "InitPlan", "Subplan Name": "CTE b", "Relation Name": "t",
        "Schema": "public", "Alias": "t"})
    cte_a = node("Aggregate", 100, rows=10, plan_rows=10, children=[
        node("CTE Scan", 90, rows=1000, plan_rows=1000, children=[cte_b], **{
            "Parent Relationship": "Outer", "CTE Name": "b", "Alias": "b"}),
    ], **{"Parent Relationship": "InitPlan", "Subplan Name": "CTE a", "Strategy": "Hashed"})
    scan_a = node("CTE Scan", 140, rows=10, plan_rows=10, children=[cte_a], **{
        "Parent Relationship": "Subquery", "CTE Name": "a", "Alias": "a"})
    initplan = node("Result", 5, **{"Parent Relationship": "InitPlan",
                                    "Subplan Name": "InitPlan 1 (returns $0)"})
    root = node("Hash Join", 200, rows=10, plan_rows=10, children=[
        node("Subquery Scan", 150, rows=10, plan_rows=10, children=[scan_a], **{
            "Parent Relationship": "Outer", "Alias": "s"}),
        node("Hash", 30, rows=500, plan_rows=500, children=[
            node("Seq Scan", 25, rows=500, plan_rows=500, children=[initplan], **{
                "Parent Relationship": "Outer", "Relation Name": "u", "Schema": "public",
                "Alias": "u", "Filter": "(u.x > $0)"}),
        ], **{"Parent Relationship": "Inner"}),
    ], **{"Join Type": "Inner", "Hash Cond": "(s.x = u.x)"})
    return statement(root, 210.0)


def parallel() -> list[dict[str, Any]]:
    """A Gather with two workers: below it, times are per-process averages.

    ===  ==========================================  ==============  ===================
    id   node                                        inclusive       exclusive
    ===  ==========================================  ==============  ===================
    1    Finalize Aggregate                          52              52 - 50 = 2
    2    Gather (2 workers launched: 3 processes)    50              50 - 45 = 5
    3    Partial Aggregate, 45 ms x 3 loops / 3      45              45 - 40 = 5
    4    Parallel Seq Scan, 40 ms x 3 loops / 3      40              40
    ===  ==========================================  ==============  ===================
    """
    root = node("Aggregate", 52, children=[
        node("Gather", 50, rows=3, plan_rows=3, children=[
            node("Aggregate", 45, loops=3, **{"Parent Relationship": "Outer"}, children=[
                node("Seq Scan", 40, loops=3, rows=100000, plan_rows=100000, **{
                    "Parent Relationship": "Outer", "Parallel Aware": True,
                    "Relation Name": "orders", "Schema": "public", "Alias": "orders"}),
            ]),
        ], **{"Parent Relationship": "Outer", "Workers Planned": 2, "Workers Launched": 2}),
    ])
    return statement(root, 53.0)


def initplan_below_gather() -> list[dict[str, Any]]:
    """An InitPlan used by a worker's scan is run by the leader in the Gather.

    ===  ==========================================  =========  ===========================
    id   node                                        inclusive  exclusive
    ===  ==========================================  =========  ===========================
    1    Gather (1 worker: 2 processes)              30         30 - 20 - 6 (InitPlan) = 4
    2    [InitPlan 1 (returns $0)] Aggregate         6          6
    3    Parallel Seq Scan, 20 ms x 2 loops / 2      20         20 (does not hold the
                                                                InitPlan: the worker got
                                                                $0 as a value)
    ===  ==========================================  =========  ===========================

    Also: a child slower than its parent (rounding) clamps the parent at zero: see
    :func:`clamp`.
    """
    root = node("Gather", 30, rows=10, plan_rows=10, children=[
        node("Aggregate", 6, **{"Parent Relationship": "InitPlan",
                                "Subplan Name": "InitPlan 1 (returns $0)"}),
        node("Seq Scan", 20, loops=2, rows=5, plan_rows=5, **{
            "Parent Relationship": "Outer", "Parallel Aware": True, "Relation Name": "t",
            "Schema": "public", "Alias": "t", "Filter": "(t.x > $0)",
            "Rows Removed by Filter": 10}),
    ], **{"Workers Planned": 1, "Workers Launched": 1})
    return statement(root, 31.0)


def clamp() -> list[dict[str, Any]]:
    """A parent reported faster than its child: exclusive time 0, never negative."""
    root = node("Limit", 10.0, children=[
        node("Seq Scan", 10.5, **{"Parent Relationship": "Outer", "Relation Name": "t",
                                  "Alias": "t"}),
    ])
    return statement(root, 10.6)


def deep(levels: int) -> list[dict[str, Any]]:
    """``levels`` nested nodes, each 1 ms of its own: the root's inclusive is ``levels`` ms."""
    current = node("Seq Scan", 1.0, **{"Parent Relationship": "Outer", "Relation Name": "t",
                                       "Alias": "t"})
    for level in range(levels - 1, 0, -1):
        current = node("Subquery Scan", float(levels - level + 1), children=[current],
                       **{"Parent Relationship": "Outer"} if level > 1 else {})
    return statement(current, float(levels) + 1.0)
