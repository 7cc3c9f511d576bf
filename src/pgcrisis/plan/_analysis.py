"""One-pass plan analysis with memory bounded by plan depth, never by plan size.

Scanners (the node scanner for big JSON in any layout, the strict JSON parser, the text
plan parser) call :class:`Analyzer` as they go: ``open_node`` when a node starts (it returns
the dict the scanner fills with the node's own keys) or ``open_decoded`` (its keys typed),
``close_node`` when it ends, ``leaf`` for a node without children, whole. A node is
finished when it closes: its children have all closed before it, so its exclusive time is
known then, and the node's record can be dropped unless it is among the hottest or the plan
is small enough to draw whole.

Time arithmetic, and why:

* ``Actual Total Time`` is per loop, so inclusive time is time x loops.
* Below a Gather, loops count every process (leader and workers) and times are per-process
  averages: inclusive wall time is time x loops / processes (:func:`._frame.settle`).
* InitPlans and CTEs run inside the time of the nodes that use them, not of the node they
  are listed under: :mod:`._subplans` charges their time where it belongs.
* Exclusive time is clamped at zero (rounding, and timing overhead in the children).

The rest lives beside this: what each open node holds (:mod:`._frame`), the nodes kept for
the report (:mod:`._kept`), the tips found (:mod:`._tipbook`), the input's totals, summary
and notes (:mod:`._totals`); with ``estimates``, every node of a plan without ANALYZE for
the tips its estimates alone support (:mod:`._estimates`, :mod:`.tips.generic`).
"""

from __future__ import annotations

from pgcrisis.plan import _estimates
from pgcrisis.plan._frame import GATHERS, Frame, settle
from pgcrisis.plan._kept import FULL_TREE_LIMIT, HOT_LIMIT, KeptNodes
from pgcrisis.plan._node import PlanNode, from_props, with_props
from pgcrisis.plan._subplans import Subplans
from pgcrisis.plan._tipbook import TipBook
from pgcrisis.plan._totals import Totals
from pgcrisis.plan._values import Props, RawValue
from pgcrisis.plan.model import ForeignKey, PlanAnalysis, TriggerStat
from pgcrisis.plan.tips.generic import TableLookup, estimate_tips

_EMPTY = PlanNode()


class Analyzer:
    """Receives scanner events and accumulates the analysis; see the module docstring."""

    def __init__(self, *, full_tree_limit: int = FULL_TREE_LIMIT,
                 estimates: bool = False) -> None:
        self._stack: list[Frame] = []
        self._next_id = 1
        self._max_depth = 0
        self._kept = KeptNodes(full_tree_limit)
        self._tips = TipBook()
        self._subplans = Subplans()
        self._totals = Totals()
        self.notes: list[str] = []
        #: foreign keys by name, from the catalog (captured plans only)
        self.foreign_keys: dict[str, ForeignKey] = {}
        #: every node, for the tips of a plan read from its estimates alone (None: not asked)
        self.estimated: list[_estimates.EstimatedNode] | None = [] if estimates else None
        #: what the catalog says of the tables a plan reads (estimate tips only)
        self.tables: TableLookup | None = None

    # -- scanner events ------------------------------------------------------------------

    def begin_plan(self) -> None:
        """A new statement's plan starts (an element of psql's array, or the only one)."""
        self._totals.begin_plan(self._next_id)

    def open_node(self) -> Props:
        """A node starts; returns the dict the scanner fills with the node's own keys
        (read when its first child opens, and again, whole, when it closes)."""
        props: Props = {}
        self.open_decoded(_EMPTY, props)
        return props

    def open_decoded(self, node: PlanNode, props: Props | None = None) -> None:
        """A node starts whose own keys are all known (decoded typed)."""
        stack = self._stack
        parent = stack[-1] if stack else None
        frame = Frame(self._next_id, len(stack), parent, props, node)
        self._next_id += 1
        if parent is not None and not parent.settled:
            settle(parent)
        stack.append(frame)
        depth = len(stack)
        self._max_depth = depth if depth > self._max_depth else self._max_depth

    def late_keys(self) -> Props:
        """The innermost open node's dict, for keys that come after its children (a layout
        with sorted keys puts some after ``"Plans"``)."""
        frame = self._stack[-1]
        if frame.props is not None:
            return frame.props
        if frame.late is None:
            frame.late = {}
        return frame.late

    def leaf(self, node: PlanNode) -> None:
        """A node without children, whole (decoded typed): opened and closed at once."""
        stack = self._stack
        parent = stack[-1] if stack else None
        depth = len(stack)
        frame = Frame(self._next_id, depth, parent, None, node)
        self._next_id += 1
        if parent is not None and not parent.settled:
            settle(parent)
        if depth >= self._max_depth:
            self._max_depth = depth + 1
        self._finish(frame)

    def close_node(self) -> None:
        """The innermost open node ends: compute its times, tips, and report to its parent."""
        self._finish(self._stack.pop())

    def plan_value(self, key: str, value: RawValue) -> None:
        """A statement-level figure: ``Planning Time``, ``Execution Time`` (``Total
        Runtime`` up to 9.3)."""
        self._totals.plan_value(key, value)

    def worker_jit(self, total_ms: float) -> None:
        """One parallel worker's JIT total (VERBOSE prints it under the worker's node)."""
        self._totals.worker_jit(total_ms)

    def jit(self, total_ms: float, functions: int | None) -> None:
        """The statement's JIT summary: the leader's and every worker's, summed."""
        self._totals.jit(total_ms, functions)

    def trigger(self, stat: TriggerStat) -> None:
        """An AFTER trigger's total time."""
        self._totals.trigger(stat)

    def serialization(self, time_ms: float) -> None:
        """PostgreSQL 17+: time spent turning rows into the wire format."""
        self._totals.serialize(time_ms)

    def end_plan(self) -> None:
        """The statement's plan is complete."""
        while self._stack:
            self.close_node()
        self._totals.end_plan(self._next_id)

    # -- results -------------------------------------------------------------------------

    def result(self, *, input_format: str = "json") -> PlanAnalysis:
        """The analysis of everything received so far."""
        totals = self._totals
        nodes = self._next_id - 1
        summary = totals.summary(nodes, self._max_depth)
        tips = self._tips.ranked(summary, tuple(totals.triggers), self.foreign_keys)
        notes = list(self.notes)
        estimated = self.estimated
        if estimated is not None and not totals.analyzed:
            if len(estimated) <= _estimates.LIMIT:
                tips += tuple(estimate_tips(_estimates.EstimatedTree(estimated), self.tables))
            else:
                notes.append(f"more than {_estimates.LIMIT:,} nodes: the tips read from "
                             "estimates were not looked for")
        hot = self._kept.hottest()
        return PlanAnalysis(
            summary=summary,
            tips=tips,
            hot_nodes=tuple(entry[2] for entry in hot),
            hot_paths={entry[2].id: entry[3] for entry in hot},
            nodes=self._kept.drawn(),
            triggers=tuple(totals.triggers),
            notes=(*notes, *totals.notes(nodes)),
            tips_folded=dict(self._tips.folded),
            input_format=input_format,
        )

    # -- a finished node -----------------------------------------------------------------

    def _finish(self, frame: Frame) -> None:
        """A node's times, its report to its parent, its tips, and whether it is kept.

        Runs once per node (millions in a big plan): figures stay in local variables, and
        what most nodes skip (InitPlans, CTEs, keeping the node, estimates) is tested here
        before any call is made; that is why it is one function over 80 lines, not several.
        """
        if not frame.settled:
            settle(frame)
        elif frame.props is not None:
            frame.node = from_props(frame.props)  # every key, now that the node is read
        if frame.late:
            frame.node = with_props(frame.node, frame.late)
        node = frame.node
        parent = frame.parent
        node_type = frame.node_type
        totals = self._totals
        loops_raw = node.actual_loops
        analyzed = loops_raw is not None
        if analyzed:
            totals.analyzed = True
        loops = loops_raw or 0.0
        total_time = node.actual_total_time
        if total_time is not None:
            totals.saw_time = True
        inclusive = (total_time or 0.0) * loops / frame.par
        cost = node.total_cost or 0.0
        subplans = self._subplans
        if subplans.initplans or subplans.ctes or frame.initplans or frame.ctes:
            subplans.charge(frame, node_type, inclusive)

        exclusive = inclusive - frame.child_incl - frame.charge
        # clamp (rounding, timing overhead); a conditional, not max(): this runs per node
        if exclusive > 0.0:
            totals.attributed += exclusive
        else:
            # children that report more than their parent (timing overhead, rounding):
            # that excess is not the root's time
            totals.attributed += exclusive
            totals.overshoot -= exclusive
            exclusive = 0.0
        exclusive_cost = cost - frame.child_cost
        exclusive_cost = exclusive_cost if exclusive_cost > 0.0 else 0.0
        shared_hit = node.shared_hit_blocks
        if shared_hit is not None:
            totals.saw_buffers = True
        hit = (shared_hit or 0.0) + (node.local_hit_blocks or 0.0)
        read = (node.shared_read_blocks or 0.0) + (node.local_read_blocks or 0.0)

        relationship = node.parent_relationship
        subplan = node.subplan_name
        if node_type in GATHERS:
            totals.workers_launched += int(node.workers_launched or 0.0)
        if parent is None:
            totals.plan_root_type = node_type
            totals.root_ms += inclusive
            totals.plan_root_ms += inclusive
            totals.root_hit += hit
            totals.root_read += read + (node.temp_read_blocks or 0.0)
        elif relationship == "InitPlan" and subplan is not None:
            subplans.register(parent, subplan, inclusive)
        else:
            parent.child_incl += inclusive
            parent.child_cost += cost
            parent.child_hit += hit
            parent.child_read += read
            if relationship == "Inner":
                parent.inner_loops = loops
                parent.inner_incl = inclusive
                parent.inner_id = frame.id

        self._tips.judge(frame, node, node_type, analyzed, inclusive, exclusive, loops, hit,
                         read)
        if self.estimated is not None:
            self._estimate(frame, relationship, subplan, cost, exclusive_cost)
        kept = self._kept
        hot = kept.hot
        rank = exclusive if totals.analyzed else exclusive_cost
        if kept.all is not None or len(hot) < HOT_LIMIT or rank > hot[0][0]:
            kept.keep(frame, node, node_type, relationship, subplan, inclusive, exclusive,
                      exclusive_cost, cost, loops, hit, read, analyzed, rank)

    def _estimate(self, frame: Frame, relationship: str | None, subplan: str | None,
                  cost: float, exclusive_cost: float) -> None:
        """Keep a finished node for the tips of a plan's estimates (asked for, bounded)."""
        estimated = self.estimated
        if estimated is not None and len(estimated) <= _estimates.LIMIT:
            parent = frame.parent
            estimated.append(_estimates.EstimatedNode(
                frame.id, None if parent is None else parent.id, relationship, subplan,
                frame.node_type, frame.node, cost, exclusive_cost))
