"""matview-blocking-refresh: a plain REFRESH MATERIALIZED VIEW blocking readers, now (a
session holds or awaits the view's ACCESS EXCLUSIVE lock) or as scheduled in pg_cron."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from pgcrisis.actions import Cancel, RefreshMatview, SetJobCommand, Terminate
from pgcrisis.checks._text import plural, who
from pgcrisis.checks.jobs import job_of, job_ref
from pgcrisis.checks.matviews.readiness import key_words, readiness_steps
from pgcrisis.checks.registry import check
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.model.activity import Backend, HeldLock
from pgcrisis.model.evidence import LiveRefreshEvidence, ScheduledRefreshEvidence
from pgcrisis.model.findings import Finding, ObjectRef, Remedy, Severity
from pgcrisis.model.jobs import REFRESH
from pgcrisis.model.matviews import Matviews
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.shorten import listed

_REFRESH = re.compile(r"\brefresh\s+materialized\s+view\b", re.IGNORECASE)
_PLAIN_REFRESH = re.compile(r"\brefresh\s+materialized\s+view\s+(?!concurrently\b)",
                            re.IGNORECASE)
_OTHER_DDL = re.compile(
    r"^\s*(drop|alter|cluster|vacuum|lock|reindex|truncate|create|comment|grant|revoke)\b",
    re.IGNORECASE)


def _is_plain_refresh(query: str) -> bool:
    """Whether a session holding ACCESS EXCLUSIVE on a matview is refreshing it.

    Its (last) statement names a plain REFRESH, or is no other DDL: a refresh run inside a
    function (``SELECT refresh_cache()``) shows only the call. ``CONCURRENTLY`` never takes
    ACCESS EXCLUSIVE.
    """
    if _PLAIN_REFRESH.search(query):
        return True
    if _REFRESH.search(query):
        return False  # it names only CONCURRENTLY refreshes
    return not _OTHER_DDL.search(query)


@dataclass(frozen=True, slots=True)
class _LiveRefresh:
    """A session holding (or awaiting) ACCESS EXCLUSIVE on matviews for a plain refresh."""

    pid: int
    backend: Backend | None
    matview: str                 # the locked matview with the most readers waiting
    others: tuple[str, ...]      # further matviews it has locked
    granted: bool
    waiting: tuple[Backend, ...]  # sessions waiting to read its matviews, longest first

    @property
    def who(self) -> str:
        app = self.backend.application_name if self.backend else ""
        return f"pid {self.pid}" + (f" ({app})" if app else "")

    @property
    def idle(self) -> bool:
        """Its transaction idles: the refresh finished, the lock stays until it ends."""
        return self.backend is not None and (self.backend.state or "").startswith(
            "idle in transaction")

    @property
    def age_s(self) -> float | None:
        if self.backend is None:
            return None
        return self.backend.xact_age_s if self.granted else self.backend.query_age_s

    @property
    def longest_wait_s(self) -> float:
        return max((b.query_age_s or 0.0 for b in self.waiting), default=0.0)


def _live_refreshes(snapshot: Snapshot) -> Iterable[_LiveRefresh]:
    held: dict[int, list[HeldLock]] = defaultdict(list)
    for lock in snapshot.strong_locks:
        if lock.relkind == "m" and lock.mode == "AccessExclusiveLock":
            held[lock.pid].append(lock)
    for pid, locks in sorted(held.items()):
        backend = snapshot.backend(pid)
        if not _is_plain_refresh(backend.query if backend else ""):
            continue
        names = list(dict.fromkeys(lock.relation for lock in locks))
        readers: dict[str, dict[int, Backend]] = {name: {} for name in names}
        for wait in snapshot.lock_waits:
            waiter = snapshot.backend(wait.pid)
            if wait.relation in readers and waiter is not None and pid in waiter.blocked_by:
                readers[wait.relation][waiter.pid] = waiter
        main = max(names, key=lambda n: (len(readers[n]), n == names[0]))
        waiting = {b.pid: b for group in readers.values() for b in group.values()}
        yield _LiveRefresh(
            pid=pid, backend=backend, matview=main,
            others=tuple(n for n in names if n != main),
            granted=next(lock.granted for lock in locks if lock.relation == main),
            waiting=tuple(sorted(waiting.values(), key=lambda b: -(b.query_age_s or 0.0))),
        )


def _live_finding(r: _LiveRefresh, mv: Matviews) -> Finding:
    view = mv.get(r.matview)
    blocked_views = mv.blocked_views(r.matview)
    state = "holds" if r.granted else "waits for"
    n = len(r.waiting)
    if n:
        title = (f"plain REFRESH of {r.matview} by {r.who} blocks {plural(n, 'reader')} for "
                 f"{r.longest_wait_s:.0f} s")
    else:
        title = f"plain REFRESH of {r.matview} by {r.who} {state} an ACCESS EXCLUSIVE lock"
    detail = (
        f"{r.who} {state} the ACCESS EXCLUSIVE lock of a plain REFRESH MATERIALIZED VIEW on "
        f"{r.matview}" + (f" (for {r.age_s:.0f} s)" if r.age_s is not None else "")
        + (", and its transaction is idle: the refresh is done but the lock stays until it "
           "commits" if r.idle else "")
        + f". {n} session(s) wait to read it"
        + (f", the longest for {r.longest_wait_s:.0f} s" if n else "")
        + (f"; readers of {listed(blocked_views)} (built on it) wait too"
           if blocked_views else "") + "."
    )
    # an idle transaction runs no query to cancel: only ending the session frees the lock
    stop = Terminate.of([r.pid]) if r.idle else Cancel.of([r.pid])
    steps, stuck = readiness_steps([view] if view else [])
    actions = [stop, *steps]
    if view is not None and not stuck:
        actions.append(RefreshMatview(r.matview, concurrently=True))
    summary = ("Stop the refresh so readers get through (they read the previous contents); "
               "from now on refresh it CONCURRENTLY")
    if view is not None and not view.concurrent_ready:
        summary += (f", after adding a unique index on {key_words(view)}" if not stuck else
                    ", after adding a unique index on the columns that identify a row "
                    "(no likely key was found)")
    return Finding(
        code="matview-blocking-refresh",
        severity=Severity.CRITICAL if n else Severity.INFO,
        title=title,
        detail=detail,
        objects=(ObjectRef(kind="matview", name=r.matview),
                 ObjectRef(kind="backend", pid=r.pid,
                           name=who(r.backend) if r.backend else "?"),
                 *(ObjectRef(kind="matview", name=o) for o in r.others)),
        evidence=LiveRefreshEvidence(
            readers_waiting=n,
            longest_wait_s=round(r.longest_wait_s, 1),
            refresh_pid=r.pid,
            lock="held" if r.granted else "awaited",
            refresh_age_s=r.age_s,
            blocked_views=tuple(blocked_views),
            concurrent_ready=view.concurrent_ready if view else None,
        ),
        remedy=Remedy(summary=summary + ".", actions=tuple(actions)),
        impact=n * 1e6 + n * r.longest_wait_s,  # sessions held up first (see Finding.impact)
    )


def _scheduled_findings(snapshot: Snapshot, mv: Matviews) -> Iterable[Finding]:
    for job in snapshot.cron.jobs:
        plain = [s for s in job.refreshes if not s.concurrently]
        if not job.active or not plain:
            continue
        names = list(dict.fromkeys(s.target or "?" for s in plain))
        views = [v for v in (mv.get(n) for n in names) if v is not None]
        blocked = sorted({b for n in names for b in mv.blocked_views(n)})
        reads = sum(v.reads for v in views)
        runs = snapshot.cron.runs_for(job.jobid)
        held_s = runs.mean_duration_s if runs else None
        steps, stuck = readiness_steps(views)
        unknown = [n for n in names if mv.get(n) is None]
        actions = list(steps)
        if not stuck and not unknown:
            new_command = "; ".join(
                f"REFRESH MATERIALIZED VIEW CONCURRENTLY {s.target}" if s.kind == REFRESH
                else s.text for s in job.statements)
            actions.append(SetJobCommand(job_of(job), new_command, job.command))
            summary = ("Refresh CONCURRENTLY so readers are never locked out"
                       + (" (first add the unique index it needs)" if steps else ""))
        else:
            summary = ("Add a unique index on the key columns of "
                       + ", ".join(stuck + unknown)
                       + ", then change the job to REFRESH MATERIALIZED VIEW CONCURRENTLY")
        many = len(names) > 1
        yield Finding(
            code="matview-blocking-refresh",
            severity=Severity.WARNING,
            title=(f"job {job.jobid} ({job.label}) refreshes {', '.join(names)} without "
                   f"CONCURRENTLY at {job.schedule!r}"),
            detail=(
                f"Job {job.jobid} runs a plain REFRESH MATERIALIZED VIEW of "
                f"{', '.join(names)}: each run locks readers out"
                + (f" of {', '.join(blocked)} (built on them)" if blocked else "")
                + (" for the whole job, since all its statements run in one transaction"
                   if many else " until the refresh is done")
                + (f" (about {held_s:.1f} s per run)" if held_s is not None else "")
                + (f"; the views were read {reads:,} time(s) since statistics were reset"
                   if reads else "") + "."
            ),
            objects=(job_ref(job), *(ObjectRef(kind="matview", name=n) for n in names)),
            evidence=ScheduledRefreshEvidence(
                jobid=job.jobid,
                schedule=job.schedule,
                matviews=tuple(names),
                concurrent_ready=tuple(v.concurrent_ready for v in views),
                blocked_views=tuple(blocked),
                reads=reads,
                lock_held_s=held_s,
            ),
            remedy=Remedy(summary=summary + ".", actions=tuple(actions)),
            impact=float(len(names) + len(blocked)),
        )


@check("matview-blocking-refresh", needs=("activity", "locks", "matviews"))
def matview_blocking_refresh(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """A plain REFRESH MATERIALIZED VIEW that blocks readers now, or will on its schedule.

    Live: a session holds or awaits ACCESS EXCLUSIVE on a matview for a plain refresh;
    critical when sessions wait to read the view (or plain views on it), info otherwise.
    Scheduled (when pg_cron is readable): each active job refreshing without CONCURRENTLY,
    warning; objects are the job then its matviews. Triage merges the scheduled ones into one
    finding listing every job (:mod:`pgcrisis.checks.grouping`); each live one stays alone.
    """
    for refresh in _live_refreshes(snapshot):
        yield _live_finding(refresh, snapshot.matviews)
    if "cron" not in snapshot.unavailable:
        yield from _scheduled_findings(snapshot, snapshot.matviews)
