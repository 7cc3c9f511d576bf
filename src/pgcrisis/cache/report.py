"""``cache check``'s per-view report: one implementation of the judgement (the triage
checks' findings), joined with what the cache knows (durations, graph, schedule)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pgcrisis.cache.graph import CacheGraph
from pgcrisis.cache.model import Durations, job_views
from pgcrisis.model.findings import Finding
from pgcrisis.model.jobs import CronJob
from pgcrisis.model.matviews import Matview


@dataclass(frozen=True, slots=True)
class ScheduledBy:
    """A pg_cron job that refreshes the view."""

    jobid: int
    label: str
    schedule: str
    concurrently: bool
    statements: int    # > 1: one transaction, every lock held until the whole job ends


@dataclass(frozen=True, slots=True)
class ViewReport:
    """Everything ``cache check`` says about one matview."""

    name: str
    level: int | None
    concurrent_ready: bool
    populated: bool
    key_columns: tuple[str, ...]
    null_key_share: float | None     # sampled share of rows with a NULL key (None: no key)
    size_bytes: int
    reads: int
    durations: Durations
    scheduled_by: tuple[ScheduledBy, ...]
    bases: tuple[str, ...]
    dependents: tuple[str, ...]
    findings: tuple[str, ...]        # codes of the findings that name it


def view_reports(views: Sequence[Matview], graph: CacheGraph,
                 durations: Mapping[str, Durations], jobs: Sequence[CronJob],
                 findings: Sequence[Finding], block_size: int,
                 key_nulls: Mapping[str, tuple[tuple[str, ...], float]]) -> list[ViewReport]:
    """One report per view, in refresh order (views in cycles last)."""
    levels = graph.levels
    dependents = graph.dependents_of
    out = []
    for v in views:
        # a lane of an installed plan refreshes each view in its own transaction,
        # CONCURRENTLY (or skips it)
        scheduled = tuple(
            ScheduledBy(j.jobid, j.label, j.schedule,
                        all(s.concurrently for s in j.refreshes if s.target == v.name),
                        len(j.statements) if j.refreshes else 1)
            for j in jobs if j.active and v.name in job_views(j))
        codes = tuple(sorted({f.code for f in findings
                              if any(o.name == v.name for o in f.objects)}))
        key, nulls = key_nulls.get(v.name, (v.key_columns if not v.has_key_index else (), None))
        out.append(ViewReport(
            name=v.name, level=levels.get(v.name), concurrent_ready=v.concurrent_ready,
            populated=v.populated, key_columns=tuple(key), null_key_share=nulls,
            size_bytes=v.relpages * block_size, reads=v.reads, durations=durations[v.name],
            scheduled_by=scheduled, bases=graph.bases.get(v.name, ()),
            dependents=dependents.get(v.name, ()), findings=codes))
    out.sort(key=lambda r: (r.level is None, r.level or 0, r.name))
    return out
