"""Tip rules: what in a finished node (or the whole statement) deserves advice.

Each rule is a small pure function of :class:`NodeFacts` (a node's own keys plus its
computed times) that returns a :class:`~pgcrisis.plan.model.Tip` or nothing; the modules
here hold them by family: :mod:`.scans` (missing-index, read-efficiency, cache-miss),
:mod:`.operators` (work_mem spills, lossy bitmaps, nested loops), :mod:`.estimates`
(row-misestimate), :mod:`.statement` (JIT, planning, triggers); :mod:`.facts` holds what
they share. Which rules apply to which node type is declared once, below. Thresholds are
module constants beside the rules that use them: the analysis has no configuration of its
own.
"""

from __future__ import annotations

from collections.abc import Callable

from pgcrisis.plan.model import Tip
from pgcrisis.plan.tips.estimates import default_estimate, misestimated, row_misestimate
from pgcrisis.plan.tips.facts import Folded, NodeFacts, PendingTip, grade
from pgcrisis.plan.tips.operators import hash_spill, lossy_bitmap, nested_loop, sort_spill
from pgcrisis.plan.tips.scans import cache_miss, missing_index, read_efficiency
from pgcrisis.plan.tips.statement import statement_tips

__all__ = [
    "Folded", "NodeFacts", "PendingTip", "default_estimate", "grade", "misestimated",
    "node_tips", "row_misestimate", "statement_tips",
]

_SCANS = frozenset({"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan",
                    "Tid Scan", "Tid Range Scan"})


def node_tips(facts: NodeFacts) -> list[Tip | Folded]:
    """Every node-level rule that applies to this node type, for one finished node."""
    if not facts.analyzed:
        return []
    found: list[Tip | Folded] = []
    for rule in _RULES.get(facts.node_type, ()):
        tip = rule(facts)
        if tip is not None:
            found.append(tip)
    return found


Rule = Callable[[NodeFacts], "Tip | Folded | None"]
_SCAN_RULES: tuple[Rule, ...] = (read_efficiency, cache_miss)
_RULES: dict[str, tuple[Rule, ...]] = {
    "Seq Scan": (missing_index, *_SCAN_RULES),
    **{scan: _SCAN_RULES for scan in _SCANS if scan not in ("Seq Scan", "Bitmap Heap Scan")},
    "Bitmap Heap Scan": (*_SCAN_RULES, lossy_bitmap),
    "Sort": (sort_spill,),
    "Incremental Sort": (sort_spill,),
    "Hash": (hash_spill,),
    "Aggregate": (hash_spill,),
    "Nested Loop": (nested_loop,),
}
