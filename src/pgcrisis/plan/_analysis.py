"""One-pass plan analysis with memory bounded by plan depth, never by plan size.

Scanners (the fast one for PostgreSQL's indented JSON, the general JSON parser, the text
plan parser) call :class:`Analyzer` as they go: ``open_node`` when a node starts (it returns
the dict the scanner fills with the node's own keys), ``close_node`` when it ends. A node is
finished when it closes: its children have all closed before it, so its exclusive time is
known then, and the node's record can be dropped unless it is among the hottest or the plan
is small enough to draw whole.

Time arithmetic, and why:

* ``Actual Total Time`` is per loop, so inclusive time is time x loops.
* Below a Gather, loops count every process (leader and workers) and times are per-process
  averages: inclusive wall time is time x loops / processes.
* An InitPlan runs once, when the node that uses its result (``$0``, ``(InitPlan 1).col1``)
  first evaluates it: its time is inside that node's time, not inside its listed parent's.
  So it is charged to the node whose expressions reference it (to the Gather when that node
  runs in a worker, since the leader evaluates it before launching workers), and to the
  listing parent only if nothing references it.
* A CTE runs as its CTE Scans pull rows: its time is inside the scans' time. Each scan, in
  the order they finish, gives up the part of the CTE's time it can have caused (at most its
  own inclusive time).
* Exclusive time is clamped at zero (rounding, and timing overhead in the children).
* Whatever of ``Execution Time`` no node accounts for is executor start-up, AFTER triggers
  and serialization; it is reported beside the nodes.
"""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass, replace

from pgcrisis.plan import tips as tip_rules
from pgcrisis.plan._node import PlanNode, from_props, with_props
from pgcrisis.plan._values import Props, RawValue, num, raw_text
from pgcrisis.plan.model import (
    ForeignKey,
    NodeStat,
    PathStep,
    PlanAnalysis,
    Summary,
    Tip,
    TriggerStat,
    node_label,
)

#: Plans with at most this many nodes are kept whole (every node drawn); bigger ones fold.
FULL_TREE_LIMIT = 2000
#: How many of the hottest nodes are kept (with their paths) for a folded plan.
HOT_LIMIT = 25
#: How many tips are kept; the rest are counted per code.
TIP_LIMIT = 60
#: Tips about members of an Append (partitions, UNION ALL branches) are merged per Append
#: and code: 10,000 partitions missing the same index make one tip, not 10,000.
_APPENDS = frozenset({"Append", "Merge Append"})
GROUP_LIMIT = 10_000
#: How many plans of a multi-plan input are listed one by one in the notes.
PER_PLAN_LIMIT = 20

_GATHERS = frozenset({"Gather", "Gather Merge"})
_EXPRESSION_FIELDS = (
    "output", "filter", "index_cond", "recheck_cond", "join_filter", "hash_cond",
    "merge_cond", "one_time_filter", "tid_cond", "sort_key", "group_key", "order_by",
    "cache_key", "run_condition",
)
_EMPTY = PlanNode()
_REF_RE = re.compile(r"\$\d+|InitPlan \d+")
_RETURNS_RE = re.compile(r"^InitPlan (\d+)(?: \(returns (.*)\))?")


@dataclass(slots=True)
class _InitPlan:
    time_ms: float
    scope: _Frame
    charged: bool = False


@dataclass(slots=True)
class _Group:
    """Tips of one code about members of one Append: how many, their saving, one example."""

    parent_id: int
    parent_label: str
    count: int = 0
    saving_ms: float = 0.0
    example: Tip | None = None


@dataclass(slots=True)
class _Cte:
    remaining_ms: float


@dataclass(slots=True, eq=False)
class _Frame:
    """A node being read: its own keys so far and what its finished children added up to."""

    id: int
    depth: int
    parent: _Frame | None
    props: Props | None  # the keys a scanner gathers in a dict; None when decoded typed
    node: PlanNode
    late: Props | None = None  # keys of a typed node that came after its "Plans"
    par: float = 1.0
    gather: _Frame | None = None
    child_incl: float = 0.0
    child_cost: float = 0.0
    child_hit: float = 0.0
    child_read: float = 0.0
    charge: float = 0.0
    # lists made only when needed: most nodes never have any (a plan can have millions)
    initplans: list[str] | None = None
    ctes: list[str] | None = None
    child_misestimate: bool = False
    inner_loops: float = 0.0
    inner_incl: float = 0.0
    inner_id: int = 0
    pending: list[tip_rules.PendingTip] | None = None
    step: PathStep | None = None
    under_limit: bool = False
    settled: bool = False
    member_floors: dict[str, float] | None = None  # codes its members only count (_Group)
    node_type: str = "?"


class Analyzer:
    """Receives scanner events and accumulates the analysis; see the module docstring."""

    def __init__(self, *, full_tree_limit: int = FULL_TREE_LIMIT) -> None:
        self._stack: list[_Frame] = []
        self._next_id = 1
        self._full_limit = full_tree_limit
        self._all: list[NodeStat] | None = []
        self._hot: list[tuple[float, int, NodeStat, tuple[PathStep, ...]]] = []
        self._tips: list[tuple[float, int, Tip]] = []
        self._tip_seq = 0
        self._tips_folded: dict[str, int] = {}
        self._groups: dict[tuple[int, str], _Group] = {}
        self._initplans: dict[str, _InitPlan] = {}
        self._ctes: dict[str, _Cte] = {}
        self._triggers: list[TriggerStat] = []
        self._plans = 0
        self._analyzed = False
        self._max_depth = 0
        self._execution: float | None = None
        self._planning: float | None = None
        self._jit: float | None = None
        self._jit_functions: int | None = None
        self._serialization = 0.0
        self._root_ms = 0.0
        self._root_hit = 0.0
        self._root_read = 0.0
        self.notes: list[str] = []
        self._plan_execution: float | None = None
        self._plan_root_ms = 0.0
        self._plan_triggers = 0.0
        self._triggers_ms = 0.0
        self._other_ms = 0.0
        self._saw_buffers = False
        self._saw_time = False
        self._plan_first_node = 1
        self._plan_root_type = "?"
        self._per_plan: list[tuple[str, float | None, int]] = []
        self._attributed = 0.0
        self._overshoot = 0.0
        #: foreign keys by name, from the catalog (captured plans only)
        self.foreign_keys: dict[str, ForeignKey] = {}
        self._jit_workers = 0.0
        self._jit_worker_count = 0
        self._workers_launched = 0

    # -- scanner events ------------------------------------------------------------------

    def begin_plan(self) -> None:
        """A new statement's plan starts (an element of psql's array, or the only one)."""
        self._plans += 1
        self._plan_first_node = self._next_id
        self._plan_execution = None
        self._plan_root_ms = 0.0
        self._plan_triggers = 0.0

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
        frame = _Frame(self._next_id, len(stack), parent, props, node)
        self._next_id += 1
        if parent is not None and not parent.settled:
            _settle(parent)
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
        frame = _Frame(self._next_id, depth, parent, None, node)
        self._next_id += 1
        if parent is not None and not parent.settled:
            _settle(parent)
        if depth >= self._max_depth:
            self._max_depth = depth + 1
        self._finish(frame)

    def close_node(self) -> None:
        """The innermost open node ends: compute its times, tips, and report to its parent."""
        self._finish(self._stack.pop())

    def _finish(self, frame: _Frame) -> None:
        if not frame.settled:
            _settle(frame)
        elif frame.props is not None:
            frame.node = from_props(frame.props)  # every key, now that the node is read
        if frame.late:
            frame.node = with_props(frame.node, frame.late)
        node = frame.node
        parent = frame.parent
        node_type = frame.node_type
        loops_raw = node.actual_loops
        analyzed = loops_raw is not None
        if analyzed:
            self._analyzed = True
        loops = loops_raw or 0.0
        total_time = node.actual_total_time
        if total_time is not None:
            self._saw_time = True
        inclusive = (total_time or 0.0) * loops / frame.par
        cost = node.total_cost or 0.0

        if self._initplans:
            self._charge_references(frame)
        for key in frame.initplans or ():
            entry = self._initplans.pop(key, None)
            if entry is not None and not entry.charged:
                entry.charged = True
                frame.charge += entry.time_ms
        # A CTE Scan can own the CTE it reads (the CTE is listed under it): it takes the
        # CTE's time before the CTE goes out of scope with it.
        if node_type == "CTE Scan" and self._ctes:
            cte = self._ctes.get(node.cte_name or "")
            if cte is not None:
                take = min(cte.remaining_ms, inclusive - frame.charge)
                take = take if take > 0.0 else 0.0
                cte.remaining_ms -= take
                frame.charge += take
        for name in frame.ctes or ():
            self._ctes.pop(name, None)

        exclusive = inclusive - frame.child_incl - frame.charge
        # clamp (rounding, timing overhead); a conditional, not max(): this runs per node
        if exclusive > 0.0:
            self._attributed += exclusive
        else:
            # children that report more than their parent (timing overhead, rounding):
            # that excess is not the root's time
            self._attributed += exclusive
            self._overshoot -= exclusive
            exclusive = 0.0
        exclusive_cost = cost - frame.child_cost
        exclusive_cost = exclusive_cost if exclusive_cost > 0.0 else 0.0
        shared_hit = node.shared_hit_blocks
        if shared_hit is not None:
            self._saw_buffers = True
        hit = (shared_hit or 0.0) + (node.local_hit_blocks or 0.0)
        read = (node.shared_read_blocks or 0.0) + (node.local_read_blocks or 0.0)

        relationship = node.parent_relationship
        subplan = node.subplan_name
        if node_type in _GATHERS:
            self._workers_launched += int(node.workers_launched or 0.0)
        if parent is None:
            self._plan_root_type = node_type
            self._root_ms += inclusive
            self._plan_root_ms += inclusive
            self._root_hit += hit
            self._root_read += read + (node.temp_read_blocks or 0.0)
        elif relationship == "InitPlan" and subplan is not None:
            self._register_initplan(parent, subplan, inclusive)
        else:
            parent.child_incl += inclusive
            parent.child_cost += cost
            parent.child_hit += hit
            parent.child_read += read
            if relationship == "Inner":
                parent.inner_loops = loops
                parent.inner_incl = inclusive
                parent.inner_id = frame.id

        own_hit = hit - frame.child_hit
        own_read = read - frame.child_read
        # (positional: this runs per node, and keywords cost a third more)
        facts = tip_rules.NodeFacts(
            frame.id, node_type, node, analyzed, inclusive, exclusive, loops,
            own_hit if own_hit > 0.0 else 0.0, own_read if own_read > 0.0 else 0.0,
            frame.inner_loops, frame.inner_incl, frame.inner_id,
            self._tips[0][0] if len(self._tips) >= TIP_LIMIT else -1.0)
        grouped = parent is not None and parent.node_type in _APPENDS and (
            len(self._groups) < GROUP_LIMIT)
        if grouped:
            assert parent is not None
            facts.floor = -1.0  # the first member with each code writes the example,
            facts.floors = parent.member_floors  # the others are only counted
        misestimated = tip_rules.misestimated(facts, frame.under_limit or (
            parent is not None and _stops_early(parent, relationship)))
        for pending in frame.pending or ():
            self._add_tip(pending.finish(exclusive))
        if misestimated and not frame.child_misestimate:
            found = tip_rules.row_misestimate(facts)
            if found is not None:
                if parent is None:
                    self._add_tip(found.finish(0.0))
                else:
                    if parent.pending is None:
                        parent.pending = []
                    parent.pending.append(found)
        if parent is not None and misestimated:
            parent.child_misestimate = True
        for tip in tip_rules.node_tips(facts):
            if grouped:
                assert parent is not None
                self._group(parent, tip)
            elif isinstance(tip, tip_rules.Folded):
                self._tips_folded[tip.code] = self._tips_folded.get(tip.code, 0) + 1
            else:
                self._add_tip(tip)

        hot = self._hot
        rank = exclusive if self._analyzed else exclusive_cost
        if self._all is not None or len(hot) < HOT_LIMIT or rank > hot[0][0]:
            self._keep(frame, node, node_type, relationship, subplan, inclusive, exclusive,
                       exclusive_cost, cost, loops, hit, read, analyzed)

    def plan_value(self, key: str, value: RawValue) -> None:
        """A statement-level figure: ``Planning Time``, ``Execution Time`` (``Total
        Runtime`` up to 9.3)."""
        if key in ("Execution Time", "Total Runtime"):
            self._plan_execution = num(value)
            self._execution = (self._execution or 0.0) + num(value)
        elif key == "Planning Time":
            self._planning = (self._planning or 0.0) + num(value)

    def worker_jit(self, total_ms: float) -> None:
        """One parallel worker's JIT total (VERBOSE prints it under the worker's node)."""
        self._jit_workers += total_ms
        self._jit_worker_count += 1

    def jit(self, total_ms: float, functions: int | None) -> None:
        """The statement's JIT summary: the leader's and every worker's, summed."""
        self._jit = (self._jit or 0.0) + total_ms
        if functions is not None:
            self._jit_functions = (self._jit_functions or 0) + functions

    def trigger(self, stat: TriggerStat) -> None:
        """An AFTER trigger's total time."""
        self._triggers.append(stat)
        self._plan_triggers += stat.time_ms

    def serialization(self, time_ms: float) -> None:
        """PostgreSQL 17+: time spent turning rows into the wire format."""
        self._serialization += time_ms

    def end_plan(self) -> None:
        """The statement's plan is complete."""
        while self._stack:
            self.close_node()
        self._triggers_ms += self._plan_triggers
        if len(self._per_plan) < PER_PLAN_LIMIT:
            self._per_plan.append((self._plan_root_type, self._plan_execution,
                                   self._next_id - self._plan_first_node))
        if self._plan_execution is not None:
            rest = self._plan_execution - self._plan_root_ms - self._plan_triggers
            self._other_ms += max(0.0, rest)

    # -- results -------------------------------------------------------------------------

    def result(self, *, input_format: str = "json") -> PlanAnalysis:
        """The analysis of everything received so far."""
        other = max(0.0, self._other_ms - self._serialization)
        leader_jit, jit_split = _leader_jit(self._jit, self._jit_workers,
                                            self._jit_worker_count, self._workers_launched)
        summary = Summary(
            plans=self._plans,
            nodes=self._next_id - 1,
            max_depth=self._max_depth,
            analyzed=self._analyzed,
            execution_ms=self._execution,
            planning_ms=self._planning,
            jit_ms=leader_jit,
            jit_total_ms=self._jit,
            jit_workers_ms=None if self._jit is None or leader_jit is None
            else self._jit - leader_jit,
            jit_split=jit_split,
            workers_launched=self._workers_launched,
            jit_functions=self._jit_functions,
            root_ms=self._root_ms,
            triggers_ms=self._triggers_ms,
            serialization_ms=self._serialization,
            other_ms=other,
            bytes_read=int(self._root_read) * 8192,
            shared_hit=int(self._root_hit),
            shared_read=int(self._root_read),
            attributed_ms=self._attributed,
        )
        for tip in tip_rules.statement_tips(summary, tuple(self._triggers),
                                            self.foreign_keys):
            self._add_tip(tip)
        for group in self._groups.values():
            self._add_tip(_group_tip(group))
        self._groups.clear()
        graded = [(tip.saving_ms, seq, tip_rules.grade(tip, summary.total_ms))
                  for seq, tip in _fold_alike(self._tips)]
        hot = sorted(self._hot, key=lambda entry: (-entry[0], entry[1]))
        tips = sorted(graded, key=lambda entry: (entry[2].severity.rank, -entry[0], entry[1]))
        notes = list(self.notes)
        if self._plans > 1:
            shown = "; ".join(
                f"#{number} {root}, {nodes:,} nodes"
                + ("" if execution is None else f", {execution:,.3f} ms")
                for number, (root, execution, nodes) in enumerate(self._per_plan, 1))
            more = self._plans - len(self._per_plan)
            notes.append(f"{self._plans:,} plans in this input, each analysed (node ids run on "
                         f"from one to the next; totals are their sums): {shown}"
                         + (f"; and {more:,} more" if more > 0 else ""))
        if self._overshoot > max(self._root_ms * 0.01, 0.01):
            notes.append(f"children report {self._overshoot:,.3f} ms more than their parents "
                         f"(timing overhead, rounding): their exclusive times hold it, the "
                         f"summary's shares do not")
        if self._attributed > self._root_ms * 1.001 + 0.01:
            notes.append(f"the nodes' exclusive times add up to "
                         f"{self._attributed / max(self._root_ms, 0.001):.0%} of the root's "
                         f"time: some time is counted twice (please report this plan)")
        if self._analyzed and not self._saw_time:
            notes.append("EXPLAIN (ANALYZE, TIMING OFF): nodes carry row counts but no times, "
                         "so exclusive times are all zero")
        if self._analyzed and not self._saw_buffers:
            notes.append("no BUFFERS: read-efficiency and cache-miss need "
                         "EXPLAIN (ANALYZE, BUFFERS)")
        if not self._analyzed and summary.nodes:
            notes.append("no ANALYZE: estimates only, hot nodes ranked by exclusive cost")
        return PlanAnalysis(
            summary=summary,
            tips=tuple(entry[2] for entry in tips),
            hot_nodes=tuple(entry[2] for entry in hot),
            hot_paths={entry[2].id: entry[3] for entry in hot},
            nodes=None if self._all is None else tuple(sorted(self._all, key=lambda n: n.id)),
            triggers=tuple(self._triggers),
            notes=tuple(notes),
            tips_folded=dict(self._tips_folded),
            input_format=input_format,
        )

    # -- internals -----------------------------------------------------------------------

    def _register_initplan(self, scope: _Frame, subplan: str, inclusive: float) -> None:
        if subplan.startswith("CTE "):
            name = subplan[4:]
            self._ctes[name] = _Cte(inclusive)
            if scope.ctes is None:
                scope.ctes = []
            scope.ctes.append(name)
            return
        match = _RETURNS_RE.match(subplan)
        if match is None:
            scope.child_incl += inclusive
            return
        keys = re.findall(r"\$\d+", match.group(2) or "") or [f"InitPlan {match.group(1)}"]
        entry = _InitPlan(inclusive, scope)
        for key in keys:
            self._initplans[key] = entry
            if scope.initplans is None:
                scope.initplans = []
            scope.initplans.append(key)

    def _charge_references(self, frame: _Frame) -> None:
        node = frame.node
        for name in _EXPRESSION_FIELDS:
            value = getattr(node, name)
            if value is None:
                continue
            for ref in _REF_RE.findall(raw_text(value)):
                entry = self._initplans.get(ref)
                if entry is None or entry.charged:
                    continue
                entry.charged = True
                gather = frame.gather
                if gather is not None and gather.depth >= entry.scope.depth:
                    gather.charge += entry.time_ms
                else:
                    frame.charge += entry.time_ms

    def _group(self, parent: _Frame, tip: Tip | tip_rules.Folded) -> None:
        key = (parent.id, tip.code)
        group = self._groups.get(key)
        if group is None:
            label = node_label(parent.node_type, None, None, None)
            group = self._groups[key] = _Group(parent.id, label)
        group.count += 1
        group.saving_ms += tip.saving_ms
        if group.example is None and isinstance(tip, Tip):
            group.example = tip
            parent.member_floors = {**(parent.member_floors or {}), tip.code: float("inf")}

    def _add_tip(self, tip: Tip | None) -> None:
        if tip is None:
            return
        self._tip_seq += 1
        entry = (tip.saving_ms, -self._tip_seq, tip)
        if len(self._tips) < TIP_LIMIT:
            heapq.heappush(self._tips, entry)
            return
        dropped = heapq.heappushpop(self._tips, entry)[2]
        self._tips_folded[dropped.code] = self._tips_folded.get(dropped.code, 0) + 1

    def _keep(self, frame: _Frame, node: PlanNode, node_type: str,
              relationship: str | None, subplan: str | None, inclusive: float,
              exclusive: float, exclusive_cost: float, cost: float, loops: float,
              hit: float, read: float, analyzed: bool) -> None:
        rank = exclusive if self._analyzed else exclusive_cost
        hot = self._hot
        wanted_hot = len(hot) < HOT_LIMIT or rank > hot[0][0]
        if self._all is None and not wanted_hot:
            return
        stat = self._stat(frame, node, node_type, relationship, subplan, inclusive,
                          exclusive, exclusive_cost, cost, loops, hit, read, analyzed)
        if self._all is not None:
            self._all.append(stat)
            if len(self._all) > self._full_limit:
                self._all = None
        if wanted_hot:
            entry = (rank, frame.id, stat, self._path(frame))
            if len(hot) < HOT_LIMIT:
                heapq.heappush(hot, entry)
            else:
                heapq.heapreplace(hot, entry)

    @staticmethod
    def _stat(frame: _Frame, node: PlanNode, node_type: str,
              relationship: str | None, subplan: str | None, inclusive: float,
              exclusive: float, exclusive_cost: float, cost: float, loops: float,
              hit: float, read: float, analyzed: bool) -> NodeStat:
        return NodeStat(
            id=frame.id,
            parent_id=None if frame.parent is None else frame.parent.id,
            depth=frame.depth,
            node_type=node_type,
            relation=_relation(node),
            alias=node.alias,
            index_name=node.index_name,
            relationship=relationship,
            subplan_name=subplan,
            inclusive_ms=inclusive,
            exclusive_ms=exclusive,
            plan_rows=node.plan_rows or 0.0,
            actual_rows=(node.actual_rows or 0.0) if analyzed else None,
            loops=loops,
            shared_hit=int(hit),
            shared_read=int(read),
            temp_read=int(node.temp_read_blocks or 0.0),
            temp_written=int(node.temp_written_blocks or 0.0),
            io_read_ms=(node.io_read_time or 0.0) + (node.shared_io_read_time or 0.0),
            total_cost=cost,
            exclusive_cost=exclusive_cost,
            never_executed=analyzed and loops == 0,
        )

    def _path(self, frame: _Frame) -> tuple[PathStep, ...]:
        """Root-to-parent steps, built lazily (only for nodes that make the hot list)."""
        missing: list[_Frame] = []
        ancestor = frame.parent
        while ancestor is not None and ancestor.step is None:
            missing.append(ancestor)
            ancestor = ancestor.parent
        for item in reversed(missing):
            node = item.node
            label = node_label(node.node_type or "?", _relation(node), node.alias,
                               node.index_name)
            item.step = PathStep(item.id, label,
                                 None if item.parent is None else item.parent.step)
        return () if frame.parent is None or frame.parent.step is None \
            else frame.parent.step.chain()


def _fold_alike(tips: list[tuple[float, int, Tip]]) -> list[tuple[int, Tip]]:
    """Tips with the same code and title (the same advice about alike nodes: a subquery
    repeated in a UNION, a view used twice) folded into the first, with a count."""
    alike: dict[tuple[str, str], list[tuple[int, Tip]]] = {}
    for _, seq, tip in tips:
        alike.setdefault((tip.code, tip.title), []).append((seq, tip))
    out: list[tuple[int, Tip]] = []
    for group in alike.values():
        seq, first = max(group, key=lambda entry: (entry[1].saving_ms, entry[0]))
        if len(group) == 1:
            out.append((seq, first))
            continue
        others = sorted(t.node for _, t in group if t is not first and t.node is not None)
        shown = ", ".join(f"#{n}" for n in others[:10]) + (" …" if len(others) > 10 else "")
        out.append((seq, replace(
            first, title=f"{first.title} (x{len(group)}, alike)",
            detail=f"{first.detail}. The same at {len(group) - 1} more node(s): {shown}",
            saving_ms=round(sum(t.saving_ms for _, t in group), 3))))
    return out


def _group_tip(group: _Group) -> Tip | None:
    """One tip for all members of an Append with the same advice."""
    example = group.example
    if example is None:
        return None
    if group.count == 1:
        return example
    others = group.count - 1
    return replace(
        example,
        node=group.parent_id,
        title=f"{group.count:,} members of {group.parent_label} #{group.parent_id}, e.g. "
              f"{example.title}",
        detail=f"{example.detail}. The same applies to {others:,} more members of the "
               f"{group.parent_label} (partitions or UNION ALL branches); on a partitioned "
               f"table one CREATE INDEX on the parent table covers every partition",
        saving_ms=round(group.saving_ms, 3),
    )


def _leader_jit(total: float | None, workers_ms: float, worker_count: int,
                launched: int) -> tuple[float | None, str]:
    """The leader's JIT time, and how it was found.

    The statement's JIT summary adds up the leader's and every worker's compilation, which
    ran at the same time: summed, it can exceed the execution time. With VERBOSE each
    worker's total is printed under its node and is subtracted; without, the leader's
    share is estimated as the average per process.
    """
    if total is None:
        return None, "none"
    if launched == 0:
        return total, "leader"
    if worker_count:
        leader = total - workers_ms
        return (leader if leader > 0.0 else 0.0), "measured"
    return total / (launched + 1), "average"


def _settle(frame: _Frame) -> None:
    """Fix what a node inherits, once its own keys (not its children) have been read.

    Below a Gather, nodes run in every process (``par`` processes share the loops), except
    the Gather's InitPlans and SubPlans, which only the leader runs.
    """
    parent = frame.parent
    frame.settled = True
    if frame.props is not None:
        frame.node = from_props(frame.props)  # the keys read before the first child
    node = frame.node
    frame.node_type = node.node_type or "?"
    if parent is None:
        return
    parent_type = parent.node_type
    if parent_type in _GATHERS and node.parent_relationship not in ("InitPlan", "SubPlan"):
        frame.gather = parent
        launched = parent.node.workers_launched or 0.0
        single = parent.node.single_copy is True
        frame.par = max(1.0, launched if single else launched + 1.0)
    else:  # InitPlans and SubPlans of a Gather run in the leader only
        frame.gather = parent.gather
        frame.par = parent.par
    frame.under_limit = parent.under_limit or parent_type == "Limit"


def _stops_early(parent: _Frame, relationship: str | None) -> bool:
    """Whether the parent may stop reading this child before it is exhausted."""
    if parent.node_type == "Merge Join":
        return True
    return relationship == "Inner" and parent.node.join_type in ("Semi", "Anti")


def _relation(node: PlanNode) -> str | None:
    name = node.relation_name
    if name is None:
        name = node.function_name
        if name is None:
            return node.cte_name
    schema = node.schema
    return f"{schema}.{name}" if schema else name
