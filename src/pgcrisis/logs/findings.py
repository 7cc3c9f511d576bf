"""The past diagnosed from the log alone: events (:mod:`.events`) in, findings out, with the
same codes, contract and exit status as live triage; every finding names the log lines it
comes from (evidence ``log``: file, first and last line, first and last time, records).

Each family lives in a module named for what it reads: :mod:`.lockwaits` (blocking chains),
:mod:`.sessions` (deadlocks, refusals, lock-table exhaustion, cancels, idle timeouts),
:mod:`.server` (crashes, checkpoints, wraparound), :mod:`.slow` (slow statements,
temporary files, auto_explain plans).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pgcrisis.logs.events import Event
from pgcrisis.logs.lockwaits import lock_findings
from pgcrisis.logs.server import checkpoints, crashes, wraparound
from pgcrisis.logs.sessions import (
    cancellations,
    deadlocks,
    idle_timeouts,
    out_of_locks,
    refusals,
)
from pgcrisis.logs.slow_findings import bad_plans, slow_queries, temp_files
from pgcrisis.model.findings import Finding, rank

LogCheck = Callable[[Sequence[Event]], list[Finding]]

#: which function makes each code from the log (the docs test checks every code that only
#: the log makes has one; the others are live checks' codes too)
LOG_CHECKS: dict[str, tuple[LogCheck, ...]] = {
    "blocking-lock": (lock_findings,),
    "deadlock": (deadlocks,),
    "connection-saturation": (refusals,),
    "lock-hoarder": (out_of_locks,),
    "statement-cancelled": (cancellations,),
    "idle-in-transaction": (idle_timeouts,),
    "server-crash": (crashes,),
    "checkpoint-too-frequent": (checkpoints,),
    "wraparound-risk": (wraparound,),
    "temp-files": (temp_files,),
    "slow-query": (slow_queries,),
    "bad-plan": (bad_plans,),
}
#: the codes only the log makes (no live check can see a past crash or deadlock)
LOG_CODES = ("deadlock", "statement-cancelled", "server-crash", "checkpoint-too-frequent",
             "temp-files")


def findings_of(events: Sequence[Event]) -> tuple[Finding, ...]:
    """The findings the events show, ranked as triage ranks them."""
    ordered = sorted(events, key=lambda e: (e.record.time, e.record.file, e.record.line))
    found: list[Finding] = []
    for checks in LOG_CHECKS.values():
        for make in checks:
            found.extend(make(ordered))
    return tuple(rank(found))
