"""Contention checks: many short waits on the same thing, changing hands (issue 20, point 4).

row-lock-contention
    Sessions queueing for the same rows (``Lock``/``transactionid``, ``Lock``/``tuple``):
    many clients updating a handful of rows, each holding its row for the milliseconds until
    it commits.
relation-extension
    Sessions queueing to extend the same relation by a page (``Lock``/``extend``, ``page``):
    many clients inserting into one table.
lwlock-contention
    Sessions queueing on the server's lightweight locks (``LWLock``/``BufferContent``: a
    table's last page, an index's right-most leaf, a hot rows' page; ``WALInsert``,
    ``WALWrite``: many small commits; ``LockManager``...).

Each is one finding about the contended thing (the table, the rows, the lock) with the
statements, clients and role whose sessions wait, never one per session that happened to
hold it: under contention no holder is a culprit (:func:`pgcrisis.checks.locks.momentary`,
which keeps such chains out of blocking-lock). Judged on the load window (or a recorded
frame's last samples): the average sessions waiting on that kind, their share of the active
sessions, and the share of the samples with one at least. Without a window, row locks and
extension are judged at the instant (sessions waiting behind momentary holders); LWLock waits
last microseconds, and only a window can tell them from noise. Sessions queued on the same
kind behind a culprit are its blocking-lock's: when they outnumber the churning queue at the
instant, there is no contention to name (the window counts them too, and cannot tell them
apart); else the finding names the culprits (and is linked beneath their blocking-lock).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from pgcrisis import shorten
from pgcrisis.checks._contention_remedy import remedy
from pgcrisis.checks.locks import contended_kind, momentary, wait_chains
from pgcrisis.checks.registry import check
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.model.activity import Backend
from pgcrisis.model.contention import EXTENSION, LWLOCK, ROW_LOCKS, Kind, kind_of
from pgcrisis.model.evidence import ClientShare
from pgcrisis.model.evidence_contention import ContentionEvidence, WaitingStatement
from pgcrisis.model.findings import Finding, ObjectRef, Severity
from pgcrisis.model.load import LoadProfile, StatementLoad
from pgcrisis.model.snapshot import Snapshot

#: what the server may hide that these findings need (``Hidden.what``)
_NEEDS = frozenset({"statements", "other roles", "queryids", "sessions", "overlap"})
#: how each kind is named in a title
_TITLES: dict[Kind, str] = {ROW_LOCKS: "Row-lock contention", EXTENSION: "Relation extension",
                            LWLOCK: "LWLock contention"}
#: what the sessions wait for, in a detail
_WAITING_FOR: dict[Kind, str] = {
    ROW_LOCKS: "rows another transaction has locked (each updater holds its row until it "
               "commits, the next in line takes it)",
    EXTENSION: "the relation's extension lock (one session at a time adds a page, the others "
               "queue behind it)",
    LWLOCK: "the server's lightweight locks (each held for microseconds, one session at a "
            "time)",
}


@dataclass(frozen=True, slots=True)
class Instant:
    """One instant's sessions waiting on ``kind`` behind momentary holders (no culprit)."""

    waiters: tuple[Backend, ...] = ()
    holders: int = 0
    longest_hold_s: float | None = None
    relations: tuple[str, ...] = ()   # the relations waited on, most first
    #: sessions waiting on ``kind`` behind a culprit at the instant (blocking-lock's chains),
    #: and the culprits' pids
    behind_culprits: int = 0
    culprits: tuple[int, ...] = ()


def instant(snapshot: Snapshot, kind: Kind, t: Thresholds) -> Instant:
    """The wait chains of ``snapshot`` that are contention of ``kind``, together; and those
    of the same kind behind a culprit, counted apart."""
    waiters: dict[int, Backend] = {}
    holds: dict[int, float | None] = {}
    culprits: Counter[int] = Counter()
    for chain in wait_chains(snapshot.activity):
        if chain.root == snapshot.server.own_pid:
            continue
        if momentary(snapshot, chain, t) != kind:
            if contended_kind(snapshot, chain) == kind:
                culprits[chain.root] += len(chain.waiters)
            continue
        for pid in chain.waiters:
            b = snapshot.backend(pid)
            if b is not None:
                waiters[pid] = b
        root = snapshot.backend(chain.root)
        holds[chain.root] = root.xact_age_s if root is not None else None
    relations = Counter(w.relation for w in snapshot.lock_waits
                        if w.pid in waiters and w.relation is not None)
    if not relations and waiters:  # pg_locks is read a moment later: the same kind's waits
        relations = Counter(w.relation for w in snapshot.lock_waits if w.relation is not None
                            and kind_of("Lock", w.locktype) == kind)
    known = [h for h in holds.values() if h is not None]
    return Instant(tuple(waiters.values()), len(holds), max(known) if known else None,
                   tuple(name for name, _ in relations.most_common()), culprits.total(),
                   tuple(pid for pid, _ in culprits.most_common()))


@dataclass(frozen=True, slots=True)
class Judged:
    """How much ``kind`` of contention there is, and over what."""

    sessions: float
    active: float
    sustained: float | None
    severity: Severity
    measured_over: str
    window_s: float | None
    samples: int

    @property
    def share(self) -> float:
        return self.sessions / self.active if self.active > 0 else 0.0


def judge(snapshot: Snapshot, kind: Kind, now: Instant, t: Thresholds) -> Judged | None:
    """The contention of ``kind`` found, over the load window where there is one, else at
    the instant (row locks and extension only); None below the thresholds."""
    p = snapshot.load
    if p is not None and p.samples > 0:
        sessions, active = p.in_kind(kind), p.active
        sustained = p.sustained(lambda tick: tick.waiting(kind) >= 1)
        found = Judged(sessions, active, sustained, Severity.WARNING, p.source,
                       p.seconds, p.samples)
        if (sessions < t.contention_min_sessions or found.share < t.contention_min_share
                or sustained < t.contention_sustained_share):
            return None
        if (sessions >= t.contention_critical_sessions
                and found.share >= t.contention_critical_share):
            return Judged(sessions, active, sustained, Severity.CRITICAL, p.source,
                          p.seconds, p.samples)
        return found
    if kind == LWLOCK or len(now.waiters) < t.contention_min_waiters:
        return None
    active = sum(1 for b in snapshot.activity if b.is_client and b.state == "active")
    return Judged(float(len(now.waiters)), float(active), None, Severity.WARNING, "instant",
                  None, 1)


def _table(snapshot: Snapshot, s: StatementLoad) -> str | None:
    """The schema-qualified table a statement writes, where the catalog tells which."""
    if s.target is None:
        return None
    table = snapshot.relations.find(s.target_schema, s.target)
    if table is not None:
        return table.name
    return f"{s.target_schema}.{s.target}" if s.target_schema else None


def statements(snapshot: Snapshot, kind: Kind, judged: Judged, now: Instant,
               t: Thresholds) -> list[WaitingStatement]:
    """The statements whose sessions wait, most first: those the window saw waiting (by
    ``query_id``), else those waiting at the instant."""
    p = snapshot.load
    total = judged.sessions
    out: list[WaitingStatement] = []
    if p is not None and total > 0:
        span = p.statements_s or p.seconds or float("inf")  # no span: no rate
        counted = p.statements_known
        for s in p.statements:
            share = s.waiting(kind) / total
            if share < t.load_driver_min_share:
                continue
            out.append(WaitingStatement(
                queryid=s.queryid, query=shorten.query(s.query, 200) if s.query else "",
                table=_table(snapshot, s), sessions=round(s.waiting(kind), 2),
                share=round(share, 3), measured_by="sessions seen waiting while running it",
                calls_per_s=round(s.calls / span, 1) if counted else None,
                exec_ms_per_s=round(s.exec_ms / span, 1) if counted else None, role=s.role))
    if not out and now.waiters:
        out = _waiting_now(snapshot, now)
    return sorted(out, key=lambda s: -s.share)[:3]


def _waiting_now(snapshot: Snapshot, now: Instant) -> list[WaitingStatement]:
    """The statements of the sessions waiting at the instant, by queryid (where the server
    shows it), named by pg_stat_statements' text where it has them, with the table each
    writes as its text names it."""
    seen: Counter[int | str] = Counter(b.query_id if b.query_id is not None else b.query
                                       for b in now.waiters)
    out = []
    for key, n in seen.most_common(3):
        first = next(b for b in now.waiters if key in (b.query_id, b.query))
        known = snapshot.statements.by_queryid(key) if isinstance(key, int) else None
        text = known.query if known is not None else first.query
        out.append(WaitingStatement(
            queryid=first.query_id, query=shorten.query(text, 200),
            table=_written(snapshot, text), sessions=float(n),
            share=round(n / len(now.waiters), 3),
            measured_by="sessions waiting on it at one instant", role=first.usename))
    return out


def _written(snapshot: Snapshot, text: str) -> str | None:
    """The schema-qualified table a statement's text writes, where the catalog has it. Only
    at an instant without a load window (live with ``--sample 0``): the window's statements
    carry their table, parsed when the profile was read, and judging a recording never
    parses SQL."""
    from pgcrisis.sqlparse import target_table

    table = target_table(text)
    found = snapshot.relations.find(table.schema, table.name) if table is not None else None
    return found.name if found is not None else None


def clients(snapshot: Snapshot, kind: Kind, judged: Judged, now: Instant,
            t: Thresholds) -> list[ClientShare]:
    """The clients whose sessions wait, most first (the window's, else the instant's)."""
    p = snapshot.load
    total = judged.sessions
    if p is not None and p.samples > 0:
        out = [ClientShare(application_name=c.application, client_addr=c.address, role=c.role,
                           sessions=round(c.waiting(kind), 2),
                           share=round(c.waiting(kind) / total, 3))
               for c in p.clients
               if total > 0 and c.waiting(kind) / total >= t.load_driver_min_share]
    else:
        seen = Counter((b.application_name, b.client_addr, b.usename or "?") for b in now.waiters)
        out = [ClientShare(application_name=app, client_addr=addr, role=role, sessions=float(n),
                           share=round(n / len(now.waiters), 3))
               for (app, addr, role), n in seen.items()]
    return sorted(out, key=lambda c: -c.share)[:3]


def _objects(relation: str | None, found: list[WaitingStatement],
             who: list[ClientShare]) -> tuple[ObjectRef, ...]:
    """The contended table first, then the statements, the clients and the first's role."""
    objects = [ObjectRef("relation", name=relation)] if relation else []
    objects += [ObjectRef("query", queryid=s.queryid,
                          name=shorten.query(s.query, 60) if s.query else f"query {s.queryid}")
                for s in found if s.queryid is not None]
    objects += [ObjectRef.client(c.application_name, c.client_addr) for c in who]
    role = next((s.role for s in found if s.role), None) or (who[0].role if who else None)
    if role and role != "?":
        objects.append(ObjectRef("role", name=role))
    return tuple(objects)


def _named(s: WaitingStatement) -> str:
    text = s.query or "a statement whose text is not known"
    return f"{shorten.query(text, 60)}" + (f" (query {s.queryid})" if s.queryid is not None
                                           else "")


def _detail(kind: Kind, judged: Judged, now: Instant, waits: dict[str, float],
            found: list[WaitingStatement], who: list[ClientShare],
            hidden: tuple[str, ...]) -> str:
    over = (f"Over {judged.window_s:.1f} s ({judged.samples} samples), {judged.sessions:.1f} "
            f"of {judged.active:.1f} active sessions" if judged.window_s is not None
            else f"At one instant (no load window), {judged.sessions:.0f} of "
                 f"{judged.active:.0f} active sessions")
    parts = [f"{over} waited on {_WAITING_FOR[kind]}: "
             + ", ".join(f"{event} {n:.1f}" for event, n in waits.items())
             + (f"; in {judged.sustained:.0%} of the samples" if judged.sustained is not None
                else "") + "."]
    if now.holders:
        hold = (f"{now.longest_hold_s * 1000:.0f} ms" if now.longest_hold_s is not None
                and now.longest_hold_s < 1 else "a moment")
        parts.append(f"No session holds it for long: at the instant, {now.holders} "
                     f"held what {len(now.waiters)} others waited for, the longest in a "
                     f"transaction of {hold}. The holder changes from one instant to the next: "
                     "ending one only hands the lock to the next in line.")
    if now.behind_culprits:
        parts.append(f"At the instant {now.behind_culprits} more waited behind "
                     + ", ".join(f"pid {pid}" for pid in now.culprits[:3])
                     + ", holding for long (blocking-lock).")
    if found:
        parts.append("Statements: " + "; ".join(
            f"{_named(s)} {s.share:.0%}" + (f" ({s.calls_per_s:,.1f} calls/s)"
                                            if s.calls_per_s is not None else "")
            for s in found) + ".")
    if who:
        parts.append("Clients: " + "; ".join(
            f"{c.application_name or '?'}@{c.client_addr or 'local'} (role {c.role}) "
            f"{c.share:.0%}" for c in who) + ".")
    if hidden:
        parts.append("Not seen: " + "; ".join(hidden) + ".")
    return " ".join(parts)


def _waits(snapshot: Snapshot, kind: Kind, now: Instant) -> dict[str, float]:
    """The wait events of ``kind`` by sessions, most first (the window's, else the
    instant's)."""
    p: LoadProfile | None = snapshot.load
    if p is not None and p.samples > 0:
        return {f"{w.wait_class}/{w.wait_event}": round(w.sessions, 2) for w in p.waits
                if kind_of(w.wait_class, w.wait_event) == kind}
    seen = Counter(f"{b.wait_event_type}/{b.wait_event}" for b in now.waiters)
    return {event: float(n) for event, n in seen.most_common()}


def contention(snapshot: Snapshot, kind: Kind, t: Thresholds) -> Finding | None:
    """The finding of ``kind`` of contention, if there is one (see the module's docstring)."""
    now = instant(snapshot, kind, t) if kind != LWLOCK else Instant()
    if now.behind_culprits > len(now.waiters):
        return None  # most queue behind a session holding for long: blocking-lock's story
    judged = judge(snapshot, kind, now, t)
    if judged is None:
        return None
    waits = _waits(snapshot, kind, now)
    found = statements(snapshot, kind, judged, now, t)
    who = clients(snapshot, kind, judged, now, t)
    relation = (now.relations[0] if now.relations
                else next((s.table for s in found if s.table), None))
    lwlock = (next(iter(waits), "").partition("/")[2] or None) if kind == LWLOCK else None
    hidden = snapshot.load.hidden_lines(_NEEDS) if snapshot.load is not None else ()
    thing = (f"{lwlock}" + (f" ({relation})" if relation else "") if kind == LWLOCK
             else relation or "one table")
    measured, count = ((f"over {judged.window_s:.1f} s", f"{judged.sessions:.1f}")
                       if judged.window_s is not None else ("at once", f"{judged.sessions:.0f}"))
    lead = f", {_named(found[0])}" if found else ""
    return Finding(
        code={ROW_LOCKS: "row-lock-contention", EXTENSION: "relation-extension",
              LWLOCK: "lwlock-contention"}[kind],
        severity=judged.severity,
        title=(f"{_TITLES[kind]} on {thing}: {count} sessions waiting {measured} "
               f"({judged.share:.0%} of the active ones){lead}"),
        detail=_detail(kind, judged, now, waits, found, who, hidden),
        objects=_objects(relation, found, who) or (ObjectRef("database",
                                                             name=snapshot.server.database),),
        evidence=ContentionEvidence(
            kind=kind, waiting_sessions=round(judged.sessions, 2),
            active_sessions=round(judged.active, 2), share=round(judged.share, 3),
            sustained_share=(None if judged.sustained is None
                             else round(judged.sustained, 2)),
            window_s=None if judged.window_s is None else round(judged.window_s, 2),
            samples=judged.samples, measured_over=judged.measured_over, waits=waits,
            relation=relation, lwlock=lwlock, waiting_at_instant=len(now.waiters),
            holders=now.holders,
            longest_hold_s=(None if now.longest_hold_s is None
                            else round(now.longest_hold_s, 3)),
            statements=tuple(found), clients=tuple(who), not_seen=hidden),
        remedy=remedy(snapshot, kind, relation, lwlock, found, who),
        impact=judged.sessions * 1e6)


@check("row-lock-contention", needs=("activity", "locks"))
def row_lock_contention(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """Many sessions queueing for the same rows, held for moments by changing holders."""
    found = contention(snapshot, ROW_LOCKS, t)
    if found is not None:
        yield found


@check("relation-extension", needs=("activity", "locks"))
def relation_extension(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """Many sessions queueing to extend the same relation (concurrent inserts)."""
    found = contention(snapshot, EXTENSION, t)
    if found is not None:
        yield found


@check("lwlock-contention", needs=("load",))
def lwlock_contention(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """Many sessions queueing on the same lightweight lock, sustained over the window."""
    found = contention(snapshot, LWLOCK, t)
    if found is not None:
        yield found
