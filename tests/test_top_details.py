"""The pure pieces behind top's details screen and finding actions: what one session holds and
blocks, when its query can be explained, and which actions a finding's objects offer."""

from __future__ import annotations

from dataclasses import replace

from pgcrisis.model.findings import Finding, ObjectRef, Severity
from pgcrisis.model.jobs import Cron, CronJob
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.top.details import explain_plan_sql, finding_actions, pids_of, session_detail
from tests.top_fixtures import chain_snapshot


def test_session_detail_names_locks_waits_and_whom_it_blocks() -> None:
    """The ALTER TABLE of the chain holds one lock, wants AccessExclusiveLock on orders, is
    blocked by the root and blocks both readers."""
    d = session_detail(chain_snapshot(), 102)
    assert d is not None
    assert (d.locks_held, d.wants, d.blocked_by, d.blocks) == (
        1, "AccessExclusiveLock on public.orders", (101,), (103, 104))
    assert session_detail(chain_snapshot(), 4242) is None


def test_a_query_cut_by_track_activity_query_size_is_not_explained() -> None:
    """A query text as long as track_activity_query_size is truncated: no EXPLAIN, and why."""
    snap = chain_snapshot()
    long_query = "SELECT " + ", ".join(["id"] * 400) + " FROM orders"
    backends = tuple(replace(b, query=long_query) if b.pid == 101 else b for b in snap.activity)
    d = session_detail(replace(snap, activity=backends), 101)
    assert d is not None and d.truncated
    statement, why = explain_plan_sql(d, 170000)
    assert statement is None and "truncated" in why


def test_utility_statements_have_no_plan() -> None:
    d = session_detail(chain_snapshot(), 102)  # ALTER TABLE
    assert d is not None
    assert explain_plan_sql(d, 170000)[0] is None


def _finding(*objects: ObjectRef) -> Finding:
    return Finding("x", Severity.WARNING, "t", "d", objects)


def test_finding_actions_roll_back_prepared_and_pause_active_jobs() -> None:
    """A prepared transaction is rolled back in its own database; an active job is paused, a
    paused one resumed, in cron.database_name."""
    job = CronJob(jobid=7, jobname="refresh", schedule="* * * * *", command="SELECT 1",
                  database="shop", username="app", active=True)
    snap: Snapshot = replace(chain_snapshot(), cron=Cron(jobs=(job,)))
    snap = replace(snap, server=replace(snap.server, settings={"cron.database_name": "cron"}))
    f = _finding(ObjectRef("prepared-xact", name="g1", gid="g1"),
                 ObjectRef("job", name="refresh", jobid=7))
    kinds = [(a.kind, a.sql, a.database) for a in finding_actions(f, snap)]
    assert kinds == [("rollback-prepared", ("ROLLBACK PREPARED 'g1'",), None),
                     ("pause-job", ("SELECT cron.alter_job(7, active := false)",), "cron")]
    paused = replace(snap, cron=Cron(jobs=(replace(job, active=False),)))
    assert [a.kind for a in finding_actions(f, paused)] == ["rollback-prepared", "resume-job"]


def test_a_findings_jobs_are_paused_by_one_action() -> None:
    """A refresh spike names several active jobs: `j` pauses them all, one action whose undo
    resumes them all (as mitigate's step does), not the first one alone."""
    jobs = tuple(CronJob(jobid=i, jobname=f"refresh-{i}", schedule="0 9 * * *",
                         command="SELECT 1", database="shop", username="app", active=True)
                 for i in (3, 4, 5))
    snap: Snapshot = replace(chain_snapshot(), cron=Cron(jobs=jobs))
    f = _finding(*(ObjectRef("job", name=j.jobname, jobid=j.jobid) for j in jobs))
    [pause] = finding_actions(f, snap)
    assert pause.kind == "pause-job" and pause.ident == "pause-3-jobs"
    assert pause.sql == tuple(f"SELECT cron.alter_job({i}, active := false)" for i in (3, 4, 5))
    assert [s.text for s in pause.undo] == [f"SELECT cron.alter_job({i}, active := true)"
                                            for i in (3, 4, 5)]


def test_pids_of_leaves_out_prepared_transactions() -> None:
    f = _finding(ObjectRef("backend", pid=101), ObjectRef("backend", pid=0))
    assert pids_of(f) == frozenset({101})
