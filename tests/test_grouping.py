"""Grouping, on hand-built findings: what merges, what stays alone, and that every object,
every member's evidence, the worst severity, the remedy SQL and the cause links survive.

Real triage output is grouped in tests/test_checks_matviews.py (a cached-view tree) and
tests/test_triage_screen.py (the whole seed incident).
"""

from __future__ import annotations

import json
from importlib import resources

import jsonschema

from pgcrisis.actions import Cancel, CreateIndex, DropIndex, Job, SetJobCommand
from pgcrisis.checks.causes import link
from pgcrisis.checks.grouping import group, when
from pgcrisis.model.evidence import (
    LiveRefreshEvidence,
    ScheduledRefreshEvidence,
    UnusedIndexEvidence,
)
from pgcrisis.model.findings import Finding, ObjectRef, Remedy, Severity
from pgcrisis.presentation.triage_json import finding_to_json

SCHEMA = json.loads(resources.files("pgcrisis").joinpath("schemas/triage.schema.json").read_text())
FINDING_SCHEMA = {"$ref": "#/$defs/finding", "$defs": SCHEMA["$defs"]}


def scheduled_refresh(jobid: int, *views: str, schedule: str = "0 9 * * *",
                      severity: Severity = Severity.WARNING) -> Finding:
    """A scheduled matview-blocking-refresh finding as the check words it."""
    return Finding(
        code="matview-blocking-refresh", severity=severity,
        title=f"job {jobid} (refresh-{jobid}) refreshes {', '.join(views)} without "
              f"CONCURRENTLY at {schedule!r}",
        detail=f"Job {jobid} runs a plain REFRESH MATERIALIZED VIEW.",
        objects=(ObjectRef("job", name=f"refresh-{jobid}", id=jobid),
                 *(ObjectRef("matview", name=v) for v in views)),
        evidence=ScheduledRefreshEvidence(jobid=jobid, schedule=schedule, matviews=views,
                                          concurrent_ready=(), blocked_views=(), reads=10,
                                          lock_held_s=1.5),
        remedy=Remedy("Refresh CONCURRENTLY.", (
            *(CreateIndex.written(f"{v.split('.')[1]}_key", "CREATE UNIQUE INDEX CONCURRENTLY "
                                  f"{v.split('.')[1]}_key ON {v} (id)") for v in views),
            SetJobCommand(Job(jobid, f"refresh-{jobid}"), "...", "old"))),
        impact=float(len(views)),
    )


def live_refresh(pid: int, view: str) -> Finding:
    """A live matview-blocking-refresh: one session to stop."""
    return Finding(
        code="matview-blocking-refresh", severity=Severity.CRITICAL,
        title=f"plain REFRESH of {view} by pid {pid} blocks 3 readers for 4 s", detail="",
        objects=(ObjectRef("matview", name=view), ObjectRef("backend", pid=pid)),
        evidence=LiveRefreshEvidence(readers_waiting=3, longest_wait_s=4.0, refresh_pid=pid,
                                     lock="held", refresh_age_s=5.0, blocked_views=(),
                                     concurrent_ready=False),
        remedy=Remedy("Stop the refresh.", (Cancel.of([pid]),)),
        impact=3e6,
    )


def blocking_lock(pid: int) -> Finding:
    return Finding(code="blocking-lock", severity=Severity.CRITICAL,
                   title=f"pid {pid} blocks 2 sessions", detail="",
                   objects=(ObjectRef("backend", pid=pid), ObjectRef("relation", name="t")),
                   evidence={"waiters": 2}, impact=2e6)


def idle(pid: int) -> Finding:
    return Finding(code="idle-in-transaction", severity=Severity.WARNING,
                   title=f"pid {pid} is idle in transaction", detail="",
                   objects=(ObjectRef("backend", pid=pid),), evidence={"idle_s": 60.0})


def unused(name: str, severity: Severity) -> Finding:
    return Finding(code="unused-index", severity=severity, title=f"{name} has never been scanned",
                   detail="", objects=(ObjectRef("index", name=name),),
                   evidence=UnusedIndexEvidence(relpages=10, bytes=2**20, idx_scan=0),
                   remedy=Remedy("Drop it.", (DropIndex(name),)))


def query_finding(code: str, queryid: int, severity: Severity) -> Finding:
    return Finding(code=code, severity=severity, title=f"{code} of query {queryid}", detail="",
                   objects=(ObjectRef("query", id=queryid, name="SELECT 1"),),
                   evidence={"calls": 1}, impact=1.0)


def test_scheduled_refreshes_become_one_finding_listing_every_job_and_view() -> None:
    members = [scheduled_refresh(j, f"public.mv_{j:02d}") for j in range(2, 14)]
    members.insert(0, scheduled_refresh(1, "public.mv_totals", "public.mv_region"))
    [grouped] = group(members)
    assert grouped.code == "matview-blocking-refresh"
    assert grouped.title == ("13 cron jobs refresh 14 materialized views without "
                             "CONCURRENTLY at 09:00")
    assert grouped.severity is Severity.WARNING
    # every object of every member, in member order (most impact first, then job 2 ... 13)
    assert [o.id for o in grouped.objects if o.kind == "job"] == list(range(1, 14))
    assert grouped.objects[:3] == members[0].objects
    assert {o for m in members for o in m.objects} == set(grouped.objects)
    assert len(grouped.objects) == 13 + 14
    # each member's evidence is kept, with aggregate figures beside it
    evidence = grouped.evidence
    assert evidence["grouped"] == 13
    assert evidence["jobs"] == list(range(1, 14)) and evidence["reads"] == 130
    assert len(evidence["matviews"]) == 14 and evidence["schedules"] == ["0 9 * * *"]
    assert [i["evidence"]["jobid"] for i in evidence["items"]] == list(range(1, 14))
    assert evidence["items"][0]["objects"][0] == {"kind": "job", "jobid": 1, "id": 1,
                                                  "name": "refresh-1"}
    assert evidence["items"][0]["title"] == members[0].title
    # the remedy: every member's statements in member order, once each
    assert grouped.remedy is not None
    assert list(grouped.remedy.sql) == [s for m in members for s in (m.remedy.sql if m.remedy
                                                                     else ())]
    assert grouped.impact == sum(m.impact for m in members)
    jsonschema.validate(finding_to_json(grouped), FINDING_SCHEMA)


def test_worst_severity_and_shared_statements_once() -> None:
    a = scheduled_refresh(1, "public.mv_a", schedule="0 9 * * *")
    b = scheduled_refresh(2, "public.mv_a", "public.mv_b", schedule="0 10 * * *",
                          severity=Severity.CRITICAL)
    [grouped] = group([a, b])
    assert grouped.severity is Severity.CRITICAL
    assert grouped.title == "2 cron jobs refresh 2 materialized views without CONCURRENTLY on 2 " \
                            "schedules"
    assert grouped.remedy is not None
    statements = list(grouped.remedy.sql)
    assert statements.count("CREATE UNIQUE INDEX CONCURRENTLY mv_a_key ON public.mv_a (id)") == 1
    assert [o.name for o in grouped.objects].count("public.mv_a") == 1
    assert grouped.evidence["items"][0]["severity"] == "critical"  # the worst member first


def test_what_a_person_acts_on_one_by_one_never_groups() -> None:
    findings = [live_refresh(101, "public.mv_a"), live_refresh(102, "public.mv_b"),
                blocking_lock(201), blocking_lock(202), idle(201), idle(202),
                query_finding("missing-index", 1, Severity.CRITICAL),
                query_finding("missing-index", 2, Severity.CRITICAL)]
    grouped = group(findings)
    assert len(grouped) == len(findings)
    assert all(f in grouped for f in findings)


def test_a_group_of_one_is_left_as_it_was_and_kinds_do_not_mix() -> None:
    lone = scheduled_refresh(1, "public.mv_a")
    live = live_refresh(101, "public.mv_a")
    assert list(group([lone, live])) == [live, lone]
    # unused indexes group by severity: a big one never hides among small ones
    big = unused("public.big_idx", Severity.WARNING)
    small = [unused(f"public.small_{i}_idx", Severity.INFO) for i in range(3)]
    out = group([big, *small])
    assert out[0] is big
    [info] = [f for f in out if f.severity is Severity.INFO]
    assert info.title == "3 indexes never scanned (3.0 MB)"
    assert info.evidence["indexes"] == [f"public.small_{i}_idx" for i in range(3)]


def test_output_is_ranked() -> None:
    findings = [*(unused(f"public.i{i}", Severity.INFO) for i in range(2)),
                scheduled_refresh(1, "public.mv_a"), scheduled_refresh(2, "public.mv_b"),
                live_refresh(101, "public.mv_c")]
    assert [f.severity for f in group(findings)] == [
        Severity.CRITICAL, Severity.WARNING, Severity.INFO]


def test_cause_links_index_the_grouped_list() -> None:
    """Grouping runs before link(): a consequence points at its cause's grouped position."""
    findings = [*(scheduled_refresh(j, f"public.mv_{j}") for j in range(1, 6)),
                *(unused(f"public.i{i}", Severity.INFO) for i in range(4)),
                query_finding("missing-index", 7, Severity.CRITICAL),
                query_finding("slow-query", 7, Severity.INFO),
                blocking_lock(301), idle(301)]
    grouped = group(findings)
    assert len(grouped) == 6
    caused_by = link(grouped)
    slow = next(i for i, f in enumerate(grouped) if f.code == "slow-query")
    lock = next(i for i, f in enumerate(grouped) if f.code == "blocking-lock")
    assert [grouped[c].code for c in caused_by[slow]] == ["missing-index"]
    assert [grouped[c].code for c in caused_by[lock]] == ["idle-in-transaction"]
    assert sum(len(c) for c in caused_by) == 2


def test_when_jobs_run() -> None:
    assert when(["30 3 * * *"]) == "at 03:30"
    assert when(["0 9 * * 1-5"]) == "at '0 9 * * 1-5'"  # not every day
    assert when(["not a schedule"]) == "at 'not a schedule'"
