"""Findings of what the log says happened to the server itself: crashes and restarts (with
the gap they left), checkpoints too close together, vacuums against wraparound.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from pgcrisis.durations import lasted
from pgcrisis.logs.events import Event, Kind
from pgcrisis.logs.evidence import database_ref, iso, log_evidence, short, span
from pgcrisis.logs.messages import match
from pgcrisis.logs.sessions import grouped
from pgcrisis.model.findings import Finding, ObjectRef, Remedy, Severity

#: the messages that say the whole server went down (one process ending alone does not:
#: a background worker exits with code 1 and is started again)
_SERVER_DOWN = ("terminating-others", "reinitializing", "not-shut-down", "interrupted",
                "panic")
#: a process's death this close before "terminating any other active server processes" is
#: what brought the server down
CAUSE_WINDOW = timedelta(seconds=5)


@dataclass
class Outage:
    """One crash: from its first message to "ready to accept connections" (``up``)."""

    events: list[Event] = field(default_factory=list)
    up: Event | None = None

    @property
    def gap_s(self) -> float | None:
        """From the first crash message to ready; None when the log ends before."""
        if self.up is None:
            return None
        return (self.up.record.time - self.events[0].record.time).total_seconds()


def outages(events: Sequence[Event]) -> list[Outage]:
    """The crashes of ``events`` (in time order), each from the process death that caused
    it (when the log shows one) to the restart that ended it."""
    out: list[Outage] = []
    current: Outage | None = None
    death: Event | None = None   # the last process that died, a cause in waiting
    for e in events:
        down = e.kind in (Kind.CRASH, Kind.RESTART) and e.reason in _SERVER_DOWN
        if current is None and down:
            current = Outage()
            out.append(current)
            if death is not None and e.record.time - death.record.time <= CAUSE_WINDOW:
                current.events.append(death)
        if current is not None and (e.kind is Kind.CRASH or down):
            current.events.append(e)
        elif e.kind is Kind.CRASH:
            death = e
        elif e.kind is Kind.RESTART and e.reason == "ready" and current is not None:
            current.up = e
            current = None
    return out


def _cause(outage: Outage) -> tuple[str, int | None, str]:
    """What went down (``server process (PID 123) was terminated by signal 9: Killed``),
    its pid and the statement it was running, from the first message that names one."""
    for e in outage.events:
        if e.reason in ("terminated-by-signal", "terminated-by-exception", "exited-with-code"):
            return e.record.message, e.pid, e.statement
        if e.reason == "panic":
            return f"PANIC: {e.record.message}", e.record.pid, e.record.statement
    return outage.events[0].record.message, None, ""


def crashes(events: Sequence[Event]) -> list[Finding]:
    """``server-crash``: every crash, with the time the server was not accepting
    connections."""
    out = []
    for outage in outages(events):
        cause, pid, statement = _cause(outage)
        gap = outage.gap_s
        signal = next((match("terminated-by-signal", e.record.message) for e in outage.events
                       if e.reason == "terminated-by-signal"), None)
        oom = signal is not None and signal[2] == "9"
        seen = outage.events + ([outage.up] if outage.up else [])
        first = outage.events[0]
        objects = ([ObjectRef("backend", name=f"pid {pid}", pid=pid)] if pid else [])
        objects.append(database_ref(first) if first.record.database else
                       ObjectRef("setting", name="restart_after_crash"))
        out.append(Finding(
            "server-crash", Severity.CRITICAL,
            f"the server crashed {span(outage.events[:1])}: "
            + (f"down {lasted(gap)}" if gap is not None else "not back up in the log"),
            f"{cause}. " + (f"It was running: {short(statement, 200)}. " if statement else "")
            + "Every session was ended and the server went through crash recovery"
            + (f"; it accepted connections again {lasted(gap)} later." if gap is not None
               else "; the log ends before it accepted connections again.")
            + (" Signal 9 is most often the kernel's OOM killer: see the kernel log "
               "(dmesg) for 'Out of memory: Killed process'." if oom else ""),
            tuple(objects),
            {"cause": cause, "pid": pid, "statement": statement, "signal":
             int(signal[2]) if signal else None, "down_s": gap,
             "ready_at": iso(outage.up.record.time) if outage.up else None,
             "log": log_evidence(seen)},
            Remedy("Find why the process died: for signal 9 the kernel's OOM killer "
                   "(lower work_mem x connections, vm.overcommit_memory = 2, a cgroup "
                   "limit above shared_buffers + sessions); for a PANIC or a segfault the "
                   "lines before it."),
            impact=1e9 + (gap or 0.0)))
    return out


def checkpoints(events: Sequence[Event]) -> list[Finding]:
    """``checkpoint-too-frequent``: checkpoints forced by WAL volume closer than
    checkpoint_warning."""
    group = [e for e in events if e.kind is Kind.CHECKPOINT_FREQUENT]
    if not group:
        return []
    closest = min(e.seconds or 0.0 for e in group)
    n = len(group)
    return [Finding(
        "checkpoint-too-frequent", Severity.WARNING,
        f"checkpoints {closest:g} s apart ({n:,} warning{'s' * (n != 1)}), {span(group)}",
        "WAL filled max_wal_size faster than checkpoint_timeout: each checkpoint was forced "
        f"by WAL volume, the closest {closest:g} s after the one before. Every page written "
        "after a checkpoint goes to WAL whole again (full_page_writes), so frequent "
        "checkpoints multiply WAL and I/O.",
        (ObjectRef("setting", name="max_wal_size"),),
        {"warnings": n, "min_interval_s": closest, "log": log_evidence(group)},
        Remedy("Raise max_wal_size (no restart needed) so checkpoints come from "
               "checkpoint_timeout, not WAL volume."),
        impact=n)]


def wraparound(events: Sequence[Event]) -> list[Finding]:
    """``wraparound-risk``: vacuums run to prevent wraparound, per table, and the server's
    warnings that a database must be vacuumed."""
    out = []
    for group in grouped(events, Kind.WRAPAROUND_VACUUM, lambda e: (e.reason, e.relation,
                                                                    e.target)):
        last = group[-1]
        n = len(group)
        urgent = last.reason == "must-vacuum"
        name = last.relation and f"{last.target}.{last.relation}"
        objects = ((ObjectRef("relation", name=last.relation),) if last.relation
                   else (ObjectRef("database", name=last.target or "?"),))
        out.append(Finding(
            "wraparound-risk", Severity.CRITICAL if urgent else Severity.WARNING,
            (f"database {last.target} must be vacuumed: {last.record.message}" if urgent else
             f"vacuum to prevent wraparound of {name} {n:,} time{'s' * (n != 1)}")
            + f", {span(group)}",
            ("The server warned that transaction IDs are close to running out: at the limit "
             "it stops accepting writes." if urgent else
             "Autovacuum had to freeze this table against transaction-ID wraparound "
             "(autovacuum_freeze_max_age reached): such a vacuum cannot be cancelled and "
             "reads the whole table."),
            objects, {"count": n, "relation": last.relation, "database": last.target,
                      "log": log_evidence(group)},
            Remedy("Let the vacuum finish; find what held the xmin horizon back (long "
                   "transactions, prepared transactions, replication slots) and vacuum "
                   "(FREEZE) the oldest tables before they reach the limit."),
            impact=n * (1e6 if urgent else 1.0)))
    return out
