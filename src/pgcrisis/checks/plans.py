"""bad-plan: a statement that carries the load has a plan shape that costs most of its plan.

The ``plans`` part holds the generic plans of the statements that carry the load (the load
window's, else since pg_stat_statements' reset) and the tips their estimates support
(:mod:`pgcrisis.plan.tips.generic`): a correlated SubPlan run per row of a large scan, a
Nested Loop checking every pair of two large sides, a Seq Scan filtering a large table down
to a few rows, a plan built on the planner's guess for a table never analysed. A statement
gets one finding, for its worst tip that costs at least ``bad_plan_min_share`` of its plan,
when it takes ``bad_plan_min_load_share`` of the time and ``bad_plan_min_ms`` in all;
critical from ``bad_plan_critical_share`` of the time.

One finding per problem: where ``missing-index`` names the same statement and table (it
verified the index with hypopg, and says so), it wins and the plan's tip about that scan is
left out; a bad plan of another shape in a statement ``missing-index`` names is linked to it
as its consequence (``checks/causes.py``), and ``slow-query`` of the statement to the bad
plan.

It needs the ``plans`` part only: that part is read after the statements, and is unavailable
(with pg_stat_statements' reason) where they are.
"""

from __future__ import annotations

from collections.abc import Iterable

from pgcrisis import shorten
from pgcrisis.actions import Action, Analyze
from pgcrisis.checks.indexes import create_index, missing_index
from pgcrisis.checks.registry import check
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.model.evidence import MissingIndexEvidence, of
from pgcrisis.model.findings import Finding, ObjectRef, Remedy, Severity
from pgcrisis.model.plans import PlanTip, StatementPlan
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.model.statements import Statement
from pgcrisis.quantities import figure

#: what to do about each shape, before the actions
_ADVICE = {
    "subplan-per-row": "Rewrite the correlated subquery as a join (aggregate its table once, "
                       "grouped by the columns it is correlated on, and join the result; or a "
                       "LATERAL join), so its table is read once, not once per row",
    "nested-loop-explosion": "Let the join read each side once: join on an equality where the "
                             "data allows one (a hash or merge join), narrow the outer side "
                             "first, or index the inner side for its condition",
    "missing-index": "Create the index its filter asks for, without blocking writes "
                     "(CONCURRENTLY cannot run inside a transaction block)",
    "row-misestimate": "ANALYZE the tables its plan guessed at, so the planner plans on "
                       "counts instead of defaults",
}


def _covered(snapshot: Snapshot, t: Thresholds) -> set[tuple[int, str]]:
    """(queryid, table) of every missing-index finding: those win over a plan's own tip."""
    out: set[tuple[int, str]] = set()
    for f in missing_index(snapshot, t):
        ev = of(f.evidence, MissingIndexEvidence)
        if ev is not None:
            out.update((queryid, ev.table) for queryid in (ev.queryid, *ev.also_queryids))
    return out


def _worst(snapshot: Snapshot, plan: StatementPlan, t: Thresholds,
           covered: set[tuple[int, str]]) -> PlanTip | None:
    """The worst tip that costs enough of the plan; a missing index only on a table
    missing-index would judge large enough (``missing_index_min_pages``), and that no
    missing-index finding names."""
    for tip in plan.tips:
        if tip.share < t.bad_plan_min_share:
            continue
        if tip.code == "missing-index":
            table = snapshot.relations.table(tip.table_oid) if tip.table_oid else None
            if table is None or table.relpages < t.missing_index_min_pages \
                    or (plan.queryid, table.name) in covered:
                continue
        return tip
    return None


def _actions(snapshot: Snapshot, tip: PlanTip) -> tuple[tuple[Action, ...], str]:
    """The tip's statements as typed actions, and what the words add where there are none."""
    relations = snapshot.relations
    table = relations.table(tip.table_oid) if tip.table_oid is not None else None
    actions: list[Action] = []
    words = ""
    if table is not None and tip.index_columns:
        existing = relations.usable_index(table.oid, tip.index_columns)
        if existing is None:
            actions.append(create_index(relations, table, tip.index_columns))
            if tip.code != "missing-index":
                words = (f"; where it must stay as it is, the index on {table.name} "
                         f"({', '.join(tip.index_columns)}) makes each run a lookup")
        else:
            words = (f"; {existing.name} already serves ({', '.join(tip.index_columns)}) but the "
                     f"generic plan does not use it: compare with a custom plan "
                     f"(pgcrisis explain --query with typical values)")
    elif tip.sql and tip.code in ("missing-index", "subplan-per-row"):
        words = "; the index it asks for: " + "; ".join(tip.sql)
    actions.extend(Analyze(name) for name in tip.analyze)
    return tuple(actions), words


def _finding(snapshot: Snapshot, t: Thresholds, plan: StatementPlan, st: Statement,
             tip: PlanTip) -> Finding:
    name = shorten.query(st.query, 60)
    others = [other for other in plan.tips if other is not tip][:3]
    actions, words = _actions(snapshot, tip)
    objects = [ObjectRef("query", queryid=st.queryid, name=name)]
    if tip.table is not None:
        objects.append(ObjectRef("relation", name=tip.table))
    return Finding(
        code="bad-plan",
        severity=(Severity.CRITICAL if plan.share >= t.bad_plan_critical_share
                  else Severity.WARNING),
        title=(f"{st.label}: {tip.title}, {tip.share:.0%} of its plan's cost; it takes "
               f"{plan.share:.0%} of the statement time"),
        detail=(f"{name} takes {plan.share:.0%} of the statement time (by {plan.measured_by}): "
                f"{figure(st.calls, 'calls', singular=True)}, {st.mean_exec_ms:,.1f} ms on "
                f"average. Its generic plan ({plan.method}; nothing executed: the rows and "
                f"costs are the planner's estimates) costs {plan.total_cost:,.0f}: "
                f"{tip.detail}."
                + (" Its plan also shows: " + "; ".join(
                    f"{o.title} ({o.share:.0%} of the cost)" for o in others) + "."
                   if others else "")),
        objects=tuple(objects),
        evidence={"queryid": st.queryid, "share": plan.share, "measured_by": plan.measured_by,
                  "calls": st.calls, "total_ms": round(st.total_exec_ms, 1),
                  "mean_ms": round(st.mean_exec_ms, 2), "plan": plan.method,
                  "plan_cost": plan.total_cost, "plan_rows": plan.rows, "shape": tip.code,
                  "node": tip.node, "shape_cost": tip.cost, "shape_share": tip.share,
                  "runs": tip.runs, "rows": tip.rows,
                  **({"table": tip.table} if tip.table is not None else {}),
                  "other_shapes": [o.title for o in others]},
        remedy=Remedy(_ADVICE.get(tip.code, "Read its plan with pgcrisis explain") + words + ".",
                      actions),
        impact=st.total_exec_ms * tip.share / 1000,
    )


@check("bad-plan", needs=("plans",))
def bad_plan(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """A statement carrying the load whose generic plan spends most of its cost in one shape."""
    covered: set[tuple[int, str]] | None = None
    for plan in snapshot.plans.plans:
        st = snapshot.statements.by_queryid(plan.queryid)
        if (st is None or not plan.tips or plan.share < t.bad_plan_min_load_share
                or st.total_exec_ms < t.bad_plan_min_ms):
            continue
        if covered is None:
            covered = _covered(snapshot, t)
        tip = _worst(snapshot, plan, t, covered)
        if tip is not None:
            yield _finding(snapshot, t, plan, st, tip)
