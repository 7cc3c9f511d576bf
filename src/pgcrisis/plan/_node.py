"""One plan node's own keys, typed: what the analysis reads of a node, and nothing else.

The JSON scanner has msgspec decode a node's text straight into :class:`PlanNode`, in C:
keys the analysis never reads (a wide table's VERBOSE output lists, settings, per-worker
details) are checked and skipped without building anything, and numbers arrive as numbers.
The other scanners (text plans, the strict small-input parser) gather a node's keys in a
dict as they read them; :func:`from_props` turns that dict into the same record. So the
analysis reads attributes, never parses a value, and cannot tell one layout from another.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec

from pgcrisis.plan._values import Props, flag, num, text

#: the JSON key of each field (PostgreSQL's spelling, the same in every version that has it)
KEYS = {
    "node_type": "Node Type",
    "parent_relationship": "Parent Relationship",
    "subplan_name": "Subplan Name",
    "cte_name": "CTE Name",
    "relation_name": "Relation Name",
    "schema": "Schema",
    "alias": "Alias",
    "index_name": "Index Name",
    "function_name": "Function Name",
    "join_type": "Join Type",
    "total_cost": "Total Cost",
    "plan_rows": "Plan Rows",
    "actual_total_time": "Actual Total Time",
    "actual_rows": "Actual Rows",
    "actual_loops": "Actual Loops",
    "workers_launched": "Workers Launched",
    "workers_planned": "Workers Planned",
    "single_copy": "Single Copy",
    "parallel_aware": "Parallel Aware",
    "output": "Output",
    "filter": "Filter",
    "index_cond": "Index Cond",
    "recheck_cond": "Recheck Cond",
    "hash_cond": "Hash Cond",
    "join_filter": "Join Filter",
    "merge_cond": "Merge Cond",
    "one_time_filter": "One-Time Filter",
    "tid_cond": "TID Cond",
    "sort_key": "Sort Key",
    "group_key": "Group Key",
    "order_by": "Order By",
    "cache_key": "Cache Key",
    "run_condition": "Run Condition",
    "rows_removed_by_filter": "Rows Removed by Filter",
    "rows_removed_by_index_recheck": "Rows Removed by Index Recheck",
    "rows_removed_by_join_filter": "Rows Removed by Join Filter",
    "shared_hit_blocks": "Shared Hit Blocks",
    "shared_read_blocks": "Shared Read Blocks",
    "local_hit_blocks": "Local Hit Blocks",
    "local_read_blocks": "Local Read Blocks",
    "temp_read_blocks": "Temp Read Blocks",
    "temp_written_blocks": "Temp Written Blocks",
    "io_read_time": "I/O Read Time",
    "shared_io_read_time": "Shared I/O Read Time",
    "sort_method": "Sort Method",
    "sort_space_used": "Sort Space Used",
    "sort_space_type": "Sort Space Type",
    "hash_batches": "Hash Batches",
    "original_hash_batches": "Original Hash Batches",
    "peak_memory_usage": "Peak Memory Usage",
    "hashagg_batches": "HashAgg Batches",
    "disk_usage": "Disk Usage",
    "exact_heap_blocks": "Exact Heap Blocks",
    "lossy_heap_blocks": "Lossy Heap Blocks",
}


class PlanNode(msgspec.Struct, kw_only=True, rename=KEYS, omit_defaults=True):
    """A node's own keys; ``None`` where the plan has no such key.

    Expressions keep whatever the plan gave (a string, or a list for sort and group keys);
    ``output`` stays undecoded (:class:`msgspec.Raw` from JSON), as it is only searched for
    parameter references.
    """

    node_type: str | None = None
    parent_relationship: str | None = None
    subplan_name: str | None = None
    cte_name: str | None = None
    relation_name: str | None = None
    schema: str | None = None
    alias: str | None = None
    index_name: str | None = None
    function_name: str | None = None
    join_type: str | None = None
    total_cost: float | None = None
    plan_rows: float | None = None
    actual_total_time: float | None = None
    actual_rows: float | None = None
    actual_loops: float | None = None
    workers_launched: float | None = None
    workers_planned: float | None = None
    single_copy: bool | None = None
    parallel_aware: bool | None = None
    output: Any = None
    filter: Any = None
    index_cond: Any = None
    recheck_cond: Any = None
    hash_cond: Any = None
    join_filter: Any = None
    merge_cond: Any = None
    one_time_filter: Any = None
    tid_cond: Any = None
    sort_key: Any = None
    group_key: Any = None
    order_by: Any = None
    cache_key: Any = None
    run_condition: Any = None
    rows_removed_by_filter: float | None = None
    rows_removed_by_index_recheck: float | None = None
    rows_removed_by_join_filter: float | None = None
    shared_hit_blocks: float | None = None
    shared_read_blocks: float | None = None
    local_hit_blocks: float | None = None
    local_read_blocks: float | None = None
    temp_read_blocks: float | None = None
    temp_written_blocks: float | None = None
    io_read_time: float | None = None
    shared_io_read_time: float | None = None
    sort_method: str | None = None
    sort_space_used: float | None = None
    sort_space_type: str | None = None
    hash_batches: float | None = None
    original_hash_batches: float | None = None
    peak_memory_usage: float | None = None
    hashagg_batches: float | None = None
    disk_usage: float | None = None
    exact_heap_blocks: float | None = None
    lossy_heap_blocks: float | None = None


class JsonNode(PlanNode, kw_only=True, rename={**KEYS, "workers": "Workers", "jit": "JIT"}):
    """What msgspec decodes: the same, with ``Output`` left raw (checked, never decoded).
    The scanner then replaces it with its text where the analysis may search it for
    parameter references, else with ``None``. ``Workers`` and ``JIT`` (per-worker figures)
    only say whether the node has any: such a node goes the exact way, which keeps
    PostgreSQL 12's repeated "JIT" keys. Left empty, they are not encoded either."""

    output: msgspec.Raw = msgspec.Raw()
    workers: msgspec.Raw = msgspec.Raw()
    jit: msgspec.Raw = msgspec.Raw()


#: decodes one node's JSON text; raises :class:`msgspec.DecodeError` (bad JSON) or
#: :class:`msgspec.ValidationError` (a key of an unexpected type: the caller falls back)
decode_node = msgspec.json.Decoder(JsonNode).decode

_NUMBERS = frozenset(name for name, field_type in PlanNode.__annotations__.items()
                     if field_type == "float | None")
_TEXTS = frozenset(name for name, field_type in PlanNode.__annotations__.items()
                   if field_type == "str | None")
#: the dict key (bytes, as the scanners fill it) of each field, and what to make of it
_FROM_KEY = {key.encode(): (name, "number" if name in _NUMBERS else "text" if name in _TEXTS
                            else "flag" if name in ("single_copy", "parallel_aware")
                            else "any")
             for name, key in KEYS.items()}


def from_props(props: Props) -> PlanNode:
    """The record of keys gathered in a dict (bytes keys; values decoded JSON, or text
    parsed from a text plan): numbers and names converted once, here."""
    return PlanNode(**_converted(props))


def with_props(node: PlanNode, props: Props) -> PlanNode:
    """The record with keys that came later (after ``"Plans"``, in a layout with sorted
    keys) added."""
    return msgspec.structs.replace(node, **_converted(props))


def _converted(props: Props) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, raw in props.items():
        field = _FROM_KEY.get(key)
        if field is None or raw is None:
            continue
        name, kind = field
        if kind == "number":
            number = num(raw, math.nan)
            if not math.isnan(number):  # numeric
                values[name] = number
        elif kind == "text":
            values[name] = text(raw)
        elif kind == "flag":
            values[name] = flag(raw)
        else:
            values[name] = raw
    return values
