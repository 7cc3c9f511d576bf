"""The ``plans`` part: the generic plans of the statements that carry the load, read by
``pgcrisis explain``'s analyser with the tips a plan's estimates support
(:mod:`pgcrisis.plan.tips.generic`).

Which statements: :func:`pgcrisis.model.plans.carrying_load` of what this pass read before
it (the load window's shares where the window measured statements, else
pg_stat_statements' time since its reset), at most :data:`MAX_PLANS`. How, on the safe
session (:func:`.generic_plan.generic_plan`): ``EXPLAIN (GENERIC_PLAN)`` on PostgreSQL 16+;
before, the text as it is where it has no parameters, else a statement prepared under
``force_generic_plan`` and EXPLAIN EXECUTE with NULL arguments (the generic plan is built
without them). Never ANALYZE: nothing is executed. Each EXPLAIN runs under a
``statement_timeout`` of at most :data:`PER_PLAN_MS`, all of them within
:data:`BUDGET_MS`; a statement left over, or one that cannot be planned (a table locked
past ``lock_timeout``, a parameter whose type the planner cannot tell), is kept with the
reason. The tables' sizes the tips need (rows before a filter) come from the relations
part.

Queries: one per statement planned (at most :data:`MAX_PLANS`), plus one to clean up after
a failed EXPLAIN of a prepared statement.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import psycopg

from pgcrisis.collect.generic_plan import generic_plan, lost, parse_shape, unverified_reason
from pgcrisis.collect.probe import ProbeContext, probe
from pgcrisis.collect.probe_statements import require_pgss
from pgcrisis.errors import ProbeUnavailable
from pgcrisis.model.parts import PLANS
from pgcrisis.model.plans import Carrier, PlanTip, StatementPlan, StatementPlans, carrying_load
from pgcrisis.model.relations import Relations, Table
from pgcrisis.model.snapshot import Snapshot

if TYPE_CHECKING:
    from pgcrisis.plan import PlanAnalysis, TableStats, Tip

#: statements planned per pass
MAX_PLANS = 5
#: milliseconds all of their EXPLAINs may take, and one of them
BUDGET_MS = 1000
PER_PLAN_MS = 500
#: an EXPLAIN is not started with less time left than this
MIN_PLAN_MS = 50


def _so_far(ctx: ProbeContext) -> Snapshot:
    """The snapshot of the parts this pass has read so far (what the selection needs)."""
    fields = {name: value for part in ctx.collected.values() for name, value in part.items()}
    return Snapshot(server=ctx.server, taken_at=datetime.now(UTC), **fields)


class _Tables:
    """What the relations part says of a table a plan names by (schema, name)."""

    def __init__(self, relations: Relations) -> None:
        self.relations = relations

    def stats(self, schema: str | None, name: str) -> TableStats | None:
        from pgcrisis.plan import TableStats

        table = self.relations.find(schema, name)
        if table is None:
            return None
        return TableStats(table.reltuples if table.reltuples >= 0 else None, table.relpages)

    def table(self, relation: tuple[str | None, str] | None) -> Table | None:
        """The table a plan names by (schema, name), if the relations part read it."""
        return None if relation is None else self.relations.find(*relation)


def _tip(tip: Tip, node: str, tables: _Tables) -> PlanTip:
    estimate = tip.estimate
    assert estimate is not None  # the estimate tips carry one
    table = tables.table(estimate.relation)
    analyze = (tables.table(r) for r in estimate.analyze)
    return PlanTip(
        tip.code, tip.severity, tip.title, tip.detail, node, round(estimate.cost, 2),
        round(estimate.share, 4), round(estimate.runs, 1), round(estimate.rows, 1), tip.sql,
        None if table is None else table.name, None if table is None else table.oid,
        estimate.index_columns, tuple(t.name for t in analyze if t is not None))


def _kept(carrier: Carrier, method: str, analysis: PlanAnalysis, elapsed_ms: float,
          tables: _Tables) -> StatementPlan:
    """What is kept of a plan: its summary and its estimate tips (not the plan)."""
    nodes = {n.id: n for n in analysis.nodes or analysis.hot_nodes}
    roots = [n for n in nodes.values() if n.parent_id is None]
    costliest = max(nodes.values(), key=lambda n: n.exclusive_cost, default=None)
    tips = tuple(_tip(t, nodes[t.node].label if t.node in nodes else "?", tables)
                 for t in analysis.tips if t.estimate is not None)
    return StatementPlan(
        carrier.statement.queryid, carrier.statement.query, round(carrier.share, 4),
        carrier.measured_by, method, round(sum(n.total_cost for n in roots), 2),
        sum(n.plan_rows for n in roots), analysis.summary.nodes,
        costliest.label if costliest is not None else "", tips, round(elapsed_ms, 1))


@probe(PLANS)
def plans(ctx: ProbeContext) -> Mapping[str, Any]:
    """The generic plans of the statements that carry the load, with their tips."""
    if "statements" not in ctx.collected:
        require_pgss(ctx)
        raise ProbeUnavailable("pg_stat_statements could not be read")
    from pgcrisis.plan import analyse_bytes  # the analyser: loaded only to read a plan

    snapshot = _so_far(ctx)
    tables = _Tables(snapshot.relations)
    t0 = time.monotonic()
    kept: list[StatementPlan] = []
    explains = 0
    for carrier in carrying_load(snapshot, MAX_PLANS):
        st = carrier.statement
        left = BUDGET_MS - (time.monotonic() - t0) * 1000
        shape = parse_shape(st.query)
        reason = (None if shape is not None and shape.is_dml else
                  "pgcrisis cannot parse its text" if shape is None else
                  "it is not a statement EXPLAIN plans")
        if reason is None and left < MIN_PLAN_MS:
            reason = f"the {BUDGET_MS / 1000:g} s for plans were spent on the statements before it"
        if reason is not None or shape is None:
            kept.append(StatementPlan(st.queryid, st.query, round(carrier.share, 4),
                                      carrier.measured_by, reason=reason))
            continue
        started = time.monotonic()
        explains += 1
        try:
            plan, method = generic_plan(ctx, st.query, shape.params,
                                        int(min(left, PER_PLAN_MS)))
        except psycopg.Error as exc:
            if lost(ctx):
                raise
            kept.append(StatementPlan(st.queryid, st.query, round(carrier.share, 4),
                                      carrier.measured_by, reason=unverified_reason(exc)))
            continue
        analysis = analyse_bytes(plan.encode(), name=f"query {st.queryid}", estimates=True,
                                 tables=tables.stats)
        kept.append(_kept(carrier, method, analysis, (time.monotonic() - started) * 1000,
                          tables))
    return {"plans": StatementPlans(tuple(kept), explains,
                                    round((time.monotonic() - t0) * 1000, 1))}
