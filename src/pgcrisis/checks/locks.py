"""Lock checks: blocking-lock (wait chains, root first) and lock-hoarder (leaked statements).

``pg_blocking_pids()`` gives, for each waiting session, the sessions directly in its way:
holders of conflicting locks and sessions queued ahead of it for one. Following those edges
up from every waiter leads to the *root* blockers: sessions in the way of others that wait
for nobody themselves. Killing an intermediate waiter (say, a queued ``ALTER TABLE``) is the
wrong fix when the idle transaction it queues behind stays; so the root is the finding's first
object and the intermediates are named in the detail. pid 0 stands for a prepared transaction.

A root is a *culprit* when it holds what its waiters want for a meaningful time: it is idle
in its transaction (for ``blocking_min_idle_s`` at least: less is a client's round trip
between two statements), a prepared transaction, or its transaction has been open for
``blocking_min_hold_s`` (1 s) at least; or its waiters wait on a relation's lock (DDL, a
refresh, ``LOCK TABLE``: one holder, a queue behind it). A chain whose waiters all wait on
row locks or a relation's extension lock behind an active root younger than that (or one
out of any transaction, or gone, since its waiters saw it) is *contention*: the holder
changes from instant to instant, each holding for milliseconds, and ending it would only
hand the lock to the next. Such chains are no blocking-lock; the contention checks
(:mod:`pgcrisis.checks.contention`) name the contended table and the statement that drives
it.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass

from pgcrisis import durations, shorten
from pgcrisis.actions import Cancel, RollbackPrepared, Terminate
from pgcrisis.checks._text import plural, who
from pgcrisis.checks.registry import check
from pgcrisis.checks.sessions import is_own
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.model.activity import Backend, PreparedXact
from pgcrisis.model.contention import EXTENSION, ROW_LOCKS, Kind, kind_of
from pgcrisis.model.evidence import BlockingLockEvidence, LockHoarderEvidence
from pgcrisis.model.findings import Finding, ObjectRef, Remedy, Severity
from pgcrisis.model.snapshot import Snapshot

PREPARED_PID = 0


@dataclass(frozen=True, slots=True)
class Chain:
    """A root blocker and everyone waiting behind it, directly or through others."""

    root: int
    waiters: tuple[int, ...]      # every transitive waiter
    direct: tuple[int, ...]       # waiters blocked by the root itself
    intermediates: tuple[int, ...]  # waiters that others wait for in turn


def wait_chains(activity: Iterable[Backend]) -> list[Chain]:
    """Group waiters under their root blockers (pure; cycles tolerated).

    A session waiting behind two roots counts under both.
    """
    blocked_by = {b.pid: b.blocked_by for b in activity if b.blocked_by}
    waiters_of: dict[int, list[int]] = {}
    for pid, blockers in blocked_by.items():
        for blocker in blockers:
            waiters_of.setdefault(blocker, []).append(pid)
    roots = [pid for pid in waiters_of if not blocked_by.get(pid)]
    if not roots and waiters_of:  # a pure cycle (a deadlock about to be broken): pick one
        roots = [min(waiters_of)]
    chains: list[Chain] = []
    for root in roots:
        seen: dict[int, None] = {}
        queue = deque(waiters_of.get(root, ()))
        while queue:
            pid = queue.popleft()
            if pid in seen or pid == root:
                continue
            seen[pid] = None
            queue.extend(waiters_of.get(pid, ()))
        waiters = tuple(seen)
        direct = tuple(dict.fromkeys(waiters_of.get(root, ())))
        intermediates = tuple(p for p in waiters if waiters_of.get(p))
        chains.append(Chain(root, waiters, direct, intermediates))
    return chains


def contended_kind(snapshot: Snapshot, chain: Chain) -> Kind | None:
    """The kind of contention of ``chain`` (row locks or a relation's extension lock) when
    all its waiters wait on one of those, whoever holds them; else None."""
    kinds: Counter[Kind] = Counter()
    for pid in chain.waiters:
        b = snapshot.backend(pid)
        kind = kind_of(b.wait_event_type, b.wait_event) if b is not None else None
        if kind not in (ROW_LOCKS, EXTENSION):
            return None
        kinds[kind] += 1
    return kinds.most_common(1)[0][0] if kinds else None


def momentary(snapshot: Snapshot, chain: Chain, t: Thresholds) -> Kind | None:
    """The kind of contention ``chain`` is, or None when its root is a culprit (see the
    module's docstring): its waiters wait on row locks or an extension lock, and its root is
    a session whose transaction is younger than ``blocking_min_hold_s`` and not idle in it
    (past a round trip), or one out of any transaction, or one gone since."""
    if chain.root == PREPARED_PID:
        return None
    kind = contended_kind(snapshot, chain)
    if kind is None:
        return None
    root = snapshot.backend(chain.root)
    if root is None:
        return kind  # ended since its waiters were read: its hold was momentary
    if (root.state or "").startswith("idle in transaction"):
        if root.state_age_s is None or root.state_age_s >= t.blocking_min_idle_s:
            return None  # holding its locks while it does nothing: the culprit
        return kind  # a client's round trip between two statements of a short transaction
    if root.state == "idle":
        return kind  # out of any transaction: it holds nothing any more
    if (root.xact_age_s or 0.0) >= t.blocking_min_hold_s:
        return None  # held for a meaningful time: the culprit
    return kind


def _wait_s(b: Backend | None) -> float:
    """How long a waiting session has waited (its statement's age while it waits)."""
    if b is None:
        return 0.0
    return b.state_age_s if b.state_age_s is not None else (b.query_age_s or 0.0)


def _prepared_for(snapshot: Snapshot, relations: Iterable[str]) -> PreparedXact | None:
    """The prepared transaction a waiter is stuck behind (by the relations both touch)."""
    wanted = set(relations)
    candidates = [p for p in snapshot.prepared if wanted & set(p.relations)] or list(
        snapshot.prepared
    )
    return max(candidates, key=lambda p: p.age_s) if candidates else None


def _root_objects_and_remedy(snapshot: Snapshot, chain: Chain, relations: list[str]
                             ) -> tuple[ObjectRef, str, Remedy, dict[str, str]]:
    if chain.root == PREPARED_PID:
        xact = _prepared_for(snapshot, relations)
        gid = xact.gid if xact else "?"
        age = f", prepared {durations.words(xact.age_s)} ago by {xact.owner}" if xact else ""
        label = f"prepared transaction {gid!r}{age}"
        remedy = Remedy(
            "A prepared (two-phase) transaction holds the lock with no session behind it. Ask the "
            "transaction manager that prepared it to finish it; if it is orphaned, roll it back "
            "(or COMMIT PREPARED if its work must be kept).",
            (RollbackPrepared(gid, database=xact.database if xact else None),),
        )
        return ObjectRef("prepared-xact", name=gid, gid=gid), label, remedy, {"gid": gid}
    b = snapshot.backend(chain.root)
    if b is None:
        obj = ObjectRef("backend", pid=chain.root, name="?")  # gone since it was seen
        label = f"pid {chain.root}"
        remedy = Remedy("Cancel or terminate the blocking session.",
                        (Terminate.of([chain.root]),))
        return obj, label, remedy, {}
    state = b.state or "?"
    label = f"pid {b.pid} ({who(b)}, {state}, transaction open {durations.words(b.xact_age_s)})"
    if state.startswith("idle"):
        remedy = Remedy(
            "The root blocker is idle inside its transaction: cancelling does nothing, terminate "
            "it, then fix the client that leaves transactions open.",
            (Terminate.of([b.pid]),),
        )
    else:
        remedy = Remedy(
            "Cancel the root blocker's statement; if the waiters do not move, terminate it.",
            (Cancel.of([b.pid]), Terminate.of([b.pid])),
        )
    return (ObjectRef("backend", pid=b.pid, name=who(b)), label, remedy,
            {"root_state": state, "root_query": shorten.query(b.query, 200)})


def _describe_intermediate(snapshot: Snapshot, pid: int) -> str:
    b = snapshot.backend(pid)
    waits = [w for w in snapshot.lock_waits if w.pid == pid]
    what = f" for {waits[0].mode} on {waits[0].relation}" if waits and waits[0].relation else ""
    text = shorten.query(b.query, 100) if b else "?"
    return f"pid {pid} ({text}) waits{what}"


@check("blocking-lock", needs=("activity", "locks"))
def blocking_lock(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """Sessions waiting for locks, grouped under the root blocker of each wait chain (a
    culprit: contention is the contention checks')."""
    for chain in wait_chains(snapshot.activity):
        if chain.root == snapshot.server.own_pid or momentary(snapshot, chain, t) is not None:
            continue
        waiters = [snapshot.backend(p) for p in chain.waiters]
        max_wait = max((_wait_s(w) for w in waiters), default=0.0)
        relations = [w.relation for w in snapshot.lock_waits
                     if w.pid in chain.waiters and w.relation]
        common = [name for name, _ in Counter(relations).most_common()]
        root_obj, label, remedy, extra = _root_objects_and_remedy(snapshot, chain, common)
        n = len(chain.waiters)
        if max_wait >= t.blocking_critical_wait_s and n >= t.blocking_critical_waiters:
            severity = Severity.CRITICAL
        elif max_wait >= 1.0 or n >= 3:
            severity = Severity.WARNING
        else:
            severity = Severity.INFO
        on = f" on {common[0]}" if common else ""
        root_name = (f"prepared transaction {extra['gid']!r}" if chain.root == PREPARED_PID
                     else f"pid {chain.root}")
        detail = [f"Root blocker: {label}; it waits for nobody."]
        if "root_query" in extra:
            detail.append(f"Its last statement: {extra['root_query']}.")
        queued = [p for p in chain.intermediates if p not in (chain.root,)]
        if queued:
            detail.append(
                "Queued behind it, and blocking the rest in turn: "
                + "; ".join(_describe_intermediate(snapshot, p) for p in queued[:3])
                + ". Cancelling those would not help while the root stays."
            )
        detail.append(f"{plural(n, 'session')} wait{'s' if n == 1 else ''}, the longest for "
                      f"{durations.words(max_wait)}.")
        objects = [root_obj, *(ObjectRef("relation", name=r) for r in common[:3])]
        objects.extend(ObjectRef("backend", pid=p, name=who(b) if (b := snapshot.backend(p))
                                 else "?") for p in queued[:3])
        yield Finding(
            code="blocking-lock",
            severity=severity,
            title=f"{root_name} blocks {plural(n, 'session')}{on} for {durations.words(max_wait)}",
            detail=" ".join(detail),
            objects=tuple(objects),
            evidence=BlockingLockEvidence(
                root_pid=chain.root, waiters=n, direct_waiters=len(chain.direct),
                max_wait_s=round(max_wait, 1), queued_blockers=tuple(queued), **extra),
            remedy=remedy,
            impact=n * 1e6 + max_wait * n,
        )


@check("lock-hoarder", needs=("activity", "locks"))
def lock_hoarder(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """One transaction holding an abnormal number of locks (leaked statements, huge fan-out)."""
    per_xact = t.lock_hoarder_locks or snapshot.server.setting_int("max_locks_per_transaction", 64)
    table = snapshot.server.lock_table_size
    for count in snapshot.lock_counts:
        if count.pid == snapshot.server.own_pid or count.total <= per_xact:
            continue
        b = snapshot.backend(count.pid)
        if b is not None and is_own(b):
            continue
        share = count.total / table if table else 0.0
        severity = (Severity.CRITICAL if share >= t.lock_hoarder_critical_share
                    else Severity.WARNING)
        name = who(b) if b else None
        state = b.state if b else "?"
        yield Finding(
            code="lock-hoarder",
            severity=severity,
            title=(f"pid {count.pid}{f' ({name})' if name else ''} holds {count.total} locks in "
                   f"one transaction ({share:.0%} of the shared lock table)"),
            detail=(f"{count.total} pg_locks rows ({count.relations} on relations, "
                    f"{count.waiting} not granted) against max_locks_per_transaction {per_xact} "
                    f"and a shared lock table of {table} slots. A transaction that keeps opening "
                    "statements or cursors without closing them (for example a recursive delete "
                    "that opens one per level) grows like this; every lock is held until the "
                    f"transaction ends. Session state: {state}; transaction open "
                    f"{durations.words(b.xact_age_s if b else None)}; last statement: "
                    f"{shorten.query(b.query, 120) if b else '?'}."),
            objects=(ObjectRef("backend", pid=count.pid, name=name or "?"),),
            evidence=LockHoarderEvidence(
                locks=count.total, relation_locks=count.relations, waiting=count.waiting,
                max_locks_per_transaction=per_xact, lock_table_size=table,
                share=round(share, 4)),
            remedy=Remedy(
                "Close statements and cursors as soon as they are read, and keep transactions "
                "short (commit each level of a recursive delete, or delete set-wise). If the "
                "transaction is stuck, terminate it to release its locks.",
                (Terminate.of([count.pid]),),
            ),
            impact=float(count.total),
        )
