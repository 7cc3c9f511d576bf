"""What the plan analysis produces: frozen records, no I/O, no styling.

A :class:`NodeStat` is one finished plan node with its times already corrected (loops
multiplied, parallel workers averaged, InitPlan and CTE time moved to the node that really
spent it). :class:`PlanAnalysis` is the whole result: a summary, ranked tips, the hottest
nodes and, for plans small enough to draw whole, every node.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pgcrisis.model.severity import Severity


@dataclass(frozen=True, slots=True)
class PathStep:
    """One ancestor on the way from the root to a node: enough to draw the path."""

    id: int
    label: str
    parent: PathStep | None = None

    def chain(self) -> tuple[PathStep, ...]:
        """Root first, this step last (iterative: plans can be 1,000 levels deep)."""
        steps: list[PathStep] = []
        step: PathStep | None = self
        while step is not None:
            steps.append(step)
            step = step.parent
        steps.reverse()
        return tuple(steps)


@dataclass(frozen=True, slots=True)
class NodeStat:
    """One plan node after analysis. Times are milliseconds of wall clock.

    ``inclusive_ms`` is the node with everything below it, ``exclusive_ms`` the node alone.
    Row counts are per loop, as EXPLAIN prints them; buffers are totals over all loops.
    """

    id: int
    parent_id: int | None
    depth: int
    node_type: str
    relation: str | None
    alias: str | None
    index_name: str | None
    relationship: str | None
    subplan_name: str | None
    inclusive_ms: float
    exclusive_ms: float
    plan_rows: float
    actual_rows: float | None
    loops: float
    shared_hit: int
    shared_read: int
    temp_read: int
    temp_written: int
    io_read_ms: float
    total_cost: float
    exclusive_cost: float
    never_executed: bool = False

    @property
    def label(self) -> str:
        """``Seq Scan on public.orders o`` style, as EXPLAIN's text format names nodes."""
        return node_label(self.node_type, self.relation, self.alias, self.index_name)

    @property
    def total_rows(self) -> float | None:
        """Rows over all loops."""
        return None if self.actual_rows is None else self.actual_rows * self.loops


def node_label(node_type: str, relation: str | None, alias: str | None,
               index_name: str | None) -> str:
    """A one-line name for a node."""
    label = node_type
    if index_name:
        label += f" using {index_name}"
    if relation:
        label += f" on {relation}"
        short = relation.rsplit(".", 1)[-1]
        if alias and alias != short:
            label += f" {alias}"
    return label


@dataclass(frozen=True, slots=True)
class Estimate:
    """What a tip read from a plan's estimates alone (EXPLAIN without ANALYZE: a generic
    plan) is about, in the planner's own figures: no time was measured, so none is saved.

    ``cost`` is the planner's cost charged to the shape (over every estimated run of it),
    ``share`` that cost's share of the plan's total cost; ``runs`` how many times the shape
    runs (rows of the outer side x the loops above it; 1 when it is not repeated), ``rows``
    the rows it reads. ``relation`` (schema, name) and ``index_columns`` (plain columns, in
    order) name the b-tree index the advice is, where it is one; ``analyze`` the tables
    (schema, name) to ANALYZE."""

    cost: float
    share: float
    runs: float
    rows: float
    relation: tuple[str | None, str] | None = None
    index_columns: tuple[str, ...] = ()
    analyze: tuple[tuple[str | None, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Tip:
    """One piece of advice about the plan: what, where, and what it would save.

    ``estimate`` is set on the tips read from a plan without ANALYZE (``saving_ms`` is then
    0: see :class:`Estimate`)."""

    code: str
    severity: Severity
    node: int | None
    title: str
    detail: str
    saving_ms: float
    sql: tuple[str, ...] = ()
    estimate: Estimate | None = None


@dataclass(frozen=True, slots=True)
class TableStats:
    """What the catalog says of a table a plan reads (the plan does not say it): its rows
    (``reltuples``; None when it was never analysed) and pages, for the tips read from
    estimates alone (how many rows a Seq Scan reads before its filter)."""

    rows: float | None
    pages: int


@dataclass(frozen=True, slots=True)
class TriggerStat:
    """An AFTER trigger (or foreign-key constraint trigger) as EXPLAIN ANALYZE reports it."""

    name: str
    relation: str | None
    constraint: str | None
    time_ms: float
    calls: int


@dataclass(frozen=True, slots=True)
class ForeignKey:
    """A foreign key named by a trigger line, as the server's catalog describes it
    (``explain --query`` looks them up; a plan file does not carry them)."""

    name: str
    referencing: str          # schema.table holding the foreign-key columns
    columns: tuple[str, ...]
    referenced: str
    indexed: bool             # an index on ``referencing`` starts with ``columns``


@dataclass(frozen=True, slots=True)
class Summary:
    """Whole-statement figures (summed over all statements of a multi-plan input)."""

    plans: int
    nodes: int
    max_depth: int
    analyzed: bool
    execution_ms: float | None
    planning_ms: float | None
    jit_ms: float | None
    jit_functions: int | None
    root_ms: float
    triggers_ms: float
    serialization_ms: float
    other_ms: float
    bytes_read: int
    shared_hit: int
    shared_read: int
    block_size: int = 8192
    attributed_ms: float = 0.0
    #: ``jit_ms`` is the leader's; the statement's JIT line sums every process
    jit_total_ms: float | None = None
    jit_workers_ms: float | None = None
    #: how the leader's JIT was found: "leader" (no workers), "measured" (each worker's
    #: total subtracted), "average" (no per-worker figures: the total over the processes)
    jit_split: str = "none"
    workers_launched: int = 0

    @property
    def unattributed_ms(self) -> float:
        """The root's time that no node's exclusive time accounts for (rounding, timing
        overhead, time a text plan does not show)."""
        rest = self.root_ms - self.attributed_ms
        return rest if rest > 0.0 else 0.0

    @property
    def total_ms(self) -> float:
        """Execution time, or the root's time when there is no summary line."""
        return self.execution_ms if self.execution_ms is not None else self.root_ms


@dataclass(frozen=True, slots=True)
class PlanAnalysis:
    """The result of analysing one input (one or more plans)."""

    summary: Summary
    tips: tuple[Tip, ...]
    hot_nodes: tuple[NodeStat, ...]
    hot_paths: dict[int, tuple[PathStep, ...]]
    nodes: tuple[NodeStat, ...] | None
    triggers: tuple[TriggerStat, ...]
    notes: tuple[str, ...]
    tips_folded: dict[str, int] = field(default_factory=dict)
    input_format: str = "json"

    @property
    def folded(self) -> bool:
        """True when the plan was too big to keep every node (only hot paths are drawn)."""
        return self.nodes is None
