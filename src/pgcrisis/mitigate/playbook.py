"""Findings in, an ordered playbook out (pure: a triage report is data).

Each step is one :class:`~pgcrisis.actions.base.Action` from the catalogue (the very object a
finding's remedy holds, where the remedy has it) with a short, stable id (the same fault
gives the same id on the next run: ``terminate-pid-4242``, ``pause-job-3``,
``rollback-prepared-pay-17``), the expected effect, and the findings it answers. Steps are
ordered by what they unblock (sessions waiting behind the thing they end), then by the
severity and rank of their findings: root blockers come first. One step answers every finding
about the same object (the idle session that is a blocking-lock root is one terminate), and
alike actions of one finding are one step (the thirteen jobs of a refresh spike are paused
at once, and resumed by one undo).

Findings mitigation has no safe action for (a missing index, bloat, a slot to drop) are kept
as ``later``: their remedies are the lasting fixes, for people to plan. Tables with no
planner statistics at all are analyzed now (cheap, and it ends planning blind).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from pgcrisis.actions import (
    Action,
    Analyze,
    Cancel,
    CapConnections,
    Job,
    PauseJobs,
    RefreshConcurrentlyInJobs,
    RollbackPrepared,
    SetJobCommand,
    SetSetting,
    Terminate,
    TerminateSessions,
    covers,
    merged,
)
from pgcrisis.checks._text import plural
from pgcrisis.judge import TriageReport
from pgcrisis.model.evidence import (
    BlockingLockEvidence,
    IdleInTransactionEvidence,
    IdlePileEvidence,
    LiveRefreshEvidence,
    LockHoarderEvidence,
    LongRunningQueryEvidence,
    PreparedXactEvidence,
    RunawayCallsEvidence,
    RunawayConnectionsEvidence,
    of,
)
from pgcrisis.model.findings import Finding, ObjectRef

A = TypeVar("A", bound=Action)

#: jobs paused by mitigation: the findings about what a job does
JOB_CODES = ("job-too-frequent", "job-failing", "job-backlog", "refresh-spike")


@dataclass(frozen=True, slots=True)
class Step:
    """One thing to do now."""

    id: str
    action: Action
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


@dataclass
class _Builder:
    report: TriageReport
    steps: dict[str, Step] = field(default_factory=dict)

    def add(self, action: Action, effect: str, finding: Finding, unblocks: int = 0) -> None:
        """A step for ``action``; a step that already does what it does answers ``finding``
        too."""
        order = self.report.findings.index(finding)
        ident = next((s.id for s in self.steps.values() if covers(s.action, action)),
                     action.ident)
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


def _first(finding: Finding, kind: str) -> ObjectRef | None:
    return next((o for o in finding.objects if o.kind == kind), None)


def _remedy(finding: Finding, kind: type[A]) -> A | None:
    """The finding's own remedy action of ``kind`` (the first, if several)."""
    actions = finding.remedy.actions if finding.remedy else ()
    return next((a for a in actions if isinstance(a, kind)), None)


def _terminate(b: _Builder, f: Finding, waiters: int, why: str) -> None:
    """The remedy's terminate of one session: what it frees, or how many it lets go on."""
    action = _remedy(f, Terminate)
    if action is None:
        return
    pid = action.pids[0]
    effect = (f"ends pid {pid}: {plural(waiters, 'waiting session')} can go on" if waiters
              else f"ends pid {pid}: {why}")
    b.add(action, effect, f, waiters)


def _locks(b: _Builder, f: Finding) -> None:
    ev = of(f.evidence, BlockingLockEvidence)
    waiters = ev.waiters if ev else 0
    root = f.objects[0] if f.objects else None
    if root is None:
        return
    rollback = _remedy(f, RollbackPrepared)
    if root.kind == "prepared-xact" and root.gid and root.gid != "?" and rollback is not None:
        b.add(rollback, f"releases its locks: {plural(waiters, 'waiting session')} can go on",
              f, waiters)
    elif root.kind == "backend" and root.pid:
        _terminate(b, f, waiters, "its locks are released")


def _sessions(b: _Builder, f: Finding) -> None:
    idle = of(f.evidence, IdleInTransactionEvidence)
    running = of(f.evidence, LongRunningQueryEvidence)
    hoarder = of(f.evidence, LockHoarderEvidence)
    if f.code == "idle-in-transaction":
        _terminate(b, f, idle.blocks if idle else 0,
                   "its transaction rolls back, its locks and snapshot are released")
    elif f.code == "long-running-query":
        cancel = _remedy(f, Cancel)
        if cancel is not None:
            b.add(cancel, f"stops the statement of pid {cancel.pids[0]} that has run "
                          f"{running.running_s if running else '?'} s", f)
    elif f.code == "lock-hoarder":
        _terminate(b, f, 0, f"its {hoarder.locks if hoarder else '?'} locks are released")


def _long_transaction(b: _Builder, f: Finding) -> None:
    """An open transaction: the remedy's first action (terminate when the session idles,
    else cancel its statement); an orphaned prepared transaction: roll it back."""
    rollback = _remedy(f, RollbackPrepared)
    if rollback is not None:
        ev = of(f.evidence, PreparedXactEvidence)
        b.add(rollback, f"releases its {plural(ev.locks if ev else 0, 'lock')} and the xmin "
                        "horizon", f)
        return
    first = f.remedy.actions[0] if f.remedy and f.remedy.actions else None
    if isinstance(first, Terminate):
        _terminate(b, f, 0, "the xmin horizon moves on, vacuum can clean again")
    elif isinstance(first, Cancel):
        b.add(first, f"stops the statement holding pid {first.pids[0]}'s transaction open", f)


def _runaway(b: _Builder, f: Finding) -> None:
    client = _first(f, "client")
    role = _first(f, "role")
    role_name = role.name if role else None
    ev = of(f.evidence, RunawayConnectionsEvidence) or of(f.evidence, RunawayCallsEvidence)
    connections = ev.connections if ev else 0
    if client is not None and client.application_name:
        b.add(TerminateSessions(client.application_name, role_name),
              f"ends the {plural(connections, 'session')} of "
              f"{client.application_name}, freeing their slots and their load", f)
    if role_name:
        cap = _remedy(f, CapConnections)
        if cap is None:
            cap = CapConnections(role_name, max(1, (connections if ev else 2) // 2))
        b.add(cap, f"role {role_name} cannot open more than {cap.limit} connections again", f)


def _idle_pile(b: _Builder, f: Finding) -> None:
    """One client's pile of idle connections: end those idle sessions (its role's only) and
    cap its role, both the remedy's own actions. A server, database or role near its limit
    with no one client to blame has no step: its remedy is for people to plan."""
    ev = of(f.evidence, IdlePileEvidence)
    if ev is None:
        return
    end = _remedy(f, TerminateSessions)
    if end is not None:
        b.add(end, f"ends the {plural(ev.idle, 'idle session')} of {end.application_name}, "
                   "freeing their slots (sessions at work are left alone)", f)
    cap = _remedy(f, CapConnections)
    if cap is not None:
        b.add(cap, f"role {cap.role} cannot open more than {cap.limit} connections again", f)


def _jit(b: _Builder, f: Finding) -> None:
    """The remedy's option for the statement's role only (new sessions of that role)."""
    for action in f.remedy.actions if f.remedy else ():
        if isinstance(action, SetSetting) and action.scope == "role" and action.on:
            b.add(replace(action, option=""),
                  f"new sessions of role {action.on} plan without JIT (no compile time)", f)
            return


def _analyze(b: _Builder, f: Finding) -> None:
    """Tables the planner has no statistics for: ANALYZE each (it samples; seconds), the
    fix that ends planning blind at once."""
    for action in f.remedy.actions if f.remedy else ():
        if isinstance(action, Analyze) and not action.option:
            b.add(action, f"the planner gets statistics for {action.table}: its plans are "
                          "built on real row counts and values again", f)


def _jobs(b: _Builder, f: Finding) -> None:
    """Every job the finding names, paused at once: alike actions of one finding merge into
    one step (one decision, one undo that resumes them all)."""
    pauses = merged(PauseJobs((Job(o.jobid, o.name or ""),)) for o in f.objects
                    if o.kind == "job" and o.jobid is not None)
    for pause in pauses:
        assert isinstance(pause, PauseJobs)
        jobs = pause.jobs
        b.add(pause, f"job {jobs[0].label} stops running until resumed" if len(jobs) == 1
              else f"its {len(jobs)} jobs stop running until resumed", f)


def _matview(b: _Builder, f: Finding) -> None:
    head = f.objects[0] if f.objects else None
    if head is None:
        return
    if head.kind == "matview":      # a refresh running now
        live = of(f.evidence, LiveRefreshEvidence)
        readers = live.readers_waiting if live else 0
        stop = f.remedy.actions[0] if f.remedy and f.remedy.actions else None
        if isinstance(stop, Terminate):
            _terminate(b, f, readers, "its lock on the view is released")
        elif isinstance(stop, Cancel):
            b.add(stop, f"stops the refresh: {plural(readers, 'reader')} get the previous "
                        "contents", f, readers)
        return
    actions = f.remedy.actions if f.remedy else ()
    changed = {a.job.jobid for a in actions if isinstance(a, SetJobCommand)}
    jobs = {j.jobid for j in b.report.snapshot.cron.jobs}
    ids = [o.jobid for o in f.objects if o.kind == "job" and o.jobid in jobs]
    if not ids or not all(i in changed for i in ids):
        return  # no likely key for a unique index: a person must choose one
    b.add(RefreshConcurrentlyInJobs(actions),
          "the views are refreshed CONCURRENTLY from the next run: readers no longer wait", f)


def _saturation(b: _Builder, f: Finding) -> None:
    """A saturated CPU or disk, a write storm, large results: the remedy's own steps (cancel
    what the driving statement runs now, cap its role, JIT off for the role) and its option
    (end the driving client). A server-wide setting (a write storm's max_wal_size) stays an
    option of the remedy, never a step taken here."""
    for action in f.remedy.actions if f.remedy else ():
        if isinstance(action, Cancel):
            b.add(action, f"stops the driving statement in {plural(len(action.pids), 'session')}"
                          ": their CPU and I/O are freed at once", f)
        elif isinstance(action, CapConnections):
            b.add(action, f"role {action.role} cannot open more than {action.limit} "
                          "connections again: fewer run it at once", f)
        elif isinstance(action, SetSetting) and action.scope == "role" and action.on:
            b.add(action, f"new sessions of role {action.on} plan without JIT (no compile "
                          "time)", f)
        elif isinstance(action, TerminateSessions) and action.application_name:
            b.add(replace(action, option=""), f"ends the sessions of "
                  f"{action.application_name}, freeing the CPU and I/O they take", f)


def _contention(b: _Builder, f: Finding) -> None:
    """Contention: the remedy's cap on the role driving it, and its option (the WAL's:
    synchronous_commit off for the role); never a session to end (none is a culprit)."""
    for action in f.remedy.actions if f.remedy else ():
        if isinstance(action, CapConnections):
            b.add(action, f"role {action.role} cannot open more than {action.limit} "
                          "connections again: fewer sessions queue for the same rows, page or "
                          "lock", f)
        elif isinstance(action, SetSetting) and action.scope == "role" and action.on:
            b.add(replace(action, option=""), f"new sessions of role {action.on} set "
                  f"{action.name} = {action.value}", f)


_BY_CODE = {
    "blocking-lock": _locks,
    "idle-in-transaction": _sessions,
    "long-running-query": _sessions,
    "lock-hoarder": _sessions,
    "long-transaction": _long_transaction,
    "runaway-client": _runaway,
    "connection-saturation": _idle_pile,
    "jit-overhead": _jit,
    "cpu-saturation": _saturation,
    "io-saturation": _saturation,
    "missing-statistics": _analyze,
    "write-storm": _saturation,
    "large-result": _saturation,
    **dict.fromkeys(("row-lock-contention", "relation-extension", "lwlock-contention"),
                    _contention),
    "matview-blocking-refresh": _matview,
    **dict.fromkeys(JOB_CODES, _jobs),
}


def steps_for(report: TriageReport, finding: Finding) -> tuple[Step, ...]:
    """The steps :func:`build` makes for ``finding`` (one of ``report``'s) alone: what
    ``top``'s keys on a finding run, the same actions ``mitigate`` would."""
    b = _Builder(report)
    handler = _BY_CODE.get(finding.code)
    if handler is not None:
        handler(b, finding)
    return tuple(b.steps.values())


def build(report: TriageReport, *, only_codes: Iterable[str] | None = None) -> Playbook:
    """The playbook for ``report``: steps root blockers first, then by severity and rank."""
    wanted = set(only_codes) if only_codes is not None else None
    b = _Builder(report)
    later: list[Later] = []
    for f in report.findings:
        if wanted is not None and f.code not in wanted:
            continue
        handler = _BY_CODE.get(f.code)
        before = len(b.steps), tuple(b.steps.values())
        if handler is not None:
            handler(b, f)
        if (len(b.steps), tuple(b.steps.values())) == before and f.remedy is not None:
            later.append(Later(f.code, f.title, f.remedy.summary, f.remedy.sql))
    steps = sorted(b.steps.values(), key=lambda s: (-s.unblocks, s.severity_rank, s.order, s.id))
    source = (report.recording.line if report.recording is not None
              else report.target.redacted)
    return Playbook(tuple(steps), tuple(later), source, report.recording is None)
