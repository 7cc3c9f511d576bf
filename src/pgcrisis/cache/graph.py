"""The dependency graph of materialized views, walking through the plain views in between.

A matview ``b`` *depends on* a matview ``a`` when ``b``'s query reads ``a`` directly or
through plain views (``mv_b -> v_x -> v_y -> mv_a``): a refresh of ``b`` must then come after
one of ``a`` or it caches stale data. Plain views cache nothing, so they are only walked
through. Levels count refresh generations: a matview reading no other matview is level 0, a
matview reading only level-0 ones is level 1, and so on. PostgreSQL forbids real cycles in
view definitions, but hand-edited catalogues and merged graphs can have them: they are
reported (:attr:`CacheGraph.cycles`) and their members get no level, never looped on.

>>> g = CacheGraph.build(["a", "b", "c"], [("b", "a"), ("c", "b")])
>>> g.order(), g.levels["c"]
(('a', 'b', 'c'), 2)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pgcrisis.model.matviews import Matviews


@dataclass(frozen=True, slots=True)
class CacheGraph:
    """Matviews (``nodes``) and which matviews each one is built on (``bases``).

    ``via`` maps a ``(view, base)`` edge to the plain views between them (empty when direct).
    """

    nodes: tuple[str, ...]
    bases: Mapping[str, tuple[str, ...]]
    via: Mapping[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, nodes: Iterable[str], edges: Iterable[tuple[str, str]]) -> CacheGraph:
        """A graph from ``(view, base)`` pairs between matviews (unknown names are added)."""
        names = list(dict.fromkeys(nodes))
        bases: dict[str, list[str]] = {n: [] for n in names}
        for view, base in edges:
            for n in (view, base):
                if n not in bases:
                    bases[n] = []
                    names.append(n)
            if base not in bases[view] and base != view:
                bases[view].append(base)
        return cls(tuple(sorted(names)), {k: tuple(sorted(v)) for k, v in bases.items()})

    @classmethod
    def from_matviews(cls, mv: Matviews) -> CacheGraph:
        """Collapse the snapshot's view-on-view edges to matview-on-matview edges."""
        reads: dict[str, list[str]] = {}
        kind: dict[str, str] = {v.name: "m" for v in mv.views}
        for e in mv.edges:
            reads.setdefault(e.view, []).append(e.reads)
            kind.setdefault(e.view, e.view_kind)
            kind.setdefault(e.reads, e.reads_kind)
        edges: list[tuple[str, str]] = []
        via: dict[tuple[str, str], tuple[str, ...]] = {}
        for view in (n for n, k in kind.items() if k == "m"):
            # walk down through plain views only; stop at the first matview on each path
            todo: list[tuple[str, tuple[str, ...]]] = [(r, ()) for r in reads.get(view, [])]
            seen: set[str] = set()
            while todo:
                name, path = todo.pop()
                if name in seen:
                    continue
                seen.add(name)
                if kind.get(name) == "m":
                    if name != view and (view, name) not in via:
                        edges.append((view, name))
                        via[(view, name)] = path
                    continue
                todo.extend((r, (*path, name)) for r in reads.get(name, []))
        graph = cls.build([v.name for v in mv.views], edges)
        return cls(graph.nodes, graph.bases, via)

    # -- structure ---------------------------------------------------------------------

    @property
    def dependents_of(self) -> dict[str, tuple[str, ...]]:
        """The matviews built directly on each node."""
        out: dict[str, list[str]] = {n: [] for n in self.nodes}
        for view, bases in self.bases.items():
            for b in bases:
                out[b].append(view)
        return {k: tuple(sorted(v)) for k, v in out.items()}

    @property
    def cycles(self) -> tuple[tuple[str, ...], ...]:
        """Groups of matviews that depend on one another in a loop (Tarjan's SCC, iterative)."""
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on_stack: set[str] = set()
        found: list[tuple[str, ...]] = []
        counter = 0
        for root in self.nodes:
            if root in index:
                continue
            work: list[tuple[str, int]] = [(root, 0)]
            while work:
                node, i = work.pop()
                if i == 0:
                    index[node] = low[node] = counter
                    counter += 1
                    stack.append(node)
                    on_stack.add(node)
                succ = self.bases.get(node, ())
                if i < len(succ):
                    work.append((node, i + 1))
                    nxt = succ[i]
                    if nxt not in index:
                        work.append((nxt, 0))
                    elif nxt in on_stack:
                        low[node] = min(low[node], index[nxt])
                    continue
                if low[node] == index[node]:
                    group: list[str] = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        found.append(tuple(sorted(group)))
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
        return tuple(sorted(found))

    @property
    def levels(self) -> dict[str, int]:
        """Refresh generation of each matview (longest chain of bases below it); members of
        a cycle, and what is built on them, get none."""
        level: dict[str, int] = {}
        for name in self.order():
            level[name] = 1 + max((level[b] for b in self.bases.get(name, ())), default=-1)
        return level

    def order(self, within: Iterable[str] | None = None) -> tuple[str, ...]:
        """Bases before dependents (Kahn's algorithm, ties by name); views in or behind a
        cycle are left out (see :attr:`cycles`)."""
        keep = set(self.nodes if within is None else within)
        pending = {n: {b for b in self.bases.get(n, ()) if b in keep} for n in keep}
        ready = sorted(n for n, b in pending.items() if not b)
        dependents = self.dependents_of
        out: list[str] = []
        while ready:
            name = ready.pop(0)
            out.append(name)
            for d in dependents.get(name, ()):
                if d in pending and name in pending[d]:
                    pending[d].discard(name)
                    if not pending[d]:
                        ready.append(d)
                        ready.sort()
        return tuple(out)

    def stuck(self) -> tuple[str, ...]:
        """Matviews that cannot be ordered: in a cycle, or built on one."""
        ordered = set(self.order())
        return tuple(n for n in self.nodes if n not in ordered)

    def downstream(self, names: Iterable[str]) -> tuple[str, ...]:
        """``names`` and every matview built on them, directly or not (sorted)."""
        dependents = self.dependents_of
        found = set(names)
        todo = list(found)
        while todo:
            for d in dependents.get(todo.pop(), ()):
                if d not in found:
                    found.add(d)
                    todo.append(d)
        return tuple(sorted(found))

    def roots(self) -> tuple[str, ...]:
        """Matviews built on no other matview."""
        return tuple(n for n in self.nodes if not self.bases.get(n))
