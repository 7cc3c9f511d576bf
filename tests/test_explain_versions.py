"""What differs between server versions 12 to 18, on both the node-by-node and the strict parser."""

from __future__ import annotations

import pytest

from pgcrisis.plan import analyse_bytes
from tests.plans.hand import node, statement
from tests.plans.pgformat import dumps

PARSERS = pytest.mark.parametrize("parser", ["nodes", "strict"])


@PARSERS
def test_pg17_jit_generation_object_serialization_and_shared_io_time(parser: str) -> None:
    root = node("Seq Scan", 40.0, rows=10, plan_rows=10, **{
        "Relation Name": "t", "Alias": "t", "Shared Hit Blocks": 10, "Shared Read Blocks": 990,
        "Shared I/O Read Time": 30.0})
    doc = statement(root, 100.0, Serialization={"Time": 12.5, "Output Volume": 10,
                                                 "Format": "text"},
                    JIT={"Functions": 4, "Options": {"Inlining": False},
                         "Timing": {"Generation": {"Deform": 0.5, "Total": 1.5},
                                    "Inlining": 0.0, "Optimization": 2.0, "Emission": 40.0,
                                    "Total": 43.5}})
    analysis = analyse_bytes(dumps(doc).encode(), parser=parser)
    summary = analysis.summary
    assert summary.jit_ms == pytest.approx(43.5)
    assert summary.jit_functions == 4
    assert summary.serialization_ms == pytest.approx(12.5)
    assert summary.other_ms == pytest.approx(100.0 - 40.0 - 12.5)
    cache = [t for t in analysis.tips if t.code == "cache-miss"]
    assert cache and cache[0].saving_ms == pytest.approx(30.0)
    assert {t.code for t in analysis.tips} >= {"jit-overhead", "cache-miss"}


@PARSERS
def test_pg18_fractional_rows(parser: str) -> None:
    inner = node("Index Scan", 0.01, loops=3000, rows=0.33, plan_rows=1, **{
        "Parent Relationship": "Inner", "Relation Name": "t", "Alias": "t"})
    outer = node("Seq Scan", 5.0, rows=3000, plan_rows=3000, **{
        "Parent Relationship": "Outer", "Relation Name": "u", "Alias": "u"})
    root = node("Nested Loop", 40.0, rows=990, plan_rows=3000, children=[outer, inner])
    analysis = analyse_bytes(dumps(statement(root, 41.0)).encode(), parser=parser)
    assert analysis.nodes is not None
    assert analysis.nodes[2].actual_rows == pytest.approx(0.33)
    assert analysis.nodes[2].inclusive_ms == pytest.approx(30.0)
    assert [t.node for t in analysis.tips if t.code == "nested-loop-explosion"] == [3]


@PARSERS
def test_pg17_initplan_names_and_references(parser: str) -> None:
    root = node("Seq Scan", 20.0, rows=5, plan_rows=5, children=[
        node("Result", 6.0, **{"Parent Relationship": "InitPlan", "Subplan Name": "InitPlan 1"}),
    ], **{"Relation Name": "t", "Alias": "t", "Filter": "(t.x > (InitPlan 1).col1)"})
    analysis = analyse_bytes(dumps(statement(root, 21.0)).encode(), parser=parser)
    assert analysis.nodes is not None
    assert [round(n.exclusive_ms, 3) for n in analysis.nodes] == [14.0, 6.0]


PG12_GATHER = b"""[
  {
    "Plan": {
      "Node Type": "Gather",
      "Parallel Aware": false,
      "Total Cost": 10.0,
      "Plan Rows": 10,
      "Actual Total Time": 30.000,
      "Actual Rows": 10,
      "Actual Loops": 1,
      "Workers Planned": 2,
      "Workers Launched": 2,
      "JIT": {
        "Worker Number": 0,
        "Functions": 2,
        "Timing": {
          "Generation": 0.5,
          "Total": 9.0
        }
      },
      "JIT": {
        "Worker Number": 1,
        "Functions": 2,
        "Timing": {
          "Generation": 0.5,
          "Total": 8.0
        }
      },
      "Plans": [
        {
          "Node Type": "Seq Scan",
          "Parent Relationship": "Outer",
          "Parallel Aware": true,
          "Relation Name": "t",
          "Alias": "t",
          "Total Cost": 5.0,
          "Plan Rows": 10,
          "Actual Total Time": 24.000,
          "Actual Rows": 3,
          "Actual Loops": 3
        }
      ]
    },
    "Planning Time": 0.1,
    "JIT": {
      "Functions": 6,
      "Timing": {
        "Generation": 1.5,
        "Total": 25.0
      }
    },
    "Execution Time": 31.0
  }
]
"""


@PARSERS
def test_pg12_per_worker_jit_as_repeated_keys(parser: str) -> None:
    analysis = analyse_bytes(PG12_GATHER, parser=parser)
    # the statement's 25 ms sum the leader's and the two workers' 9 + 8: the leader's is 8
    assert analysis.summary.jit_total_ms == pytest.approx(25.0)
    assert analysis.summary.jit_workers_ms == pytest.approx(17.0)
    assert analysis.summary.jit_ms == pytest.approx(8.0)
    assert analysis.summary.jit_split == "measured"
    assert analysis.nodes is not None
    assert [round(n.exclusive_ms, 3) for n in analysis.nodes] == [6.0, 24.0]
