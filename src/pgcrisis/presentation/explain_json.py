"""``pgcrisis explain --format json``: the ``pgcrisis.explain/1`` contract.

Keys beyond the contract's (``notes``, ``unattributed``, per-tip ``sql``, ``compare``) are
additions a reader may ignore; the contract's keys keep their meaning.
"""

from __future__ import annotations

import json
from typing import Any

from pgcrisis.durations import exact_ms
from pgcrisis.plan.model import NodeStat, PlanAnalysis, Summary, Tip

SCHEMA = "pgcrisis.explain/1"
HOT_NODES = 10


def summary_json(summary: Summary) -> dict[str, Any]:
    """The contract's summary object."""
    return {
        "execution_ms": exact_ms(summary.execution_ms),
        "planning_ms": exact_ms(summary.planning_ms),
        "jit_ms": exact_ms(summary.jit_ms),
        "jit_workers_ms": exact_ms(summary.jit_workers_ms),
        "jit_split": summary.jit_split,
        "nodes": summary.nodes,
        "bytes_read": summary.bytes_read,
        "plans": summary.plans,
        "max_depth": summary.max_depth,
        "analyzed": summary.analyzed,
        "unattributed": {
            "triggers_ms": exact_ms(summary.triggers_ms),
            "serialization_ms": exact_ms(summary.serialization_ms),
            "startup_and_other_ms": exact_ms(summary.other_ms),
            "in_tree_ms": exact_ms(summary.unattributed_ms) if summary.analyzed else None,
        },
    }


def tip_json(tip: Tip) -> dict[str, Any]:
    """One tip."""
    out: dict[str, Any] = {
        "code": tip.code, "severity": tip.severity.value, "node": tip.node,
        "title": tip.title, "detail": tip.detail, "saving_ms": exact_ms(tip.saving_ms),
    }
    if tip.sql:
        out["sql"] = list(tip.sql)
    return out


def hot_node_json(node: NodeStat, total_ms: float, analyzed: bool) -> dict[str, Any]:
    """One hot node: where the time went."""
    out: dict[str, Any] = {
        "id": node.id,
        "node_type": node.node_type,
        "relation": node.relation,
        "exclusive_ms": exact_ms(node.exclusive_ms) if analyzed else None,
        "share": round(node.exclusive_ms / total_ms, 4) if analyzed and total_ms > 0 else None,
        "inclusive_ms": exact_ms(node.inclusive_ms) if analyzed else None,
        "loops": node.loops,
        "rows": node.actual_rows,
        "plan_rows": node.plan_rows,
    }
    if not analyzed:
        out["exclusive_cost"] = round(node.exclusive_cost, 2)
    return out


def to_json(analysis: PlanAnalysis, *, compare: dict[str, Any] | None = None) -> dict[str, Any]:
    """The whole document as Python data."""
    summary = analysis.summary
    total = summary.total_ms
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "summary": summary_json(summary),
        "tips": [tip_json(tip) for tip in analysis.tips],
        "hot_nodes": [hot_node_json(node, total, summary.analyzed)
                      for node in analysis.hot_nodes[:HOT_NODES]],
        "notes": list(analysis.notes),
    }
    if analysis.tips_folded:
        doc["tips_not_shown"] = dict(analysis.tips_folded)
    if compare is not None:
        doc["compare"] = compare
    return doc


def compare_json(setting: str, baseline: PlanAnalysis, changed: PlanAnalysis) -> dict[str, Any]:
    """The ``--compare`` section: both runs' summaries and the difference."""
    before = baseline.summary.total_ms
    after = changed.summary.total_ms
    return {
        "setting": setting,
        "baseline": summary_json(baseline.summary),
        "changed": summary_json(changed.summary),
        "changed_tips": [tip_json(tip) for tip in changed.tips],
        "delta_ms": exact_ms(after - before),
        "speedup": round(before / after, 3) if after > 0 else None,
    }


def render(analysis: PlanAnalysis, *, compare: dict[str, Any] | None = None) -> str:
    """The JSON text (indented, one document)."""
    return json.dumps(to_json(analysis, compare=compare), indent=2)
