"""A plan node while the analysis reads it: its keys, what it inherits from the nodes above
(parallel processes, a Limit above it), and what its finished children added up to.

The analysis keeps one :class:`Frame` per open node (the stack is as deep as the plan) and
drops it when the node closes, unless the node's path is still needed for a hot node below.
"""

from __future__ import annotations

from dataclasses import dataclass

from pgcrisis.plan._node import PlanNode, from_props
from pgcrisis.plan._values import Props
from pgcrisis.plan.model import PathStep
from pgcrisis.plan.tips import PendingTip

GATHERS = frozenset({"Gather", "Gather Merge"})


@dataclass(slots=True, eq=False)
class Frame:
    """A node being read: its own keys so far and what its finished children added up to."""

    id: int
    depth: int
    parent: Frame | None
    props: Props | None  # the keys a scanner gathers in a dict; None when decoded typed
    node: PlanNode
    late: Props | None = None  # keys of a typed node that came after its "Plans"
    par: float = 1.0
    gather: Frame | None = None
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
    pending: list[PendingTip] | None = None
    step: PathStep | None = None
    under_limit: bool = False
    settled: bool = False
    member_floors: dict[str, float] | None = None  # codes its members only count (tip groups)
    node_type: str = "?"


def settle(frame: Frame) -> None:
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
    if parent_type in GATHERS and node.parent_relationship not in ("InitPlan", "SubPlan"):
        frame.gather = parent
        launched = parent.node.workers_launched or 0.0
        single = parent.node.single_copy is True
        frame.par = max(1.0, launched if single else launched + 1.0)
    else:  # InitPlans and SubPlans of a Gather run in the leader only
        frame.gather = parent.gather
        frame.par = parent.par
    frame.under_limit = parent.under_limit or parent_type == "Limit"


def stops_early(parent: Frame, relationship: str | None) -> bool:
    """Whether the parent may stop reading this child before it is exhausted."""
    if parent.node_type == "Merge Join":
        return True
    return relationship == "Inner" and parent.node.join_type in ("Semi", "Anti")


def relation(node: PlanNode) -> str | None:
    """What a node reads, as reports name it: ``schema.table`` (or a function, a CTE)."""
    name = node.relation_name
    if name is None:
        name = node.function_name
        if name is None:
            return node.cte_name
    schema = node.schema
    return f"{schema}.{name}" if schema else name
