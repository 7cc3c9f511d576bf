"""Materialized-view checks: matview-blocking-refresh, matview-concurrent-unready, refresh-spike.

A plain ``REFRESH MATERIALIZED VIEW`` takes an ACCESS EXCLUSIVE lock on the view for the
whole refresh (and, inside a transaction or a multi-statement pg_cron command, until the
transaction ends): every reader of the view, and of every plain view built on it, waits.
``REFRESH ... CONCURRENTLY`` only takes an EXCLUSIVE lock, which readers pass, but needs a
unique index on plain columns with no WHERE clause.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pgcrisis import sizes
from pgcrisis.actions import (
    Action,
    Cancel,
    CreateIndex,
    RefreshMatview,
    RescheduleJob,
    SetJobCommand,
    Terminate,
)
from pgcrisis.cache.keys import key_index
from pgcrisis.checks._text import who
from pgcrisis.checks.jobs import job_of, job_ref
from pgcrisis.checks.registry import check
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.model.activity import Backend, HeldLock
from pgcrisis.model.cron_schedule import MINUTES_PER_DAY, SECONDS_PER_DAY, daily_at
from pgcrisis.model.evidence import LiveRefreshEvidence, ScheduledRefreshEvidence, UnreadyEvidence
from pgcrisis.model.findings import Finding, ObjectRef, Remedy, Severity
from pgcrisis.model.jobs import REFRESH, CronJob
from pgcrisis.model.matviews import Matview, Matviews
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.shorten import listed

#: matview-concurrent-unready: a view this large (pages; 100 MB at 8 kB) that is read warrants
#: a warning even when nothing visible refreshes it
MATVIEW_LARGE_PAGES = 12800
#: refresh-spike: duration assumed for a refresh job with no finished run on record
REFRESH_DEFAULT_DURATION_S = 60.0
#: refresh-spike: the span refreshes can be spread over (schedules repeat daily)
REFRESH_SPREAD_WINDOW_S = SECONDS_PER_DAY
#: refresh-spike remedy: the night window spread schedules go into (minutes after midnight)
NIGHT_WINDOW = (60, 300)

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


def key_index_action(view: Matview) -> CreateIndex | None:
    """``CREATE UNIQUE INDEX CONCURRENTLY`` on the view's likely row key, if one is known
    (the same statement ``cache prepare`` builds, from :func:`pgcrisis.cache.keys.key_index`)."""
    if not view.key_columns:
        return None
    index = key_index(view, view.key_columns)
    return CreateIndex.written(index.name, index.create_sql())


def _key_words(view: Matview) -> str:
    """How sure the key is, in words, for remedy summaries."""
    columns = ", ".join(view.key_columns)
    if view.key_from == "definition":
        return f"({columns}): its rows are grouped by them, one row each"
    return f"({columns}): its sampled values are all distinct; check it is the key"


def _readiness_steps(views: Sequence[Matview]) -> tuple[list[Action], list[str]]:
    """Actions that make ``views`` concurrent-ready, and the views we cannot make ready."""
    steps: list[Action] = []
    stuck: list[str] = []
    for view in views:
        if view.concurrent_ready:
            continue
        index = key_index_action(view) if not view.has_key_index else None
        if not view.has_key_index and index is None:
            stuck.append(view.name)
            continue
        if index:
            steps.append(index)
        if not view.populated:
            steps.append(RefreshMatview(view.name))
    return steps, stuck


def _refreshing_jobs(snapshot: Snapshot, name: str) -> list[CronJob]:
    if "cron" in snapshot.unavailable:
        return []
    return [j for j in snapshot.cron.jobs
            if j.active and any(s.target == name for s in j.refreshes)]


# -- matview-blocking-refresh -------------------------------------------------------------


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
        title = (f"plain REFRESH of {r.matview} by {r.who} blocks {n} reader"
                 f"{'s' if n != 1 else ''} for {r.longest_wait_s:.0f} s")
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
    steps, stuck = _readiness_steps([view] if view else [])
    actions = [stop, *steps]
    if view is not None and not stuck:
        actions.append(RefreshMatview(r.matview, concurrently=True))
    summary = ("Stop the refresh so readers get through (they read the previous contents); "
               "from now on refresh it CONCURRENTLY")
    if view is not None and not view.concurrent_ready:
        summary += (f", after adding a unique index on {_key_words(view)}" if not stuck else
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
        steps, stuck = _readiness_steps(views)
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


# -- matview-concurrent-unready -----------------------------------------------------------


@check("matview-concurrent-unready", needs=("matviews", "locks"))
def matview_concurrent_unready(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """Matviews that cannot be refreshed CONCURRENTLY (no usable unique index, or unpopulated).

    Warning, one per view, when a plain refresh of it will lock readers out: a pg_cron job
    refreshes it, a session is refreshing it now, or it is large (``MATVIEW_LARGE_PAGES``)
    and read. Otherwise one info finding lists them all: nothing visible refreshes them, so
    it only matters once something does. A view with a proper unique index gives nothing.
    Triage merges the per-view warnings into one (:mod:`pgcrisis.checks.grouping`).
    """
    block_size = snapshot.server.block_size
    refreshing_now = {lock.relation for lock in snapshot.strong_locks
                      if lock.relkind == "m" and lock.mode == "AccessExclusiveLock"}
    quiet: list[Matview] = []
    for view in snapshot.matviews.views:
        if view.concurrent_ready:
            continue
        jobs = _refreshing_jobs(snapshot, view.name)
        large_and_read = view.relpages >= MATVIEW_LARGE_PAGES and view.reads > 0
        now = view.name in refreshing_now
        if not (jobs or now or large_and_read):
            quiet.append(view)
            continue
        why = []
        if jobs:
            why.append("refreshed by job " + ", ".join(str(j.jobid) for j in jobs))
        if now:
            why.append("being refreshed now")
        if large_and_read:
            size = sizes.words(view.relpages * block_size, largest="MB")  # 100 MB or more
            why.append(f"{size} and read {view.reads:,} times")
        yield _unready_finding(view, Severity.WARNING, "; ".join(why), jobs, block_size,
                               snapshot.matviews)
    if quiet:
        quiet.sort(key=lambda v: -v.relpages)
        if len(quiet) == 1:
            yield _unready_finding(quiet[0], Severity.INFO, "nothing refreshes it on a schedule",
                                   [], block_size, snapshot.matviews)
        else:
            steps, stuck = _readiness_steps(quiet)
            yield Finding(
                code="matview-concurrent-unready",
                severity=Severity.INFO,
                title=(f"{len(quiet)} materialized views cannot be refreshed CONCURRENTLY "
                       "(nothing refreshes them on a schedule)"),
                detail=("These views have no unique index on plain columns without a WHERE "
                        "clause (or are not populated), so any refresh of them locks their "
                        "readers out: " + listed([v.name for v in quiet]) + "."),
                objects=tuple(ObjectRef(kind="matview", name=v.name) for v in quiet),
                evidence={"matviews": [v.name for v in quiet], "no_key_found": stuck},
                remedy=Remedy(summary="Add a unique index on each view's key before anything "
                                      "refreshes it.", actions=tuple(steps)),
            )


def _unready_finding(view: Matview, severity: Severity, why: str, jobs: list[CronJob],
                     block_size: int, mv: Matviews) -> Finding:
    if not view.populated and view.has_key_index:
        problem = "it is not populated (the first refresh cannot be concurrent)"
    elif view.unique_indexes:
        problem = (f"its {view.unique_indexes} unique index(es) are partial, on expressions or "
                   "invalid")
    else:
        problem = "it has no unique index"
    index = key_index_action(view) if not view.has_key_index else None
    steps: list[Action] = ([index] if index else []) + (
        [RefreshMatview(view.name)] if not view.populated else [])
    if index:
        summary = f"Add a unique index on {_key_words(view)}; then refresh CONCURRENTLY"
    elif view.has_key_index:
        summary = "Populate it once with a plain refresh; later refreshes can be CONCURRENT"
    else:
        summary = ("Add a unique index on the columns that identify a row, then refresh "
                   "CONCURRENTLY")
    dependents = mv.dependents(view.name)
    blocked = mv.blocked_views(view.name)
    return Finding(
        code="matview-concurrent-unready",
        severity=severity,
        title=f"{view.name} cannot be refreshed CONCURRENTLY: {problem} ({why})",
        detail=(f"REFRESH MATERIALIZED VIEW CONCURRENTLY needs a populated view with a unique, "
                f"valid index on plain columns and no WHERE clause; {view.name}: {problem}. "
                f"So every refresh locks out its readers"
                + (f" and those of {listed(blocked)} (plain views on it)" if blocked else "")
                + "."),
        objects=(ObjectRef(kind="matview", name=view.name), *(job_ref(j) for j in jobs)),
        evidence=UnreadyEvidence(
            populated=view.populated,
            unique_indexes=view.unique_indexes,
            has_key_index=view.has_key_index,
            refreshed_by_jobs=tuple(j.jobid for j in jobs),
            size_bytes=view.relpages * block_size,
            reads=view.reads,
            key_columns=tuple(view.key_columns),
            key_from=view.key_from,
            dependents=tuple(dependents),
        ),
        remedy=Remedy(summary=summary + " (`pgcrisis cache prepare --apply` verifies the key "
                              "against the data first).", actions=tuple(steps)),
        impact=float(len(jobs) + len(dependents)) + view.relpages / MATVIEW_LARGE_PAGES,
    )


# -- refresh-spike ------------------------------------------------------------------------


@check("refresh-spike", needs=("cron",))
def refresh_spike(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """Refresh jobs scheduled into the same minutes of the day.

    Every active job with a REFRESH is laid on a 24-hour clock: it starts at each minute its
    schedule names and stays busy for its mean run time (from ``cron.job_run_details``; else
    ``REFRESH_DEFAULT_DURATION_S``), at least the minute it started in. The peak is the most
    jobs busy in one minute, taking every job as running on the same day (the worst day).
    A spread schedule needs only ceil(refresh seconds per day / ``REFRESH_SPREAD_WINDOW_S``)
    at a time. Warning when the peak reaches ``refresh_spike_min`` and beats that bound.
    """
    busy: dict[int, set[int]] = defaultdict(set)
    starts: dict[int, set[int]] = defaultdict(set)
    jobs: dict[int, CronJob] = {}
    durations: dict[int, float] = {}
    runs_a_day: dict[int, int] = {}
    total_s = 0.0
    known = 0
    for job in snapshot.cron.jobs:
        schedule = job.parsed_schedule()
        if not job.active or not job.refreshes or schedule is None:
            continue
        minutes = schedule.minutes_of_day
        if not minutes:
            continue
        runs = snapshot.cron.runs_for(job.jobid)
        duration = runs.mean_duration_s if runs and runs.mean_duration_s is not None else None
        known += duration is not None
        duration = REFRESH_DEFAULT_DURATION_S if duration is None else duration
        jobs[job.jobid] = job
        durations[job.jobid] = duration
        runs_a_day[job.jobid] = len(minutes)
        total_s += duration * len(minutes)
        span = max(1, math.ceil(duration / 60))
        for start in minutes:
            starts[start].add(job.jobid)
            for k in range(min(span, MINUTES_PER_DAY)):
                busy[(start + k) % MINUTES_PER_DAY].add(job.jobid)
    if not busy:
        return
    peak_minute = min(busy, key=lambda m: (-len(busy[m]), m))
    peak_ids = sorted(busy[peak_minute])
    peak = len(peak_ids)
    lower = max(1, math.ceil(total_s / REFRESH_SPREAD_WINDOW_S))
    if peak < t.refresh_spike_min or peak <= lower:
        return
    at = f"{peak_minute // 60:02d}:{peak_minute % 60:02d}"
    peak_jobs = [jobs[i] for i in peak_ids]
    matviews = list(dict.fromkeys(s.target or "?" for j in peak_jobs for s in j.refreshes))
    together = len(starts.get(peak_minute, ()))
    daily = [j for j in peak_jobs if runs_a_day[j.jobid] == 1]
    first, last = NIGHT_WINDOW
    step_min = max(max(math.ceil(durations[j.jobid] / 60) for j in daily) if daily else 1,
                   (last - first) // max(1, len(daily)))
    actions = tuple(RescheduleJob(job_of(j), daily_at(first + i * step_min), j.schedule)
                    for i, j in enumerate(daily))
    yield Finding(
        code="refresh-spike",
        severity=Severity.WARNING,
        title=(f"{peak} refresh jobs run together at {at} ({len(matviews)} materialized views); "
               f"a spread schedule needs {lower} at a time"),
        detail=(f"At {at}, {peak} pg_cron jobs refresh {listed(matviews)} at the same time "
                f"({together} start in that very minute). Together they take about "
                f"{total_s:,.0f} s a day, which spread over 24 h needs {lower} refresh at a "
                f"time: the spike loads the server and locks readers out all at once"
                + (f" ({len(jobs) - known} job(s) without finished runs counted as "
                   f"{REFRESH_DEFAULT_DURATION_S:.0f} s)" if known < len(jobs) else "") + "."),
        objects=tuple(job_ref(j) for j in peak_jobs),
        evidence={
            "peak": peak,
            "peak_at": at,
            "starting_together": together,
            "lower_bound": lower,
            "window_s": REFRESH_SPREAD_WINDOW_S,
            "refresh_s_per_day": round(total_s, 1),
            "jobs": peak_ids,
            "matviews": matviews,
            "durations_known": known,
        },
        remedy=Remedy(
            summary=("Spread the daily refreshes over the night "
                     f"({first // 60:02d}:00-{last // 60:02d}:00), views others are built on "
                     "first" + ("; move the other jobs by hand" if len(daily) < peak else "")
                     + ". `pgcrisis cache plan --window "
                     f"{first // 60:02d}:00-{last // 60:02d}:00 --apply` installs a "
                     "dependency-aware plan at the lower bound instead."),
            actions=actions,
        ),
        impact=float(peak - lower),
    )
