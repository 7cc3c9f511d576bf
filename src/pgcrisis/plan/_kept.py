"""The nodes a report shows: every node of a small plan (drawn whole), and the hottest of
any plan with the path from the root to each. Everything else is dropped as it finishes,
so memory does not grow with the plan's size.
"""

from __future__ import annotations

import heapq

from pgcrisis.plan._frame import Frame, relation
from pgcrisis.plan._node import PlanNode
from pgcrisis.plan.model import NodeStat, PathStep, node_label

#: Plans with at most this many nodes are kept whole (every node drawn); bigger ones fold.
FULL_TREE_LIMIT = 2000
#: How many of the hottest nodes are kept (with their paths) for a folded plan.
HOT_LIMIT = 25


class KeptNodes:
    """Finished nodes worth keeping. The analysis checks ``all`` and ``hot`` inline first
    (most nodes of a big plan are neither drawn nor hot: no call for them) and calls
    :meth:`keep` for the rest.

    ``all`` is every node until there are more than the limit, then ``None``; ``hot`` is a
    min-heap of (rank, id, stat, path) holding at most :data:`HOT_LIMIT`.
    """

    def __init__(self, full_tree_limit: int = FULL_TREE_LIMIT) -> None:
        self.all: list[NodeStat] | None = []
        self.hot: list[tuple[float, int, NodeStat, tuple[PathStep, ...]]] = []
        self._full_limit = full_tree_limit

    def keep(self, frame: Frame, node: PlanNode, node_type: str,
             relationship: str | None, subplan: str | None, inclusive: float,
             exclusive: float, exclusive_cost: float, cost: float, loops: float,
             hit: float, read: float, analyzed: bool, rank: float) -> None:
        """Keep a finished node, drawn (small plan) or hot (by ``rank``), or both."""
        hot = self.hot
        wanted_hot = len(hot) < HOT_LIMIT or rank > hot[0][0]
        if self.all is None and not wanted_hot:
            return
        stat = _stat(frame, node, node_type, relationship, subplan, inclusive,
                     exclusive, exclusive_cost, cost, loops, hit, read, analyzed)
        if self.all is not None:
            self.all.append(stat)
            if len(self.all) > self._full_limit:
                self.all = None
        if wanted_hot:
            entry = (rank, frame.id, stat, _path(frame))
            if len(hot) < HOT_LIMIT:
                heapq.heappush(hot, entry)
            else:
                heapq.heapreplace(hot, entry)

    def hottest(self) -> list[tuple[float, int, NodeStat, tuple[PathStep, ...]]]:
        """The hot nodes, hottest first (ties: the first read)."""
        return sorted(self.hot, key=lambda entry: (-entry[0], entry[1]))

    def drawn(self) -> tuple[NodeStat, ...] | None:
        """Every node in id order, or ``None`` when the plan was too big to keep whole."""
        return None if self.all is None else tuple(sorted(self.all, key=lambda n: n.id))


def _stat(frame: Frame, node: PlanNode, node_type: str,
          relationship: str | None, subplan: str | None, inclusive: float,
          exclusive: float, exclusive_cost: float, cost: float, loops: float,
          hit: float, read: float, analyzed: bool) -> NodeStat:
    return NodeStat(
        id=frame.id,
        parent_id=None if frame.parent is None else frame.parent.id,
        depth=frame.depth,
        node_type=node_type,
        relation=relation(node),
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


def _path(frame: Frame) -> tuple[PathStep, ...]:
    """Root-to-parent steps, built lazily (only for nodes that make the hot list)."""
    missing: list[Frame] = []
    ancestor = frame.parent
    while ancestor is not None and ancestor.step is None:
        missing.append(ancestor)
        ancestor = ancestor.parent
    for item in reversed(missing):
        node = item.node
        label = node_label(node.node_type or "?", relation(node), node.alias, node.index_name)
        item.step = PathStep(item.id, label, None if item.parent is None else item.parent.step)
    return () if frame.parent is None or frame.parent.step is None \
        else frame.parent.step.chain()
