"""matview-concurrent-unready: a materialized view that cannot be refreshed CONCURRENTLY."""

from __future__ import annotations

from collections.abc import Iterable

from pgcrisis import sizes
from pgcrisis.actions import Action, RefreshMatview
from pgcrisis.checks.jobs import job_ref
from pgcrisis.checks.matviews.readiness import key_index_action, key_words, readiness_steps
from pgcrisis.checks.registry import check
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.model.evidence import UnreadyEvidence
from pgcrisis.model.findings import Finding, ObjectRef, Remedy, Severity
from pgcrisis.model.jobs import CronJob
from pgcrisis.model.matviews import Matview, Matviews
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.shorten import listed

#: a view this large (pages; 100 MB at 8 kB) that is read warrants a warning even when
#: nothing visible refreshes it
MATVIEW_LARGE_PAGES = 12800


def refreshing_jobs(snapshot: Snapshot, name: str) -> list[CronJob]:
    if "cron" in snapshot.unavailable:
        return []
    return [j for j in snapshot.cron.jobs
            if j.active and any(s.target == name for s in j.refreshes)]


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
        jobs = refreshing_jobs(snapshot, view.name)
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
            steps, stuck = readiness_steps(quiet)
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
        summary = f"Add a unique index on {key_words(view)}; then refresh CONCURRENTLY"
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
