"""The plans of the statements that carry the load: which statements (:func:`carrying_load`),
and what their generic plans cost where (filled by the ``plans`` part's probe,
``collect/probe_plans.py``; judged by ``bad-plan``, ``checks/plans.py``).

A generic plan is the plan built without the parameters' values (``EXPLAIN (GENERIC_PLAN)``
on PostgreSQL 16+; before, a prepared statement planned under ``plan_cache_mode =
force_generic_plan``): estimates only, nothing executed, no actual rows. What is kept of it
is its summary and the tips its estimates support (:mod:`pgcrisis.plan.tips.generic`) as
typed records, not the plan.

Pure, like the rest of :mod:`pgcrisis.model`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pgcrisis.model.severity import Severity
from pgcrisis.model.statements import Statement

if TYPE_CHECKING:
    from pgcrisis.model.snapshot import Snapshot

#: how a statement's share of the time was measured
BY_SESSIONS = "the sessions seen running it over the load window"
BY_WINDOW_TIME = "its execution time over the load window (pg_stat_statements)"
SINCE_RESET = "its execution time since pg_stat_statements was reset"


@dataclass(frozen=True, slots=True)
class Carrier:
    """A statement that carries the load, with its share of the time and how that was
    measured (:data:`BY_SESSIONS`, :data:`BY_WINDOW_TIME`, :data:`SINCE_RESET`)."""

    statement: Statement
    share: float
    measured_by: str


def carrying_load(snapshot: Snapshot, top: int) -> tuple[Carrier, ...]:
    """The ``top`` statements of the current database that carry the load, largest share
    first: over triage's load window where it measured statements, else by their execution
    time since pg_stat_statements was reset.

    In the window a statement's share is the larger of two measures of its time there: the
    sessions seen running it (PostgreSQL 14+: a statement running all window long, no call
    completed, is seen only so) and its execution time (a statement of many short calls may
    escape the samples). A statement of another database (the window's are server-wide) is
    left out: it cannot be planned here.
    """
    load = snapshot.load
    statements = snapshot.statements
    if load is not None and load.statements_known and load.statements:
        seen = sum(s.active for s in load.statements)
        timed = sum(s.exec_ms for s in load.statements)
        out = []
        for s in load.statements:
            by_sessions = s.active / seen if seen > 0 else 0.0
            by_time = s.exec_ms / timed if timed > 0 else 0.0
            st = statements.by_queryid(s.queryid)
            if st is not None and max(by_sessions, by_time) > 0:
                out.append(Carrier(st, max(by_sessions, by_time),
                                   BY_SESSIONS if by_sessions >= by_time else BY_WINDOW_TIME))
        if out:
            return tuple(sorted(out, key=lambda c: -c.share)[:top])
    total = statements.db_total_exec_ms
    ranked = sorted(statements.rows, key=lambda s: -s.total_exec_ms)[:top]
    return tuple(Carrier(st, st.total_exec_ms / total if total > 0 else 0.0, SINCE_RESET)
                 for st in ranked if st.total_exec_ms > 0)


@dataclass(frozen=True, slots=True)
class PlanTip:
    """One tip of a generic plan (:mod:`pgcrisis.plan.tips.generic`), in the planner's
    figures: ``cost`` charged to the shape over all its runs, its ``share`` of the plan's
    cost, ``runs`` (estimated rows x loops of what repeats it; 1 when nothing does) and
    ``rows`` it reads. ``node`` names the plan node. ``table`` is the schema-qualified
    table (as the catalog names it, ``table_oid`` its oid) the advice is about,
    ``index_columns`` a b-tree's
    plain columns where the advice is one; ``analyze`` tables to ANALYZE; ``sql`` the
    tip's statements as written."""

    code: str
    severity: Severity
    title: str
    detail: str
    node: str
    cost: float
    share: float
    runs: float
    rows: float
    sql: tuple[str, ...] = ()
    table: str | None = None
    table_oid: int | None = None
    index_columns: tuple[str, ...] = ()
    analyze: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StatementPlan:
    """A statement's generic plan, as kept: how it was obtained (``method``), the plan's
    total cost, estimated rows and node count, its costliest node, its tips (worst first),
    and how long the EXPLAIN took. ``reason`` says why it has none (it could not be
    planned, or the budget ran out)."""

    queryid: int
    query: str
    share: float
    measured_by: str
    method: str = ""
    total_cost: float = 0.0
    rows: float = 0.0
    nodes: int = 0
    costliest: str = ""
    tips: tuple[PlanTip, ...] = ()
    elapsed_ms: float = 0.0
    reason: str | None = None

    def shape(self, min_share: float) -> PlanTip | None:
        """Its worst tip that costs at least ``min_share`` of the plan (the tips come worst
        first): the shape a saturation it drives is named by."""
        return next((tip for tip in self.tips if tip.share >= min_share), None)


@dataclass(frozen=True, slots=True)
class StatementPlans:
    """The ``plans`` part: the plans of the statements that carry the load (at most a few,
    in a bounded time), how they were chosen, and what reading them cost (EXPLAINs run,
    milliseconds)."""

    plans: tuple[StatementPlan, ...] = ()
    explains: int = 0
    elapsed_ms: float = 0.0

    def of(self, queryid: int) -> StatementPlan | None:
        """The plan of the statement with this queryid, if it was read."""
        return next((p for p in self.plans if p.queryid == queryid), None)
