"""Blocking chains read from ``log_lock_waits``: who waited for whom, over time, ROOT first.

Each "still waiting" line names the waiter, the lock, the holders and the queue; a waiter
that is itself waited for links the chain (C waits for B, B for A: A is the root, the holder
that waits for nobody, and the one to act on, as live triage says). "acquired ... after N
ms", or an error of the waiter (a timeout, a deadlock, a cancel), ends a wait.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pgcrisis.durations import lasted
from pgcrisis.logs.events import Event, Kind
from pgcrisis.logs.evidence import log_evidence, short, span
from pgcrisis.model.findings import Finding, ObjectRef, Remedy, Severity

#: a root's waits this far apart are two episodes (a pid is reused; a lock taken again)
EPISODE_GAP = timedelta(minutes=10)
#: a chain is critical from this many waiters, or this long a wait
CRITICAL_WAITERS = 3
CRITICAL_WAIT_S = 60.0
#: the events that end the wait of their pid (the waiter gave up or was cancelled)
_ENDS = (Kind.CANCELLED, Kind.DEADLOCK, Kind.ERROR, Kind.IDLE_TIMEOUT, Kind.LOCK_ACQUIRED)


@dataclass
class Chain:
    """One episode of a root blocking others: every wait under it, and the longest path."""

    root: int
    waits: dict[int, float] = field(default_factory=dict)   # waiter -> longest wait, ms
    events: list[Event] = field(default_factory=list)
    path: list[int] = field(default_factory=list)          # root first
    relations: dict[str, None] = field(default_factory=dict)
    locks: dict[str, None] = field(default_factory=dict)
    statements: dict[int, str] = field(default_factory=dict)
    last: datetime | None = None

    def add(self, event: Event, waited_ms: float) -> None:
        """A wait (or its end) of this chain."""
        assert event.pid is not None
        self.events.append(event)
        self.waits[event.pid] = max(self.waits.get(event.pid, 0.0), waited_ms)
        if event.relation:
            self.relations.setdefault(event.relation)
        if event.lock:
            self.locks.setdefault(event.lock)
        if event.statement:
            self.statements.setdefault(event.pid, event.statement)
        self.last = event.record.time


def _path(pid: int, waiting: dict[int, Event]) -> list[int]:
    """``pid``, who it waits for, who that one waits for... to the root (which waits for
    nobody); a cycle (a deadlock in the making) stops at the pid seen twice."""
    path, seen = [pid], {pid}
    while path[-1] in waiting:
        holders = waiting[path[-1]].holders
        if not holders:
            break
        nxt = next((h for h in holders if h in waiting and h not in seen), holders[0])
        if nxt in seen:
            break
        path.append(nxt)
        seen.add(nxt)
    return path


def chains(events: Iterable[Event]) -> list[Chain]:
    """The chains of ``events`` (in time order), each an episode of one root."""
    waiting: dict[int, Event] = {}
    of_waiter: dict[int, tuple[Chain, datetime]] = {}   # open waits: chain, wait start
    active: dict[int, Chain] = {}
    out: list[Chain] = []
    for e in events:
        if e.pid is None:
            continue
        if e.kind is Kind.LOCK_WAIT:
            waiting[e.pid] = e
            path = _path(e.pid, waiting)
            root = path[-1]
            chain = active.get(root)
            if chain is None or (chain.last and e.record.time - chain.last > EPISODE_GAP):
                chain = active[root] = Chain(root)
                out.append(chain)
            if len(path) > len(chain.path):
                chain.path = list(reversed(path))
            chain.add(e, e.duration_ms or 0.0)
            start = e.record.time - timedelta(milliseconds=e.duration_ms or 0.0)
            of_waiter[e.pid] = (chain, start)
        elif e.kind in _ENDS and e.pid in of_waiter:
            chain, start = of_waiter.pop(e.pid)
            waiting.pop(e.pid, None)
            waited = (e.duration_ms if e.kind is Kind.LOCK_ACQUIRED and e.duration_ms
                      else (e.record.time - start).total_seconds() * 1000)
            chain.add(e, waited)
    return out


def finding(chain: Chain) -> Finding:
    """A chain as live triage's ``blocking-lock``: the root first, how many waited, the
    longest wait, when, on what."""
    waiters = sorted(chain.waits)
    longest_s = max(chain.waits.values(), default=0.0) / 1000
    relation = next(iter(chain.relations), "")
    on = f" on {relation}" if relation else ""
    n = len(waiters)
    drawn = " ← ".join(str(p) for p in chain.path)
    said = "; ".join(f"pid {pid}: {short(s, 100)}" for pid, s in
                     list(chain.statements.items())[:5])
    detail = (f"The log shows {n} session{'s' * (n != 1)} waiting{on} "
              f"({', '.join(chain.locks) or 'a lock'}), the longest {lasted(longest_s)}; "
              f"the chain, root first: {drawn}. pid {chain.root} waited for nobody: it held "
              f"the lock the others queued behind. "
              + (f"The waiters ran: {said}. " if said else "")
              + "What the root ran is not in the log unless it logged its own statement "
              "(log_statement, or a later error of its own).")
    objects = [ObjectRef("backend", name=f"pid {chain.root} (root)", pid=chain.root)]
    if "." in relation:
        objects.append(ObjectRef("relation", name=relation))
    objects += [ObjectRef("backend", name=f"pid {p} (waiter)", pid=p) for p in waiters[:20]]
    severe = n >= CRITICAL_WAITERS or longest_s >= CRITICAL_WAIT_S
    evidence = {"root_pid": chain.root, "waiters": n, "max_wait_s": round(longest_s, 3),
                "chain": chain.path, "waiter_pids": waiters, "relation": relation,
                "locks": list(chain.locks), "log": log_evidence(chain.events)}
    return Finding(
        "blocking-lock", Severity.CRITICAL if severe else Severity.WARNING,
        f"pid {chain.root} blocked {n} session{'s' * (n != 1)}{on}, longest wait "
        f"{lasted(longest_s)}, {span(chain.events)}",
        detail, tuple(objects), evidence,
        Remedy(f"Find what pid {chain.root} was doing (its application, its transaction): a "
               "transaction left open or a long statement under a strong lock. Set "
               "lock_timeout on the waiters so they fail fast instead of piling up."),
        impact=n * 1e6 + longest_s)


def lock_findings(events: Sequence[Event]) -> list[Finding]:
    """One ``blocking-lock`` per chain the log shows."""
    return [finding(c) for c in chains(events) if c.waits]
