"""Findings of what the log says happened to sessions: deadlocks, refused connections,
transactions out of lock slots, cancelled statements, idle-in-transaction timeouts.

Each is grouped the way one remedy fixes it (a pair of statements, a client, a statement
and its application) with how many, and the first and last time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence

from pgcrisis.logs.events import Event, Kind
from pgcrisis.logs.evidence import database_ref, log_evidence, short, span, statement_ref
from pgcrisis.logs.statements import normalize, tag_of
from pgcrisis.model.findings import Finding, ObjectRef, Remedy, Severity

_PORT = re.compile(r"(?:\(\d+\)|:\d+)$")


def grouped(events: Sequence[Event], kind: Kind,
            key: Callable[[Event], Hashable]) -> list[list[Event]]:
    """The events of ``kind`` by ``key``, largest group first."""
    groups: dict[Hashable, list[Event]] = {}
    for e in events:
        if e.kind is kind:
            groups.setdefault(key(e), []).append(e)
    return sorted(groups.values(), key=len, reverse=True)


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n:,} times"


def host(client: str) -> str:
    """The client's address without its port (``10.0.0.5(53122)``, ``10.0.0.5:53122``)."""
    return _PORT.sub("", client) or "local"


def deadlocks(events: Sequence[Event]) -> list[Finding]:
    """``deadlock``: per set of statements caught in it, both statements."""
    out = []
    for group in grouped(events, Kind.DEADLOCK, lambda e: tuple(sorted(
            normalize(s) for _, s in e.processes)) or normalize(e.statement)):
        last = group[-1]
        statements = [s for _, s in last.processes] or [last.statement]
        n = len(group)
        listed = " / ".join(short(s, 60) for s in statements)
        out.append(Finding(
            "deadlock", Severity.WARNING,
            f"deadlock {_times(n)} between {listed}, {span(group)}",
            "The server aborted one transaction of each deadlock (40P01) after "
            "deadlock_timeout. The processes and what each ran (the last one): "
            + "; ".join(f"pid {pid}: {short(s, 200)}" for pid, s in last.processes)
            + ". Each took the same locks in a different order.",
            (statement_ref(last, statements[0]), database_ref(last)),
            {"count": n, "statements": statements,
             "pids": [pid for pid, _ in last.processes], "log": log_evidence(group)},
            Remedy("Take the locks in one order in every transaction (e.g. update rows "
                   "sorted by key), or lock up front (SELECT ... FOR UPDATE in key order); "
                   "retry the aborted transaction in the application."),
            impact=n * 2e6))
    return out


def refusals(events: Sequence[Event]) -> list[Finding]:
    """``connection-saturation``: refused connections per client host, role and database."""
    out = []
    for group in grouped(events, Kind.REFUSED, lambda e: (host(e.record.client),
                                                          e.record.user, e.record.database)):
        first = group[0]
        n = len(group)
        reasons = sorted({e.reason for e in group})
        where = host(first.record.client)
        who = f"{first.record.user or '?'}@{first.record.database or '?'}"
        said = first.record.message
        objects = [ObjectRef.client(first.record.application, where if where != "local"
                                    else None, name=f"{where} ({who})")]
        if first.record.user:
            objects.append(ObjectRef("role", name=first.record.user))
        if first.record.database:
            objects.append(ObjectRef("database", name=first.record.database))
        out.append(Finding(
            "connection-saturation", Severity.CRITICAL,
            f"{n:,} connection{'s' * (n != 1)} refused from {where} as {who}, {span(group)}",
            f"The server refused them: \"{said}\" ({', '.join(reasons)}). Every slot was "
            "taken (max_connections, or the reserved slots left), or the role's or "
            "database's CONNECTION LIMIT was reached: the clients saw errors for as long.",
            tuple(objects),
            {"refused": n, "reasons": reasons, "client_addr": where, "role": first.record.user,
             "database": first.record.database, "log": log_evidence(group)},
            Remedy("Put a pooler (PgBouncer, transaction mode) in front, or cap the "
                   "application's pool so that all pools together stay under max_connections; "
                   "find the sessions that held the slots (idle ones first)."),
            impact=n * 1e6))
    return out


def out_of_locks(events: Sequence[Event]) -> list[Finding]:
    """``lock-hoarder``: a transaction ran the shared lock table out (53200)."""
    out = []
    for group in grouped(events, Kind.OUT_OF_LOCKS, lambda e: normalize(e.statement)):
        last = group[-1]
        n = len(group)
        out.append(Finding(
            "lock-hoarder", Severity.CRITICAL,
            f"out of shared memory for locks {_times(n)} running {short(last.statement, 60)}, "
            f"{span(group)}",
            "The server's lock table was full (53200, HINT max_locks_per_transaction): a "
            "transaction locked more objects than max_locks_per_transaction x "
            f"max_connections allows (pids {', '.join(str(e.pid) for e in group[:10])}); "
            "every other session that needed a lock then failed too.",
            (statement_ref(last, last.statement), database_ref(last)),
            {"count": n, "statement": last.statement,
             "pids": sorted({e.pid for e in group if e.pid is not None}),
             "log": log_evidence(group)},
            Remedy("Split the transaction (fewer tables or partitions per transaction), or "
                   "raise max_locks_per_transaction (needs a restart)."),
            impact=n * 1e6))
    return out


_CANCEL_WORDS = {"statement-timeout": "statement timeout", "lock-timeout": "lock timeout",
                 "user-request": "user request"}


def cancellations(events: Sequence[Event]) -> list[Finding]:
    """``statement-cancelled``: per reason, normalized statement and application."""
    out = []
    for group in grouped(events, Kind.CANCELLED, lambda e: (
            e.reason, normalize(e.statement), e.record.application)):
        last = group[-1]
        n = len(group)
        why = _CANCEL_WORDS.get(last.reason, "cancelled")
        app = last.record.application
        of_app = f" of {app}" if app else ""
        tag = tag_of(last.statement)
        out.append(Finding(
            "statement-cancelled",
            Severity.INFO if last.reason == "user-request" else Severity.WARNING,
            f"{short(last.statement, 60)} cancelled by {why} {_times(n)}"
            + (f" ({app})" if app else "") + f", {span(group)}",
            f"\"{last.record.message}\" (57014) {_times(n)} for this statement{of_app}"
            + (f", view {tag}" if tag else "") + ". "
            + ("It ran past statement_timeout: the user got an error. "
               if last.reason == "statement-timeout" else
               "It waited for a lock past lock_timeout: another session held it. "
               if last.reason == "lock-timeout" else "A client or an operator cancelled it. "),
            (statement_ref(last, last.statement),
             *((ObjectRef.client(app, None),) if app else ())),
            {"count": n, "reason": last.reason, "statement": last.statement,
             "application": app or None, "tag": tag or None, "log": log_evidence(group)},
            Remedy("Make the statement faster (see its plan: pgcrisis explain), or find what "
                   "held its lock (blocking-lock of the same time)."),
            impact=n * 1e5))
    return out


def idle_timeouts(events: Sequence[Event]) -> list[Finding]:
    """``idle-in-transaction``: sessions the server ended for sitting idle in a
    transaction, per application, role and database."""
    out = []
    for group in grouped(events, Kind.IDLE_TIMEOUT, lambda e: (
            e.record.application, e.record.user, e.record.database)):
        last = group[-1]
        n = len(group)
        app = last.record.application or "an unnamed application"
        out.append(Finding(
            "idle-in-transaction", Severity.WARNING,
            f"{n:,} session{'s' * (n != 1)} of {app} ended by "
            f"idle_in_transaction_session_timeout, {span(group)}",
            f"The server terminated them (25P03): each left a transaction open and idle "
            f"past idle_in_transaction_session_timeout (role {last.record.user or 'not logged'}, "
            f"database {last.record.database or 'not logged'}). Until then they held their locks "
            "and the xmin horizon.",
            (ObjectRef.client(app, None), database_ref(last)),
            {"count": n, "application": app, "role": last.record.user,
             "pids": sorted({e.pid for e in group if e.pid is not None})[:50],
             "log": log_evidence(group)},
            Remedy("Find where the application opens a transaction and waits (on the user, "
                   "on another service) before committing; commit or roll back first."),
            impact=n * 1e5))
    return out
