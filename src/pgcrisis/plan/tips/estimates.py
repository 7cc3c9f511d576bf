"""row-misestimate: where the planner's row count goes wrong, and why.

A misestimate is reported at the node where it starts (no child misestimated itself), with
its likely cause: a table never analysed (the planner's default guess, recognised by its
cost), a function of a column (expression statistics), correlated columns (extended
statistics). Its saving is the time of the operator above that trusted the count, known
only when that parent finishes (:class:`~.facts.PendingTip`).
"""

from __future__ import annotations

from pgcrisis.plan._predicate import index_advice
from pgcrisis.plan._values import text
from pgcrisis.plan.tips.facts import NodeFacts, PendingTip, make_tip

MISESTIMATE_RATIO = 10.0          # actual vs planned rows, either way
MISESTIMATE_MIN_ROWS = 100.0      # ignore 1-vs-12 row noise


#: Nodes whose row count says nothing about an estimate: a bitmap's AND / OR passes a
#: bitmap up, not rows (EXPLAIN prints 0); a ModifyTable returns rows only with RETURNING.
_NO_ROWS = frozenset({"BitmapAnd", "BitmapOr"})


def misestimated(facts: NodeFacts, stopped_early: bool = False) -> bool:
    """Whether actual rows differ from the estimate by the misestimate ratio or more.

    Below a Limit (or the inner side of a join that can stop early) a node is not run to
    completion, so fewer rows than planned is expected there and is not a misestimate,
    unless the estimate is PostgreSQL's default for a table never analysed: that one is
    wrong whatever happens above it.
    """
    if not facts.analyzed or facts.loops == 0 or facts.node_type in _NO_ROWS:
        return False
    planned = (facts.node.plan_rows or 0.0)
    actual = (facts.node.actual_rows or 0.0)
    if facts.node_type == "ModifyTable" and actual == 0.0:
        return False  # no RETURNING: the rows modified are not counted here
    if stopped_early and actual < planned and not default_estimate(facts):
        return False
    high, low = (planned, actual) if planned > actual else (actual, planned)
    if high * (facts.loops if facts.loops > 1.0 else 1.0) < MISESTIMATE_MIN_ROWS:
        return False
    return high / (low if low > 1.0 else 1.0) >= MISESTIMATE_RATIO


#: Selectivities the planner assumes without statistics: none, equality (1/200), an
#: inequality (1/3), and two or three of them ANDed.
_DEFAULT_SELECTIVITIES = (1.0, 0.005, 1 / 3, 0.005 ** 2, 0.005 / 3, 1 / 9, 0.005 ** 3)
_DEFAULT_DENSITIES = frozenset(8168 // (width + 28) for width in range(1, 8141))


def default_estimate(facts: NodeFacts) -> bool:
    """Whether a Seq Scan's estimate is the planner's guess for a table never analysed.

    A table that was never vacuumed or analysed, and is under 10 pages, is assumed to have
    10 pages full of rows of its width (2,550 rows of one int), at default costs:
    ``cost = 10 + rows x (cpu_tuple_cost + k x cpu_operator_cost)`` for ``k`` operators in
    the filter, and the estimate is those rows times default selectivities.
    """
    if facts.node_type != "Seq Scan" or facts.relation is None:
        return False
    cost = (facts.node.total_cost or 0.0)
    planned = (facts.node.plan_rows or 0.0)
    for operators in range(5):
        tuples = (cost - 10.0) / (0.01 + 0.0025 * operators)
        whole = round(tuples)
        if whole <= 0 or whole % 10 or abs(tuples - whole) > 0.6 \
                or whole // 10 not in _DEFAULT_DENSITIES:
            continue
        if any(max(1.0, float(round(whole * sel))) == planned for sel in _DEFAULT_SELECTIVITIES):
            return True
    return False


def _cause(facts: NodeFacts, way: str, condition: str | None) -> tuple[str, tuple[str, ...]]:
    """The likely cause of a misestimate at its source, and the statements that fix it."""
    relation = facts.relation
    planned = (facts.node.plan_rows or 0.0)
    if relation and default_estimate(facts):
        return (f"{relation} has never been analysed: {planned:,.0f} rows is the planner's "
                f"default guess for a table without statistics (10 pages of rows), and every "
                f"estimate above is built on it. ANALYZE it (autovacuum analyses a table only "
                f"after enough rows change; a table filled and queried at once is never "
                f"analysed in time)", (f"ANALYZE {relation}",))
    advice = index_advice(condition, facts.node.alias) if condition else None
    if relation and advice is not None and advice.expressions:
        expressions = ", ".join(f"({e})" for e in advice.expressions)
        return (f"the condition applies {', '.join(advice.expressions)} to a column: the "
                f"planner has no statistics on that expression and assumes a fixed "
                f"selectivity. Statistics on the expression (PostgreSQL 14+), or an index on "
                f"it, then ANALYZE, give it real ones",
                (f"CREATE STATISTICS ON {expressions} FROM {relation}",
                 f"ANALYZE {relation}"))
    equal = [c for c in (advice.equal if advice is not None else []) if "(" not in c]
    if relation and way == "under" and len(equal) >= 2:
        table = relation.rsplit(".", 1)[-1].strip('"')
        name = f"{table}_{'_'.join(equal[:3])}_stats"
        return (f"the condition combines {', '.join(equal)} of {relation}: the planner "
                f"multiplies their selectivities as if they were independent, so correlated "
                f"columns are underestimated. Extended statistics record how they go "
                f"together", (f"CREATE STATISTICS {name} (dependencies, mcv) ON "
                              f"{', '.join(equal[:3])} FROM {relation}", f"ANALYZE {relation}"))
    return ("Run ANALYZE on the tables involved; for correlated columns CREATE STATISTICS "
            "(dependencies, ndistinct, mcv); raise the column's statistics target", ())


def row_misestimate(facts: NodeFacts) -> PendingTip | None:
    """The node where a row misestimate starts (no child is misestimated itself)."""
    planned = (facts.node.plan_rows or 0.0)
    actual = (facts.node.actual_rows or 0.0)
    ratio = max(planned, actual) / max(min(planned, actual), 1.0)
    way = "under" if actual > planned else "over"
    node = facts.node
    condition = text(node.filter) or text(node.index_cond) or text(node.hash_cond) \
        or text(node.join_filter) or text(node.merge_cond)
    detail = (f"planned {planned:,.0f} rows per loop, got {actual:,.0f}: a {ratio:,.0f}x "
              f"{way}estimate that starts here")
    if condition:
        detail += f" (condition {condition})"
    cause, sql = _cause(facts, way, text(facts.node.filter) or text(facts.node.index_cond))
    detail += f"; the operators above chose their strategy on the wrong count. {cause}."
    tip = make_tip("row-misestimate", facts.id,
                   f"{facts.where}: rows {way}estimated {ratio:,.0f}x", detail, 0.0, sql)
    return PendingTip(tip)
