"""InitPlans and CTEs: whose time is inside which node's.

* An InitPlan runs once, when the node that uses its result (``$0``, ``(InitPlan 1).col1``)
  first evaluates it: its time is inside that node's time, not inside its listed parent's.
  So it is charged to the node whose expressions reference it (to the Gather when that node
  runs in a worker, since the leader evaluates it before launching workers), and to the
  listing parent only if nothing references it.
* A CTE runs as its CTE Scans pull rows: its time is inside the scans' time. Each scan, in
  the order they finish, gives up the part of the CTE's time it can have caused (at most its
  own inclusive time).

A charge is time a node's inclusive time holds that is not its own work: the analysis takes
it off the node's exclusive time, as it does its children's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pgcrisis.plan._frame import Frame
from pgcrisis.plan._values import raw_text

_EXPRESSION_FIELDS = (
    "output", "filter", "index_cond", "recheck_cond", "join_filter", "hash_cond",
    "merge_cond", "one_time_filter", "tid_cond", "sort_key", "group_key", "order_by",
    "cache_key", "run_condition",
)
_REF_RE = re.compile(r"\$\d+|InitPlan \d+")
_RETURNS_RE = re.compile(r"^InitPlan (\d+)(?: \(returns (.*)\))?")


@dataclass(slots=True)
class _InitPlan:
    time_ms: float
    scope: Frame
    charged: bool = False


@dataclass(slots=True)
class _Cte:
    remaining_ms: float


class Subplans:
    """The InitPlans and CTEs in scope, by the names nodes reference them by."""

    def __init__(self) -> None:
        self.initplans: dict[str, _InitPlan] = {}
        self.ctes: dict[str, _Cte] = {}

    def register(self, scope: Frame, subplan: str, inclusive: float) -> None:
        """An InitPlan (or CTE) listed under ``scope`` finished, taking ``inclusive`` ms."""
        if subplan.startswith("CTE "):
            name = subplan[4:]
            self.ctes[name] = _Cte(inclusive)
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
            self.initplans[key] = entry
            if scope.initplans is None:
                scope.initplans = []
            scope.initplans.append(key)

    def charge(self, frame: Frame, node_type: str, inclusive: float) -> None:
        """Charge ``frame`` (a finished node) with the InitPlans it references, those listed
        under it that nothing referenced, and the part of a CTE it reads; then drop what goes
        out of scope with it. Called only where any is in scope."""
        if self.initplans:
            self._charge_references(frame)
        for key in frame.initplans or ():
            entry = self.initplans.pop(key, None)
            if entry is not None and not entry.charged:
                entry.charged = True
                frame.charge += entry.time_ms
        # A CTE Scan can own the CTE it reads (the CTE is listed under it): it takes the
        # CTE's time before the CTE goes out of scope with it.
        if node_type == "CTE Scan" and self.ctes:
            cte = self.ctes.get(frame.node.cte_name or "")
            if cte is not None:
                take = min(cte.remaining_ms, inclusive - frame.charge)
                take = take if take > 0.0 else 0.0
                cte.remaining_ms -= take
                frame.charge += take
        for name in frame.ctes or ():
            self.ctes.pop(name, None)

    def _charge_references(self, frame: Frame) -> None:
        node = frame.node
        for name in _EXPRESSION_FIELDS:
            value = getattr(node, name)
            if value is None:
                continue
            for ref in _REF_RE.findall(raw_text(value)):
                entry = self.initplans.get(ref)
                if entry is None or entry.charged:
                    continue
                entry.charged = True
                gather = frame.gather
                if gather is not None and gather.depth >= entry.scope.depth:
                    gather.charge += entry.time_ms
                else:
                    frame.charge += entry.time_ms
