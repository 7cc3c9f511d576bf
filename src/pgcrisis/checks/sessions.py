"""Session checks: idle-in-transaction and long-running-query.

A session idle inside a transaction holds its locks and its snapshot while doing nothing;
when it blocks others it matters at any age (the blocking-lock finding names it the root), and
otherwise once it has sat past a threshold.
"""

from __future__ import annotations

from collections.abc import Iterable

from pgcrisis import durations, shorten
from pgcrisis.actions import Cancel, SetSetting, Terminate
from pgcrisis.checks._text import plural, who
from pgcrisis.checks.registry import check
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.model.activity import Backend, SessionGroup
from pgcrisis.model.evidence import IdleInTransactionEvidence, LongRunningQueryEvidence
from pgcrisis.model.findings import Finding, ObjectRef, Remedy, Severity
from pgcrisis.model.snapshot import Snapshot

#: application_name of pgcrisis's own sessions: never judged (the tool must not flag itself).
OWN_APPLICATION = "pgcrisis"


def is_own(backend: Backend | SessionGroup) -> bool:
    """A pgcrisis session (this one is excluded by the probe; others by name)."""
    return backend.application_name == OWN_APPLICATION


def blockers(snapshot: Snapshot) -> dict[int, int]:
    """pid -> number of sessions it blocks directly."""
    counts: dict[int, int] = {}
    for b in snapshot.activity:
        for pid in b.blocked_by:
            counts[pid] = counts.get(pid, 0) + 1
    return counts


@check("idle-in-transaction", needs=("activity",))
def idle_in_transaction(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """Sessions idle inside an open transaction: blocking others, or idle too long."""
    blocking = blockers(snapshot)
    for b in snapshot.activity:
        if not (b.state or "").startswith("idle in transaction") or is_own(b):
            continue
        waiting = blocking.get(b.pid, 0)
        idle_for = b.state_age_s or 0.0
        if waiting:
            # a busy client caught between two statements of a short transaction is no news
            longest_wait = max((w.state_age_s or 0.0 for w in snapshot.activity
                                if b.pid in w.blocked_by), default=0.0)
            if max(idle_for, longest_wait) < t.idle_blocking_min_s:
                continue
        elif idle_for < t.idle_in_transaction_s:
            continue
        xact = durations.words(b.xact_age_s)
        if waiting:
            title = (f"pid {b.pid} ({who(b)}) is idle in transaction and blocks "
                     f"{plural(waiting, 'session')}")
        else:
            title = (f"pid {b.pid} ({who(b)}) has been idle in transaction for "
                     f"{durations.words(idle_for)}")
        yield Finding(
            code="idle-in-transaction",
            severity=Severity.WARNING,
            title=title,
            detail=(f"The transaction has been open for {xact}; the session has done nothing for "
                    f"{durations.words(idle_for)}. Its last statement was: "
                    f"{shorten.query(b.query, 160)}. "
                    "It keeps every lock it took and holds back vacuum until it ends."),
            objects=(ObjectRef("backend", pid=b.pid, name=who(b)),
                     *((ObjectRef.client(b.application_name, b.client_addr),)
                       if b.client_addr else ())),
            evidence=IdleInTransactionEvidence(
                idle_s=round(idle_for, 1), xact_age_s=round(b.xact_age_s or 0, 1),
                blocks=waiting, state=b.state, user=b.usename),
            remedy=Remedy(
                "End the transaction: fix the client that leaves it open (commit or roll back "
                "promptly); now, terminate the session. Set idle_in_transaction_session_timeout "
                "so it cannot happen again.",
                (Terminate.of([b.pid]),
                 SetSetting("idle_in_transaction_session_timeout", "5min")),
            ),
            impact=waiting * 1e6 + idle_for,
        )


@check("long-running-query", needs=("activity",))
def long_running_query(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """Active statements that have run past a threshold (lock waits included: they still hold)."""
    for b in snapshot.activity:
        if b.state != "active" or not b.is_client or is_own(b):
            continue
        age = b.query_age_s or 0.0
        if age < t.long_running_query_s:
            continue
        severity = (Severity.CRITICAL if age >= t.long_running_query_critical_s
                    else Severity.WARNING)
        waiting = f", waiting on {b.wait_event_type}:{b.wait_event}" if b.wait_event_type else ""
        yield Finding(
            code="long-running-query",
            severity=severity,
            title=(f"pid {b.pid} ({who(b)}) has been running one statement for "
                   f"{durations.words(age)}"),
            detail=(f"Statement: {shorten.query(b.query, 200)}{waiting}. "
                    f"Transaction open for {durations.words(b.xact_age_s)}."),
            objects=(ObjectRef("backend", pid=b.pid, name=who(b)),),
            evidence=LongRunningQueryEvidence(
                running_s=round(age, 1), xact_age_s=round(b.xact_age_s or 0, 1),
                wait_event=b.wait_event, user=b.usename),
            remedy=Remedy(
                "Cancel the statement if it is not expected to run this long; find out why with "
                "`pgcrisis explain` on its plan. Set a statement_timeout for the application role.",
                (Cancel.of([b.pid]),),
            ),
            impact=age,
        )
