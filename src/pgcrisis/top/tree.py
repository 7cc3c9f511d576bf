"""The blocking tree: each root blocker, with the sessions waiting on it nested beneath.

``pg_blocking_pids()`` names both the sessions holding a conflicting lock and those queued
ahead for one (a queued ``ALTER TABLE`` blocks every later reader of its table although it
holds nothing yet). A waiter blocked by a session that is itself waiting on another of its
blockers is placed under the nearer one, so a chain reads root → ALTER → readers, not as
three flat pairs. A session blocked by two independent sessions appears under both. Pid 0
stands for a prepared transaction (it holds locks with no session).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pgcrisis.model.activity import Backend, LockWait
from pgcrisis.model.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class TreeNode:
    """One session in the tree: a root (``waiting_s`` is None) or a waiter."""

    pid: int
    label: str               # "pid 123 alice@shop" or "prepared transaction 'gid'"
    state: str
    query: str
    waiting_s: float | None  # how long it has waited (its statement's age), None for a root
    wants: str               # the lock it waits for: "AccessExclusiveLock on public.orders"
    behind: int              # sessions waiting on it, directly or not
    children: tuple[TreeNode, ...] = ()

    def walk(self, depth: int = 0) -> list[tuple[int, TreeNode]]:
        """This node and its descendants, depth first, with their depth."""
        out = [(depth, self)]
        for child in self.children:
            out.extend(child.walk(depth + 1))
        return out


def _closure(start: int, edges: Mapping[int, Sequence[int]]) -> set[int]:
    """Every pid reachable from ``start`` along ``edges`` (cycles allowed)."""
    seen: set[int] = set()
    stack = list(edges.get(start, ()))
    while stack:
        pid = stack.pop()
        if pid not in seen:
            seen.add(pid)
            stack.extend(edges.get(pid, ()))
    return seen


def _parents(blocked_by: Mapping[int, tuple[int, ...]]) -> dict[int, tuple[int, ...]]:
    """Each waiter's nearest blockers: a blocker that another of its blockers waits on
    (directly or not) is farther up the chain and left out."""
    parents: dict[int, tuple[int, ...]] = {}
    for pid, blockers in blocked_by.items():
        uniq = tuple(dict.fromkeys(b for b in blockers if b != pid))
        upstream: set[int] = set()
        for b in uniq:
            upstream |= _closure(b, blocked_by)
        nearest = tuple(b for b in uniq if b not in upstream) or uniq[:1]
        parents[pid] = nearest
    return parents


def blocking_tree(snapshot: Snapshot) -> tuple[TreeNode, ...]:
    """The roots (sessions that block others and wait on nobody; in a cycle, its lowest pid),
    most sessions behind first, each with its waiters nested."""
    backends = {b.pid: b for b in snapshot.activity}
    blocked_by = {b.pid: b.blocked_by for b in snapshot.activity if b.blocked_by}
    if not blocked_by:
        return ()
    parents = _parents(blocked_by)
    children: dict[int, list[int]] = {}
    for pid, ps in parents.items():
        for p in ps:
            children.setdefault(p, []).append(pid)
    waits = {w.pid: w for w in snapshot.lock_waits}
    prepared = {0: snapshot.prepared[0].gid} if len(snapshot.prepared) == 1 else {}
    behind = {pid: len(_closure(pid, children)) for pid in children}
    roots = [pid for pid in children if pid not in blocked_by]
    placed = set(roots).union(*(_closure(r, children) for r in roots))
    for pid in sorted(children):  # a cycle (a deadlock not yet detected) has no root
        if pid not in placed:
            roots.append(pid)
            placed |= {pid} | _closure(pid, children)

    def node(pid: int, path: frozenset[int]) -> TreeNode:
        b = backends.get(pid)
        kids = tuple(sorted((node(c, path | {c}) for c in children.get(pid, ()) if c not in path),
                            key=lambda n: (-n.behind, -(n.waiting_s or 0), n.pid)))
        return TreeNode(pid=pid, label=_label(pid, b, prepared), state=_state(b),
                        query=b.query if b else "", waiting_s=_waiting(b, pid in blocked_by),
                        wants=_wants(waits.get(pid)), behind=behind.get(pid, 0), children=kids)

    built = [node(r, frozenset({r})) for r in roots]
    return tuple(sorted(built, key=lambda n: (-n.behind, n.pid)))


def _label(pid: int, b: Backend | None, prepared: Mapping[int, str]) -> str:
    if pid == 0:
        gid = prepared.get(0)
        return f"prepared transaction {gid!r}" if gid else "a prepared transaction"
    if b is None:
        return f"pid {pid}"
    who = "@".join(x for x in (b.usename, b.datname) if x)
    return f"pid {pid} {who}".rstrip()


def _state(b: Backend | None) -> str:
    if b is None:
        return ""
    return b.state or b.backend_type


def _waiting(b: Backend | None, waits: bool) -> float | None:
    if not waits or b is None:
        return None
    return b.state_age_s if b.state_age_s is not None else b.query_age_s


def _wants(w: LockWait | None) -> str:
    if w is None:
        return ""
    on = w.relation or w.locktype
    return f"{w.mode} on {on}"
