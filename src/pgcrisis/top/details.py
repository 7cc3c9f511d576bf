"""One session in full, for the details screen, and the actions a finding's objects offer.

:func:`session_detail` gathers what the snapshot knows of one pid (full query, the locks it
holds and waits for, who it blocks, transaction age, client); :func:`explain_plan_sql` says
whether its query can be explained (never analyzed) and with which statement, or why not:
``pg_stat_activity`` cuts a query at ``track_activity_query_size`` bytes, and a statement
sent with parameters (``$1``) has no values to plan with before PostgreSQL 16's
``GENERIC_PLAN``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pgcrisis.actions import Action, Job, PauseJobs, ResumeJobs, RollbackPrepared, merged
from pgcrisis.judge import TriageReport
from pgcrisis.model.findings import Finding
from pgcrisis.model.snapshot import Snapshot

#: pg_stat_activity's default cut (track_activity_query_size), when the setting is not known
DEFAULT_QUERY_SIZE = 1024
#: what EXPLAIN accepts (a utility statement, a transaction command, ``<IDLE>``: nothing to plan)
_EXPLAINABLE = re.compile(r"^\s*(?:\(\s*)*(select|with|values|table|insert|update|delete|merge)\b",
                          re.I)
_PARAMETER = re.compile(r"\$\d+")


@dataclass(frozen=True, slots=True)
class SessionDetail:
    """Everything the snapshot holds about one session."""

    pid: int
    database: str
    user: str
    application: str
    client: str
    state: str
    wait: str
    query: str
    query_s: float | None
    xact_s: float | None
    backend_s: float | None
    locks_held: int                 # granted pg_locks rows, every type
    relation_locks: int             # of which on relations
    strong_locks: tuple[str, ...]   # "AccessExclusiveLock on public.orders" (granted)
    wants: str                      # the lock it waits for, or ""
    blocked_by: tuple[int, ...]
    blocks: tuple[int, ...]         # sessions that name it in pg_blocking_pids
    findings: tuple[str, ...]       # titles of the findings naming it
    truncated: bool                 # the query text was cut by track_activity_query_size


def session_detail(snapshot: Snapshot, pid: int,
                   findings: tuple[Finding, ...] = ()) -> SessionDetail | None:
    """The details of ``pid`` in ``snapshot`` (None when it is not there)."""
    b = snapshot.backend(pid)
    if b is None:
        return None
    count = next((c for c in snapshot.lock_counts if c.pid == pid), None)
    wait = next((w for w in snapshot.lock_waits if w.pid == pid), None)
    size = snapshot.server.setting_int("track_activity_query_size", DEFAULT_QUERY_SIZE)
    return SessionDetail(
        pid=pid, database=b.datname or "", user=b.usename or "",
        application=b.application_name, client=b.client_addr or "local socket",
        state=b.state or b.backend_type,
        wait=":".join(x for x in (b.wait_event_type, b.wait_event) if x),
        query=b.query, query_s=b.query_age_s, xact_s=b.xact_age_s, backend_s=b.backend_age_s,
        locks_held=count.granted if count else 0,
        relation_locks=count.relations if count else 0,
        strong_locks=tuple(f"{h.mode} on {h.relation}" for h in snapshot.strong_locks
                           if h.pid == pid and h.granted),
        wants=f"{wait.mode} on {wait.relation or wait.locktype}" if wait else "",
        blocked_by=b.blocked_by,
        blocks=tuple(sorted(o.pid for o in snapshot.activity if pid in o.blocked_by)),
        findings=tuple(f.title for f in findings if any(o.pid == pid for o in f.objects)),
        truncated=len(b.query.encode()) >= size - 1)


def explain_plan_sql(detail: SessionDetail, version_num: int) -> tuple[str | None, str]:
    """The EXPLAIN statement for the session's query (never ANALYZE), or None and why not.

    >>> d = SessionDetail(1, "shop", "app", "", "", "active", "", "SELECT 1", None, None,
    ...                   None, 0, 0, (), "", (), (), (), False)
    >>> explain_plan_sql(d, 150000)
    ('EXPLAIN SELECT 1', '')
    >>> from dataclasses import replace
    >>> explain_plan_sql(replace(d, query="SELECT * FROM t WHERE id = $1"), 150000)[1]
    'the query has parameters ($1) and PostgreSQL before 16 cannot plan it without their values'
    >>> explain_plan_sql(replace(d, query="SELECT * FROM t WHERE id = $1"), 160000)[0]
    'EXPLAIN (GENERIC_PLAN) SELECT * FROM t WHERE id = $1'
    """
    query = detail.query.strip().rstrip(";").strip()
    if not query or query.startswith("<"):
        return None, f"no query text to explain ({query or 'empty'})"
    if detail.truncated:
        return None, ("the query text is truncated (track_activity_query_size): the full "
                      "statement is not known, so it cannot be explained")
    if not _EXPLAINABLE.match(query):
        return None, "only SELECT, INSERT, UPDATE, DELETE, MERGE, VALUES and WITH have plans"
    if ";" in query:
        return None, "the query text holds several statements"
    if _PARAMETER.search(query):
        if version_num < 160000:
            return None, ("the query has parameters ($1) and PostgreSQL before 16 cannot plan "
                          "it without their values")
        return f"EXPLAIN (GENERIC_PLAN) {query}", ""
    return f"EXPLAIN {query}", ""


def finding_actions(finding: Finding, snapshot: Snapshot) -> tuple[Action, ...]:
    """What a finding's objects offer besides cancel/terminate: rolling back its prepared
    transactions (in their own database), pausing or resuming its pg_cron jobs: all of them at
    once, alike actions merged as ``mitigate`` merges them (one confirmation, one undo)."""
    out: list[Action] = []
    prepared = {p.gid: p for p in snapshot.prepared}
    jobs = {j.jobid: j for j in snapshot.cron.jobs}
    cron_db = snapshot.server.settings.get("cron.database_name") or None
    for obj in finding.objects:
        if obj.gid is not None:
            p = prepared.get(obj.gid)
            out.append(RollbackPrepared(obj.gid, database=p.database if p else None))
        elif obj.kind == "job" and obj.jobid is not None:
            job = jobs.get(obj.jobid)
            one = (Job(obj.jobid, job.label if job else (obj.name or "")),)
            if job is None or job.active:
                out.append(PauseJobs(one, database=cron_db))
            else:
                out.append(ResumeJobs(one, database=cron_db))
    return merged(out)


def finding_steps(finding: Finding, report: TriageReport | None) -> tuple[Action, ...]:
    """What ``mitigate`` does for ``finding`` (its playbook's steps for it alone): for a
    saturation, cancel what the driving statement runs now, end the client driving it, cap
    its role's connections, turn JIT off for its role."""
    from pgcrisis.mitigate.playbook import steps_for

    if report is None or finding not in report.findings:
        return ()
    return tuple(step.action for step in steps_for(report, finding))


def pids_of(finding: Finding) -> frozenset[int]:
    """The sessions a finding names (pid 0, a prepared transaction, is no session)."""
    return frozenset(o.pid for o in finding.objects if o.pid)
