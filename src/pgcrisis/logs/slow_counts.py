"""Slow statements of the log counted per minute and group, as the store keeps them: how many,
their total and longest duration, their durations' histogram (a p95 over any range), and the
latest plan auto_explain logged for the group.

The events are :func:`pgcrisis.logs.events.classify`'s: a ``SLOW`` event is a statement that
ran longer than ``log_min_duration_statement`` (``duration: 12.3 ms  statement: …``, or
``execute <name>: …`` for the extended protocol; the ``parse`` and ``bind`` steps' durations
are not the statement's run, and are not counted); a ``PLAN`` event is auto_explain's
(``duration: 12.3 ms  plan:`` then the plan). When both are logged, one execution writes its
plan first (at the executor's end) then its duration, from the same backend: the plan is
the next slow statement's of that process, and counted once, as that statement. A plan no
slow statement of its process follows (auto_explain alone) is counted itself, its statement
read from its ``Query Text``. (A plan whose statement comes in the next piece of the log
read is counted twice: the follower reads the log every second, the two lines are written
together.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pgcrisis.logs.events import Event, Kind
from pgcrisis.logs.statements import normalize, tag_of
from pgcrisis.store import LogSlowCount, histogram, to_us
from pgcrisis.store.series import MINUTE_US

#: a plan is cut here (the store keeps it once, but a plan of a huge statement is huge)
PLAN_MAX = 100_000

def statement_of(event: Event) -> str:
    """The statement a slow event is about, as :func:`~pgcrisis.logs.events.classify` read it
    (what follows ``statement:`` / ``execute …:``, a plan's Query Text), else the record's."""
    return event.statement or event.record.statement


def plan_of(event: Event) -> str:
    """The plan of a ``PLAN`` event (what follows ``plan:``), cut at :data:`PLAN_MAX`."""
    return event.plan.strip("\n")[:PLAN_MAX]


@dataclass(slots=True)
class _Group:
    first: Event
    statement: str
    durations: list[float] = field(default_factory=list)
    plan: str = ""


def count_slow(events: Iterable[Event]) -> list[LogSlowCount]:
    """One count per minute and group (normalized statement, queryid, tag, application, role,
    database) of the ``SLOW`` and ``PLAN`` events (the module's docstring says how a plan and
    its statement are counted once)."""
    groups: dict[tuple[int, str, int | None, str, str, str, str], _Group] = {}
    pending: dict[int | None, Event] = {}  # a plan awaiting its statement, by process

    def add(event: Event, statement: str, plan: str) -> None:
        r = event.record
        t = to_us(r.time)
        key = (t - t % MINUTE_US, normalize(statement), r.queryid, tag_of(statement),
               r.application, r.user, r.database)
        g = groups.setdefault(key, _Group(event, statement))
        g.durations.append(event.duration_ms or 0.0)
        if plan:
            g.plan = plan

    for event in events:
        if event.duration_ms is None:
            continue
        if event.kind == Kind.PLAN:
            unclaimed = pending.pop(event.record.pid, None)
            if unclaimed is not None:
                add(unclaimed, statement_of(unclaimed), plan_of(unclaimed))
            pending[event.record.pid] = event
        elif event.kind == Kind.SLOW and event.reason not in ("parse", "bind"):
            plan = pending.pop(event.record.pid, None)
            add(event, statement_of(event), plan_of(plan) if plan is not None else "")
    for plan in pending.values():
        add(plan, statement_of(plan), plan_of(plan))
    return [LogSlowCount(t, statement, queryid, tag, app, role, db, len(g.durations),
                         sum(g.durations), max(g.durations), histogram.of(g.durations),
                         g.plan)
            for (t, statement, queryid, tag, app, role, db), g in groups.items()]
