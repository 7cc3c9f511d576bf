"""The ``stall`` history check (pure): stretches of a window in which many sessions waited on
locks or I/O at once, one finding per thing they waited on.

A stretch is a run of frames with at least :data:`STALL_MIN_WAITING` active sessions waiting
(``wait_event_type`` ``Lock`` or ``IO``), a quarter of the active ones at least. Under
contention the waits come and go: one minute of an insert storm is a dozen stretches, each
a burst of sessions queueing on the same table's extension lock. So the stretches are
grouped by what they waited on (the relation most waited on, else the wait event most
waited on) into one finding each, with its first and last moment, its peak, and how many
stretches it spans. Its objects: the relations, the statements the waiting sessions ran, and
the root blockers that held their locks for a meaningful time (the culprits of
:func:`pgcrisis.checks.locks.momentary`: under contention there are none to name).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pgcrisis import shorten
from pgcrisis.checks.locks import momentary, wait_chains
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.history.seen import Seen, WindowFinding, moment, stretches
from pgcrisis.model.findings import Finding, ObjectRef, Remedy, Severity
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.when import shown

#: sessions waiting at once that make a stall (and at least this share of active sessions)
STALL_MIN_WAITING = 5
STALL_MIN_SHARE = 0.25


@dataclass
class _Frames:
    """What the frames of one subject's stretches waited on, summed."""

    runs: list[list[tuple[datetime, int]]] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    relations: Counter[str] = field(default_factory=Counter)
    statements: Counter[tuple[int, str]] = field(default_factory=Counter)
    roots: Counter[int] = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class _Frame:
    """One frame: the sessions waiting (0 unless it stalled), and on what."""

    waiting: int
    kinds: Counter[str]
    relations: Counter[str]
    statements: Counter[tuple[int, str]]
    roots: Counter[int]


def _table_of(snapshot: Snapshot, queryid: int | None) -> str | None:
    """The table a statement writes, as the frame's load profile knows it."""
    s = (snapshot.load.statement(queryid) if snapshot.load is not None and queryid is not None
         else None)
    if s is None or s.target is None:
        return None
    table = snapshot.relations.find(s.target_schema, s.target)
    return table.name if table is not None else None


def _frame(snapshot: Snapshot, t: Thresholds) -> _Frame:
    """Active client sessions waiting on locks or I/O, what they waited on and ran, and the
    culprit roots of their chains (weighted by their waiters)."""
    active = [b for b in snapshot.all_sessions() if b.is_client and b.state == "active"]
    kinds: Counter[str] = Counter()
    for b in active:
        if b.wait_event_type in ("Lock", "IO"):
            kinds[f"{b.wait_event_type}:{b.wait_event}"] += b.sessions
    waiting = kinds.total()
    if waiting < STALL_MIN_WAITING or waiting < STALL_MIN_SHARE * max(
            sum(b.sessions for b in active), 1):
        return _Frame(0, Counter(), Counter(), Counter(), Counter())
    rows = {b.pid: b for b in snapshot.activity if b.is_client and b.state == "active"
            and b.wait_event_type in ("Lock", "IO")}
    relations = Counter(w.relation for w in snapshot.lock_waits
                        if w.pid in rows and w.relation is not None)
    if not relations:  # the locks were read a moment later: by the statements' tables
        relations = Counter(name for b in rows.values()
                            if (name := _table_of(snapshot, b.query_id)) is not None)
    statements = Counter((b.query_id, shorten.query(b.query, 60)) for b in rows.values()
                         if b.query_id is not None and b.query)
    roots: Counter[int] = Counter()
    for chain in wait_chains(snapshot.activity):
        if chain.root != snapshot.server.own_pid and momentary(snapshot, chain, t) is None:
            roots[chain.root] += len(chain.waiters)
    return _Frame(waiting, kinds, relations, statements, roots)


def _finding(frames: _Frames) -> WindowFinding:
    runs = frames.runs
    first, last = runs[0][0][0], runs[-1][-1][0]
    peak_at, peak = max((item for run in runs for item in run), key=lambda item: item[1])
    seconds = sum((run[-1][0] - run[0][0]).total_seconds() for run in runs)
    severity = Severity.CRITICAL if seconds >= 30 or peak >= 20 else Severity.WARNING
    top = ", ".join(f"{k} ({n})" for k, n in frames.kinds.most_common(3))
    relations = [name for name, _ in frames.relations.most_common(3)]
    on = f" on {relations[0]}" if relations else ""
    samples = sum(len(run) for run in runs)
    times = (f" in {len(runs)} stretches ({samples} samples) from" if len(runs) > 1
             else f" for {seconds:.0f} s from" if samples > 1 else " at")
    objects = [*(ObjectRef("relation", name=r) for r in relations),
               *(ObjectRef("query", queryid=q, name=text)
                 for (q, text), _ in frames.statements.most_common(2)),
               *(ObjectRef("backend", pid=pid, name=f"pid {pid}")
                 for pid, _ in frames.roots.most_common(3))]
    finding = Finding(
        "stall", severity,
        f"{peak} sessions stalled at once{on}{times} {shown(first)}",
        f"Up to {peak} active sessions waited on locks or I/O at the same time "
        f"(peak at {shown(peak_at)}); most waited on {top}"
        + (f", for {', '.join(relations)}" if relations else "")
        + (f"; {len(runs)} stretches from {shown(first)} to {shown(last)}" if len(runs) > 1
           else "") + ("" if frames.roots else "; no session held their locks for long "
                                                "(contention: the holders changed hands)")
        + ".",
        tuple(objects) or (ObjectRef("database", name="server"),),
        {"peak_waiting": peak, "seconds": seconds, "stretches": len(runs),
         "wait_events": dict(frames.kinds), "relations": relations,
         "root_blockers": [pid for pid, _ in frames.roots.most_common(5)]},
        Remedy("Look at triage of the peak moment (--at) for the root blocker or the "
               "contended table, and its remedy."),
        impact=peak * 1e6 + seconds)
    return WindowFinding(finding, Seen(first, last, peak_at, samples))


def stalls(snapshots: Sequence[Snapshot], thresholds: Thresholds | None = None,
           ) -> list[WindowFinding]:
    """Stretches in which many sessions waited on locks or I/O at once, one finding per
    relation (or wait event) they waited on."""
    t = thresholds or Thresholds()
    counts: list[tuple[datetime, int]] = []
    seen: dict[datetime, _Frame] = {}
    for snapshot in snapshots:
        at = moment(snapshot)
        seen[at] = _frame(snapshot, t)
        counts.append((at, seen[at].waiting))
    subjects: dict[str, _Frames] = {}
    for run in stretches(counts, STALL_MIN_WAITING):
        frames = [seen[at] for at, _ in run]
        relations = sum((f.relations for f in frames), Counter[str]())
        kinds = sum((f.kinds for f in frames), Counter[str]())
        subject = (relations.most_common(1)[0][0] if relations
                   else kinds.most_common(1)[0][0])
        into = subjects.setdefault(subject, _Frames())
        into.runs.append(run)
        into.kinds.update(kinds)
        into.relations.update(relations)
        for f in frames:
            into.statements.update(f.statements)
            into.roots.update(f.roots)
    return [_finding(frames) for frames in subjects.values()]
