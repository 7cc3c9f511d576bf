"""A plan read from its estimates alone (EXPLAIN without ANALYZE: a generic plan), for the
tips that need no actual figures (:mod:`.tips.generic`).

Only when asked (``analyse(..., estimates=True)``): the analysis keeps every node's own keys
and costs (at most :data:`LIMIT` nodes: a generic plan has tens), and once the plan is read
the rules run over the whole tree, because how often a node runs is known only from the
nodes around it. How often the planner expects each node to run, top-down:

* a root runs once;
* the inner side of a Nested Loop once per row of its outer side (estimated rows, per run of
  the join);
* a SubPlan once per row its parent evaluates it for (a ``hashed`` one once): the planner
  charges the parent its cost per row, so the parent's own cost over the SubPlans' costs
  counts the rows it was charged for (what the parent did itself adds a little: an upper
  bound, as the planner's own charge is);
* the child of a Materialize once per run of the node above the Materialize (its rescans
  read the stored rows);
* any other node as often as its parent.

A node above that stops early (a Limit; the planner charges it only the part of its child's
cost it expects to use) makes a part run less than its loops say: :meth:`EstimatedTree.
fraction` is that part, the product of ``min(1, parent's cost / child's cost)`` up the path.

Row counts and loops are the planner's per run and per process, as EXPLAIN prints them;
below a Gather the part runs in :meth:`EstimatedTree.processes` processes (the planner's
divisor: its workers and the leader's share), by which a count over all of them is
multiplied.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from pgcrisis.plan._node import PlanNode
from pgcrisis.plan._values import raw_text
from pgcrisis.plan.model import node_label

#: the largest plan whose estimates are read for tips (a generic plan has tens of nodes)
LIMIT = 2000

#: a Gather's workers and its leader share the rows of the parallel part below it
_GATHERS = frozenset({"Gather", "Gather Merge"})
#: where a node's expressions are, to find ``hashed SubPlan N``
_EXPRESSIONS = ("filter", "join_filter", "hash_cond", "merge_cond", "one_time_filter",
                "index_cond", "recheck_cond", "output")


@dataclass(frozen=True, slots=True)
class EstimatedNode:
    """One node as the estimate rules read it: its keys and the planner's costs."""

    id: int
    parent_id: int | None
    relationship: str | None
    subplan_name: str | None
    node_type: str
    node: PlanNode
    cost: float
    exclusive_cost: float

    @property
    def rows(self) -> float:
        """The planner's rows per run."""
        return self.node.plan_rows or 0.0

    @property
    def relation(self) -> tuple[str | None, str] | None:
        """(schema, name) of the table it reads (the schema when VERBOSE gave it)."""
        name = self.node.relation_name
        return None if name is None else (self.node.schema, name)

    @property
    def where(self) -> str:
        """How tips name it: ``Seq Scan on public.orders``."""
        rel = self.relation
        if rel is None:
            return self.node_type
        return f"{self.node_type} on {rel[0]}.{rel[1]}" if rel[0] else \
            f"{self.node_type} on {rel[1]}"

    @property
    def label(self) -> str:
        """As EXPLAIN's text format names it, with its alias."""
        rel = self.relation
        relation = None if rel is None else (f"{rel[0]}.{rel[1]}" if rel[0] else rel[1])
        return node_label(self.node_type, relation, self.node.alias, self.node.index_name)

    def mentions(self, text: str) -> bool:
        """Whether one of its expressions contains ``text``."""
        return any(text in raw_text(getattr(self.node, name)) for name in _EXPRESSIONS
                   if getattr(self.node, name) is not None)


class EstimatedTree:
    """The nodes of a plan without actual figures, and how often each is expected to run."""

    def __init__(self, nodes: Sequence[EstimatedNode]) -> None:
        self.nodes = {n.id: n for n in nodes}
        self.children: dict[int, list[EstimatedNode]] = {}
        for n in sorted(nodes, key=lambda n: n.id):
            if n.parent_id is not None:
                self.children.setdefault(n.parent_id, []).append(n)
        self.loops: dict[int, float] = {}
        self.processes: dict[int, float] = {}
        self.root_cost: dict[int, float] = {}
        for n in sorted(nodes, key=lambda n: n.id):  # a parent's id is below its children's
            self.loops[n.id] = self._loops(n)
            self.processes[n.id] = self._processes(n)
            parent = self.parent(n)
            self.root_cost[n.id] = n.cost if parent is None else self.root_cost[parent.id]

    def parent(self, n: EstimatedNode) -> EstimatedNode | None:
        return None if n.parent_id is None else self.nodes.get(n.parent_id)

    def child(self, n: EstimatedNode, relationship: str) -> EstimatedNode | None:
        """Its first child of ``relationship`` (``Outer``, ``Inner``)."""
        return next((c for c in self.children.get(n.id, ()) if c.relationship == relationship),
                    None)

    def subplans(self, n: EstimatedNode) -> list[EstimatedNode]:
        """The SubPlans it evaluates per row (a ``hashed`` one is built once: left out)."""
        return [c for c in self.children.get(n.id, ()) if c.relationship == "SubPlan"
                and not (c.subplan_name and n.mentions(f"hashed {c.subplan_name}"))]

    def runs_per_row(self, n: EstimatedNode) -> float:
        """How many rows the planner charged ``n`` its per-row SubPlans for, per run of it:
        its own cost (less its InitPlans, run once) over their costs, at least its rows."""
        per_row = sum(c.cost for c in self.subplans(n))
        if per_row <= 0.0:
            return 1.0
        once = sum(c.cost for c in self.children.get(n.id, ()) if c.relationship == "InitPlan")
        own = max(0.0, n.exclusive_cost - once)
        return max(n.rows, (own + per_row) / per_row, 1.0)

    def subtree(self, n: EstimatedNode) -> Iterator[EstimatedNode]:
        """``n`` and every node below it."""
        todo = [n]
        while todo:
            node = todo.pop()
            yield node
            todo.extend(reversed(self.children.get(node.id, ())))

    def share(self, n: EstimatedNode, cost: float) -> float:
        """``cost`` as a share of the total cost of the plan ``n`` belongs to."""
        total = self.root_cost.get(n.id, 0.0)
        return min(1.0, cost / total) if total > 0.0 else 0.0

    def fraction(self, n: EstimatedNode) -> float:
        """The share of ``n``'s runs the plan expects to complete: below a node that stops
        early (a Limit), only the part of its cost the node above is charged for."""
        share = 1.0
        child, parent = n, self.parent(n)
        while parent is not None:
            if child.cost > 0.0 and parent.cost < child.cost:
                share *= parent.cost / child.cost
            child, parent = parent, self.parent(parent)
        return share

    def scans(self, n: EstimatedNode) -> float:
        """How many times ``n`` reads its whole input over all processes: a parallel-aware
        node shares one reading among them, any other node reads it in each."""
        shared = n.node.parallel_aware is True
        return self.loops[n.id] * (1.0 if shared else self.processes[n.id])

    def rows_of_all(self, n: EstimatedNode) -> float:
        """The rows one run of ``n`` yields over all processes (a parallel-aware node's are
        printed per process)."""
        return n.rows * (self.processes[n.id] if n.node.parallel_aware else 1.0)

    def _processes(self, n: EstimatedNode) -> float:
        parent = self.parent(n)
        if parent is None:
            return 1.0
        if parent.node_type in _GATHERS:
            if n.relationship in ("InitPlan", "SubPlan") or parent.node.single_copy:
                return 1.0  # the leader's, or one worker's
            workers = parent.node.workers_planned or 0.0
            return workers + max(0.0, 1.0 - 0.3 * workers)  # the planner's divisor
        return self.processes[parent.id]

    def _loops(self, n: EstimatedNode) -> float:
        parent = self.parent(n)
        if parent is None:
            return 1.0
        base = self.loops[parent.id]
        if n.relationship == "Inner" and parent.node_type == "Nested Loop":
            outer = self.child(parent, "Outer")
            return base * max(outer.rows if outer is not None else 1.0, 1.0)
        if n.relationship == "SubPlan":
            hashed = n.subplan_name is not None and parent.mentions(f"hashed {n.subplan_name}")
            return base if hashed else base * self.runs_per_row(parent)
        if parent.node_type == "Materialize":
            above = self.parent(parent)
            return self.loops[above.id] if above is not None else base
        return base
