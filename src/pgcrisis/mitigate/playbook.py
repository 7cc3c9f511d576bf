"""Findings in, an ordered playbook out (pure: a triage report is data).

Each step is one :class:`~pgcrisis.mitigate.actions.Action` with a short, stable id (the same
fault gives the same id on the next run: ``terminate-pid-4242``, ``pause-job-3``,
``rollback-prepared-pay-17``), the expected effect, and the findings it answers. Steps are
ordered by what they unblock (sessions waiting behind the thing they end), then by the
severity and rank of their findings: root blockers come first. One step answers every finding
about the same object (the idle session that is a blocking-lock root is one terminate).

Findings mitigation has no safe action for (a missing index, bloat, a slot to drop) are kept
as ``later``: their remedies are the lasting fixes, for people to plan.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pgcrisis.checks._text import plural
from pgcrisis.judge import TriageReport
from pgcrisis.mitigate import actions as act
from pgcrisis.model.findings import Finding, ObjectRef

#: jobs paused by mitigation: the findings about what a job does
JOB_CODES = ("job-too-frequent", "job-failing", "job-backlog", "refresh-spike")


@dataclass(frozen=True, slots=True)
class Step:
    """One thing to do now."""

    id: str
    action: act.Action
    effect: str
    codes: tuple[str, ...]
    findings: tuple[str, ...]    # titles of the findings it answers
    unblocks: int = 0            # sessions waiting behind what it ends
    severity_rank: int = 2
    order: int = 0               # rank of its first finding in the report


@dataclass(frozen=True, slots=True)
class Later:
    """A finding with no immediate action here: its remedy is for people to plan."""

    code: str
    title: str
    remedy: str
    sql: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Playbook:
    """The steps, in the order to take them, and what is left for later."""

    steps: tuple[Step, ...]
    later: tuple[Later, ...] = ()
    source: str = ""          # what was judged (a server, or a recording's moment)
    live: bool = True

    def step(self, ident: str) -> Step | None:
        """The step with this id, if the playbook has it."""
        return next((s for s in self.steps if s.id == ident), None)


def slug(text: str, limit: int = 40) -> str:
    """An id-safe form of ``text``: lower case, ``[a-z0-9.-]``, short.

    >>> slug("Pay 17/Ledger")
    'pay-17-ledger'
    """
    cleaned = re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-") or "x"
    return cleaned[:limit].rstrip("-")


@dataclass
class _Builder:
    report: TriageReport
    steps: dict[str, Step] = field(default_factory=dict)

    def add(self, ident: str, action: act.Action, effect: str, finding: Finding,
            unblocks: int = 0) -> None:
        order = self.report.findings.index(finding)
        seen = self.steps.get(ident)
        if seen is None:
            self.steps[ident] = Step(ident, action, effect, (finding.code,), (finding.title,),
                                     unblocks, finding.severity.rank, order)
            return
        codes = seen.codes if finding.code in seen.codes else (*seen.codes, finding.code)
        more_effect = seen.effect if unblocks <= seen.unblocks else effect
        self.steps[ident] = replace(
            seen, codes=codes, findings=(*seen.findings, finding.title), effect=more_effect,
            unblocks=max(seen.unblocks, unblocks),
            severity_rank=min(seen.severity_rank, finding.severity.rank),
            order=min(seen.order, order))

    def prepared_database(self, gid: str, evidence: Mapping[str, Any]) -> str | None:
        database = evidence.get("database")
        if isinstance(database, str):
            return database
        for p in self.report.snapshot.prepared:
            if p.gid == gid:
                return p.database
        return None


def _first(finding: Finding, kind: str) -> ObjectRef | None:
    return next((o for o in finding.objects if o.kind == kind), None)


def _backend_state(report: TriageReport, pid: int) -> str:
    b = report.snapshot.backend(pid)
    return (b.state or "") if b else ""


def _terminate_pid(b: _Builder, f: Finding, pid: int, waiters: int, why: str) -> None:
    effect = (f"ends pid {pid}: {plural(waiters, 'waiting session')} can go on" if waiters
              else f"ends pid {pid}: {why}")
    b.add(f"terminate-pid-{pid}", act.terminate([pid]), effect, f, waiters)


def _locks(b: _Builder, f: Finding) -> None:
    waiters = int(f.evidence.get("waiters", 0))
    root = f.objects[0] if f.objects else None
    if root is None:
        return
    if root.kind == "prepared-xact" and root.gid and root.gid != "?":
        database = b.prepared_database(root.gid, f.evidence)
        b.add(f"rollback-prepared-{slug(root.gid)}", act.rollback_prepared(root.gid, database),
              f"releases its locks: {plural(waiters, 'waiting session')} can go on", f, waiters)
    elif root.kind == "backend" and root.pid:
        _terminate_pid(b, f, root.pid, waiters, "its locks are released")


def _sessions(b: _Builder, f: Finding) -> None:
    backend = _first(f, "backend")
    if backend is None or not backend.pid:
        return
    pid = backend.pid
    if f.code == "idle-in-transaction":
        _terminate_pid(b, f, pid, int(f.evidence.get("blocks", 0)),
                       "its transaction rolls back, its locks and snapshot are released")
    elif f.code == "long-running-query":
        b.add(f"cancel-pid-{pid}", act.cancel([pid]),
              f"stops the statement of pid {pid} that has run "
              f"{f.evidence.get('running_s', '?')} s", f)
    elif f.code == "lock-hoarder":
        _terminate_pid(b, f, pid, 0, f"its {f.evidence.get('locks', '?')} locks are released")
    elif f.code == "long-transaction":
        if _backend_state(b.report, pid).startswith("idle"):
            _terminate_pid(b, f, pid, 0, "the xmin horizon moves on, vacuum can clean again")
        else:
            b.add(f"cancel-pid-{pid}", act.cancel([pid]),
                  f"stops the statement holding pid {pid}'s transaction open", f)


def _prepared(b: _Builder, f: Finding) -> None:
    xact = _first(f, "prepared-xact")
    if xact is None or not xact.gid:
        return
    database = b.prepared_database(xact.gid, f.evidence)
    b.add(f"rollback-prepared-{slug(xact.gid)}", act.rollback_prepared(xact.gid, database),
          f"releases its {plural(int(f.evidence.get('locks', 0)), 'lock')} and the xmin "
          "horizon", f)


def _runaway(b: _Builder, f: Finding) -> None:
    client = _first(f, "client")
    role = _first(f, "role")
    role_name = role.name if role else None
    if client is not None and client.application_name:
        b.add(f"terminate-client-{slug(client.application_name)}",
              act.terminate_client(client.application_name, role_name),
              f"ends the {plural(int(f.evidence.get('connections', 0)), 'session')} of "
              f"{client.application_name}, freeing their slots and their load", f)
    if role_name:
        limit = _connection_limit(f)
        b.add(f"limit-role-{slug(role_name)}", act.limit_connections(role_name, limit),
              f"role {role_name} cannot open more than {limit} connections again", f)


def _connection_limit(f: Finding) -> int:
    for statement in f.remedy.sql if f.remedy else ():
        match = re.search(r"CONNECTION LIMIT (\d+)", statement)
        if match:
            return int(match[1])
    return max(1, int(f.evidence.get("connections", 2)) // 2)


def _jit(b: _Builder, f: Finding) -> None:
    role = f.evidence.get("role")
    if isinstance(role, str) and role:
        b.add(f"jit-off-role-{slug(role)}", act.role_setting(role, "jit", "off"),
              f"new sessions of role {role} plan without JIT (no compile time)", f)


def _jobs(b: _Builder, f: Finding) -> None:
    for job in (o for o in f.objects if o.kind == "job" and o.jobid is not None):
        assert job.jobid is not None
        b.add(f"pause-job-{job.jobid}", act.pause_job(job.jobid, job.name or "", None),
              f"job {job.name or job.jobid} stops running until resumed", f)


def _matview(b: _Builder, f: Finding) -> None:
    head = f.objects[0] if f.objects else None
    if head is None:
        return
    if head.kind == "matview":      # a refresh running now
        backend = _first(f, "backend")
        if backend is None or not backend.pid:
            return
        readers = int(f.evidence.get("readers_waiting", 0))
        if _backend_state(b.report, backend.pid).startswith("idle"):
            _terminate_pid(b, f, backend.pid, readers, "its lock on the view is released")
        else:
            b.add(f"cancel-pid-{backend.pid}", act.cancel([backend.pid]),
                  f"stops the refresh: {plural(readers, 'reader')} get the previous contents",
                  f, readers)
        return
    statements = f.remedy.sql if f.remedy else ()
    jobs = {j.jobid: j for j in b.report.snapshot.cron.jobs}
    ids = [o.jobid for o in f.objects if o.kind == "job" and o.jobid in jobs]
    if not ids or not all(any(f"cron.alter_job({i}, command" in s for s in statements)
                          for i in ids):
        return  # no likely key for a unique index: a person must choose one
    chosen = [(i, jobs[i].label, jobs[i].command) for i in ids if i is not None]
    ident = (f"concurrent-refresh-job-{ids[0]}" if len(ids) == 1
             else f"concurrent-refresh-{len(ids)}-jobs")
    b.add(ident, act.concurrent_refresh(chosen, statements, None),
          "the views are refreshed CONCURRENTLY from the next run: readers no longer wait", f)


_BY_CODE = {
    "blocking-lock": _locks,
    "idle-in-transaction": _sessions,
    "long-running-query": _sessions,
    "lock-hoarder": _sessions,
    "runaway-client": _runaway,
    "jit-overhead": _jit,
    "matview-blocking-refresh": _matview,
    **dict.fromkeys(JOB_CODES, _jobs),
}


def _long_transaction(b: _Builder, f: Finding) -> None:
    if _first(f, "prepared-xact") is not None:
        _prepared(b, f)
    elif _first(f, "backend") is not None:
        _sessions(b, f)


def build(report: TriageReport, *, only_codes: Iterable[str] | None = None) -> Playbook:
    """The playbook for ``report``: steps root blockers first, then by severity and rank."""
    wanted = set(only_codes) if only_codes is not None else None
    b = _Builder(report)
    later: list[Later] = []
    for f in report.findings:
        if wanted is not None and f.code not in wanted:
            continue
        handler = _long_transaction if f.code == "long-transaction" else _BY_CODE.get(f.code)
        before = len(b.steps), tuple(b.steps.values())
        if handler is not None:
            handler(b, f)
        if (len(b.steps), tuple(b.steps.values())) == before and f.remedy is not None:
            later.append(Later(f.code, f.title, f.remedy.summary, f.remedy.sql))
    steps = sorted(b.steps.values(), key=lambda s: (-s.unblocks, s.severity_rank, s.order, s.id))
    source = (report.recording.line if report.recording is not None
              else report.target.redacted)
    return Playbook(tuple(steps), tuple(later), source, report.recording is None)


def remedies_not_applied(later: Iterable[Later], applied_sql: Iterable[str]) -> list[Later]:
    """The lasting fixes still open: ``later`` items none of whose SQL was run."""
    ran = set(applied_sql)
    return [item for item in later if not (set(item.sql) & ran)]
