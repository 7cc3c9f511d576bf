"""The tips found so far, in bounded memory, and how they are ranked at the end.

Only the :data:`TIP_LIMIT` tips with the largest savings are kept (a heap); a tip below the
smallest kept one is counted per code, and the rules are told that floor so they do not
write tips nobody will see. Tips about members of an Append (partitions, UNION ALL
branches) are merged per Append and code: 10,000 partitions missing the same index make one
tip, not 10,000. At the end, tips with the same advice about alike nodes are folded into one
with a count, graded, and ranked.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, replace

from pgcrisis.durations import exact_ms
from pgcrisis.plan import tips as tip_rules
from pgcrisis.plan._frame import Frame, stops_early
from pgcrisis.plan._node import PlanNode
from pgcrisis.plan.model import ForeignKey, Summary, Tip, TriggerStat, node_label

#: How many tips are kept; the rest are counted per code.
TIP_LIMIT = 60
_APPENDS = frozenset({"Append", "Merge Append"})
#: How many Append groups are kept; members of further Appends make tips of their own.
GROUP_LIMIT = 10_000


@dataclass(slots=True)
class _Group:
    """Tips of one code about members of one Append: how many, their saving, one example."""

    parent_id: int
    parent_label: str
    count: int = 0
    saving_ms: float = 0.0
    example: Tip | None = None


class TipBook:
    """Collects the tips of every finished node, then of the statement."""

    def __init__(self) -> None:
        self._tips: list[tuple[float, int, Tip]] = []
        self._seq = 0
        #: tips not written out (below the floor, or pushed out of the heap), per code
        self.folded: dict[str, int] = {}
        self._groups: dict[tuple[int, str], _Group] = {}

    def judge(self, frame: Frame, node: PlanNode, node_type: str, analyzed: bool,
              inclusive: float, exclusive: float, loops: float, hit: float,
              read: float) -> None:
        """The tips of a finished node (its figures as the analysis computed them); a
        row-misestimate waits in its parent until the parent's time is known."""
        parent = frame.parent
        own_hit = hit - frame.child_hit
        own_read = read - frame.child_read
        tips = self._tips
        # (positional: this runs per node, and keywords cost a third more)
        facts = tip_rules.NodeFacts(
            frame.id, node_type, node, analyzed, inclusive, exclusive, loops,
            own_hit if own_hit > 0.0 else 0.0, own_read if own_read > 0.0 else 0.0,
            frame.inner_loops, frame.inner_incl, frame.inner_id,
            tips[0][0] if len(tips) >= TIP_LIMIT else -1.0)
        grouped = parent is not None and parent.node_type in _APPENDS and (
            len(self._groups) < GROUP_LIMIT)
        if grouped:
            assert parent is not None
            facts.floor = -1.0  # the first member with each code writes the example,
            facts.floors = parent.member_floors  # the others are only counted
        misestimated = tip_rules.misestimated(facts, frame.under_limit or (
            parent is not None and stops_early(parent, node.parent_relationship)))
        for pending in frame.pending or ():
            self.add(pending.finish(exclusive))
        if misestimated and not frame.child_misestimate:
            found = tip_rules.row_misestimate(facts)
            if found is not None:
                if parent is None:
                    self.add(found.finish(0.0))
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
                self.folded[tip.code] = self.folded.get(tip.code, 0) + 1
            else:
                self.add(tip)

    def add(self, tip: Tip | None) -> None:
        """Keep a tip if it is among the largest savings so far; else count it."""
        if tip is None:
            return
        self._seq += 1
        entry = (tip.saving_ms, -self._seq, tip)
        if len(self._tips) < TIP_LIMIT:
            heapq.heappush(self._tips, entry)
            return
        dropped = heapq.heappushpop(self._tips, entry)[2]
        self.folded[dropped.code] = self.folded.get(dropped.code, 0) + 1

    def ranked(self, summary: Summary, triggers: tuple[TriggerStat, ...],
               foreign_keys: Mapping[str, ForeignKey]) -> tuple[Tip, ...]:
        """Every tip, the statement's included, folded, graded and ranked: by severity,
        then saving, then the order they were found in."""
        for tip in tip_rules.statement_tips(summary, triggers, foreign_keys):
            self.add(tip)
        for group in self._groups.values():
            self.add(_group_tip(group))
        self._groups.clear()
        graded = [(tip.saving_ms, seq, tip_rules.grade(tip, summary.total_ms))
                  for seq, tip in _fold_alike(self._tips)]
        ranked = sorted(graded, key=lambda entry: (entry[2].severity.rank, -entry[0], entry[1]))
        return tuple(entry[2] for entry in ranked)

    def _group(self, parent: Frame, tip: Tip | tip_rules.Folded) -> None:
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
            saving_ms=exact_ms(sum(t.saving_ms for _, t in group)))))
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
        saving_ms=exact_ms(group.saving_ms),
    )
