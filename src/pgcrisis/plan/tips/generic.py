"""Tips read from a plan's estimates alone: a generic plan, or any EXPLAIN without ANALYZE.

Such a plan has no actual figures, so the tips that need them do not apply: rows removed by
a filter, rows per loop and loops run (row-misestimate, explain's missing-index and
nested-loop-explosion), time and buffers (read-efficiency, cache-miss), spills and batches
(sort-spill, hash-spill, lossy-bitmap), JIT, trigger and planning times. What it shows is
the planner's own arithmetic: estimated rows, how often each part is expected to run
(:mod:`pgcrisis.plan._estimates`: estimated rows x loops) and what each part is charged. From
those, four tips, each graded on its share of the plan's cost:

* ``subplan-per-row``: a correlated SubPlan run once per row of the node that evaluates it,
  over many rows (advice: a join; an index where each run scans a table);
* ``nested-loop-explosion``: a Nested Loop whose join condition is checked against every
  row of an inner side re-read for each of many outer rows (a million pairs or more);
* ``missing-index``: a Seq Scan whose filter keeps a small share of a large table (its rows
  before the filter from the catalog: :class:`~pgcrisis.plan.model.TableStats`);
* ``row-misestimate``: only where the estimate is itself a guess: the planner's default for
  a table never analysed (recognised by its cost, as explain's tip does), or a table the
  catalog has no statistics for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from pgcrisis.model.severity import Severity
from pgcrisis.plan._estimates import EstimatedNode, EstimatedTree
from pgcrisis.plan._predicate import IndexAdvice, index_advice
from pgcrisis.plan._values import text
from pgcrisis.plan.model import Estimate, TableStats, Tip
from pgcrisis.plan.tips.estimates import MISESTIMATE_MIN_ROWS, default_estimate
from pgcrisis.plan.tips.facts import CRITICAL_SHARE, WARNING_SHARE, NodeFacts
from pgcrisis.plan.tips.operators import NESTED_LOOP_MIN_LOOPS
from pgcrisis.plan.tips.scans import MISSING_INDEX_REMOVED_SHARE
from pgcrisis.quantities import count
from pgcrisis.sqltext import ident, qualified

#: a SubPlan run fewer times than this is not worth a tip
SUBPLAN_MIN_RUNS = 1000.0
#: an inner side returning fewer rows per run than this makes no explosion of pairs...
NESTED_LOOP_MIN_INNER_ROWS = 10.0
#: ... nor fewer pairs than this in all
NESTED_LOOP_MIN_PAIRS = 1_000_000.0
#: a table with fewer rows than this is fine to scan
MISSING_INDEX_MIN_ROWS = 10_000.0
#: nodes that read through an index: an inner side or a SubPlan that has one is a lookup
_INDEXED = frozenset({"Index Scan", "Index Only Scan", "Bitmap Heap Scan", "Bitmap Index Scan"})
#: nodes that only pass their child's rows on, looked through to what the inner side reads
_PASSING = frozenset({"Materialize", "Memoize", "Result"})

TableLookup = Callable[[str | None, str], TableStats | None]


def estimate_tips(tree: EstimatedTree, tables: TableLookup | None = None) -> list[Tip]:
    """Every estimate tip of the plan, ranked: by severity, then the cost it is about."""
    found: list[Tip] = []
    for n in sorted(tree.nodes.values(), key=lambda n: n.id):
        found.extend(_subplans(tree, n, tables))
        if n.node_type == "Nested Loop":
            found.extend(_nested_loop(tree, n))
        elif n.node_type == "Seq Scan":
            found.extend(_missing_index(tree, n, tables))
            found.extend(_misestimate(tree, n, tables))
    return sorted(found, key=lambda t: (t.severity.rank, -(t.estimate.cost if t.estimate
                                                             else 0.0)))


def _tip(code: str, node: EstimatedNode, title: str, detail: str, estimate: Estimate,
         sql: tuple[str, ...] = ()) -> Tip:
    """A tip graded on its share of the plan's cost (the statement's time is not known)."""
    severity = (Severity.CRITICAL if estimate.share >= CRITICAL_SHARE
                else Severity.WARNING if estimate.share >= WARNING_SHARE else Severity.INFO)
    return Tip(code, severity, node.id, title, detail, 0.0, sql, estimate)


def _relation_sql(relation: tuple[str | None, str]) -> str:
    schema, name = relation
    return qualified(schema, name) if schema else ident(name)


def _index(n: EstimatedNode, condition: str) -> tuple[IndexAdvice, str, tuple[str, ...],
                                                      tuple[str, ...]] | None:
    """The index a scan's condition asks for: the advice, its keys as written, the
    statements, and its plain columns (for a typed action; empty for other kinds)."""
    relation = n.relation
    if relation is None:
        return None
    advice = index_advice(condition, n.node.alias)
    table = _relation_sql(relation)
    if advice.btree:
        keys = ", ".join((f"({key})" if key in advice.expressions else key)
                         + (" text_pattern_ops" if key in advice.prefix else "")
                         for key in advice.btree)
        plain = () if (set(advice.btree) & set(advice.expressions + advice.prefix)) else \
            tuple(advice.btree)
        return advice, keys, (f"CREATE INDEX CONCURRENTLY ON {table} ({keys})",), plain
    if advice.trigram:
        keys = ", ".join(f"{column} gin_trgm_ops" for column in advice.trigram)
        return advice, keys, ("CREATE EXTENSION IF NOT EXISTS pg_trgm", *(
            f"CREATE INDEX CONCURRENTLY ON {table} USING gin ({column} gin_trgm_ops)"
            for column in advice.trigram)), ()
    return None


def _subplans(tree: EstimatedTree, n: EstimatedNode,
              tables: TableLookup | None) -> Iterator[Tip]:
    """A correlated SubPlan run per row of ``n`` many times."""
    subs = tree.subplans(n)
    if not subs:
        return
    fraction = tree.fraction(n)
    runs = tree.loops[n.id] * tree.runs_per_row(n) * tree.processes[n.id] * fraction
    if runs < SUBPLAN_MIN_RUNS:
        return
    for sub in subs:
        charged = runs / tree.processes[n.id] * sub.cost  # per process, as the plan's cost
        share = tree.share(n, charged)
        below = list(tree.subtree(sub))
        condition = next((c for c in (text(b.node.index_cond) or text(b.node.filter)
                                      or text(b.node.recheck_cond) for b in below) if c), None)
        name = sub.subplan_name or "SubPlan"
        through = f" through {condition}" if condition else ""
        detail = (f"{name} ({sub.label}, cost {sub.cost:,.1f} per run) depends on the outer "
                  f"row{through}, so it runs once for "
                  f"each row {n.where} evaluates it for: about {count(runs)} runs, {share:.0%} "
                  f"of the plan's estimated cost. A join reads its table once: rewrite the "
                  f"subquery as a join (aggregate its table once, grouped by the columns it "
                  f"is correlated on, and join the result; or a LATERAL join), which the "
                  f"planner can hash or merge")
        estimate = Estimate(charged, share, runs, runs)
        sql: tuple[str, ...] = ()
        scan = next((b for b in below if _selective(tree, b, tables) is not None), None)
        indexed = next((b for b in below if b.node_type in _INDEXED), None)
        index = _index(scan, text(scan.node.filter) or "") if scan is not None else None
        if scan is not None and index is not None and scan.relation is not None:
            _, keys, sql, plain = index
            detail += (f"; meanwhile each run reads {scan.where} whole: an index on ({keys}) "
                       f"makes each run a lookup")
            estimate = Estimate(charged, share, runs, runs, scan.relation, plain)
        elif indexed is not None:
            detail += (f"; each run already reads through {indexed.label}: only fewer runs "
                       f"save their cost")
        yield _tip("subplan-per-row", sub,
                   f"{name} executed per row of a {count(runs)}-row {n.where}",
                   detail, estimate, sql)


def _reads(tree: EstimatedTree, n: EstimatedNode) -> EstimatedNode:
    """What an inner side reads, looking through the nodes that only pass rows on."""
    while n.node_type in _PASSING:
        children = tree.children.get(n.id, [])
        if len(children) != 1:
            break
        n = children[0]
    return n


def _nested_loop(tree: EstimatedTree, n: EstimatedNode) -> Iterator[Tip]:
    """A Nested Loop that compares every outer row with a whole inner side."""
    condition = text(n.node.join_filter)
    outer, inner = tree.child(n, "Outer"), tree.child(n, "Inner")
    if condition is None or outer is None or inner is None:
        return
    read = _reads(tree, inner)
    fraction = tree.fraction(n)
    runs = tree.loops[n.id] * max(outer.rows, 1.0) * tree.processes[n.id] * fraction
    if (read.node_type in _INDEXED or runs < NESTED_LOOP_MIN_LOOPS
            or inner.rows < NESTED_LOOP_MIN_INNER_ROWS):
        return
    pairs = runs * inner.rows
    if pairs < NESTED_LOOP_MIN_PAIRS:
        return
    charged = (n.exclusive_cost + inner.cost) * tree.loops[n.id] * fraction  # per process
    share = tree.share(n, charged)
    equality = " = " in condition
    detail = (f"its join condition {condition} is checked for every pair: the inner side "
              f"({read.where}, about {count(inner.rows)} rows) is read again for each of "
              f"about {count(runs)} outer rows of {outer.where}, about {count(pairs)} pairs, "
              f"{share:.0%} of the plan's estimated cost. ")
    detail += ("The condition has an equality the planner did not join on: usually the outer "
               "row count is underestimated (ANALYZE the tables), or the inner side lacks an "
               "index on the join key; a hash or merge join reads each side once"
               if equality else
               "No hash or merge join can use a condition without an equality: narrow the "
               "outer side first, join on an equality where the data allows one, or give the "
               "inner side an index its condition can use so each outer row reads only its "
               "matches")
    yield _tip("nested-loop-explosion", n,
               f"Nested Loop checks each of {count(runs)} rows of {outer.where} against "
               f"{count(inner.rows)} rows of {read.where}", detail,
               Estimate(charged, share, runs, pairs))


def _selective(tree: EstimatedTree, n: EstimatedNode,
               tables: TableLookup | None) -> TableStats | None:
    """The catalog's figures of the table a Seq Scan reads, when its filter keeps a small
    share of a large one (else None)."""
    if n.node_type != "Seq Scan" or n.node.filter is None or n.relation is None \
            or tables is None:
        return None
    stats = tables(*n.relation)
    if stats is None or stats.rows is None or stats.rows < MISSING_INDEX_MIN_ROWS:
        return None
    kept = tree.rows_of_all(n)
    return stats if kept / stats.rows <= 1.0 - MISSING_INDEX_REMOVED_SHARE else None


def _missing_index(tree: EstimatedTree, n: EstimatedNode,
                   tables: TableLookup | None) -> Iterator[Tip]:
    """A Seq Scan whose filter keeps a small share of a large table."""
    stats = _selective(tree, n, tables)
    condition = text(n.node.filter)
    relation = n.relation
    if stats is None or stats.rows is None or condition is None or relation is None:
        return
    kept = tree.rows_of_all(n)
    index = _index(n, condition)
    if index is None:
        return  # columns compared with columns, or OR: no index on this table serves it
    advice, keys, sql, plain = index
    fraction = tree.fraction(n)
    runs = tree.scans(n) * fraction
    charged = n.exclusive_cost * tree.loops[n.id] * fraction  # per process, as the plan's cost
    share = tree.share(n, charged)
    repeated = f", {count(runs)} times" if runs > 1.0 else ""
    reads = (f"all {count(stats.rows)} rows" if fraction > 0.99 else
             f"{fraction:.0%} of the {count(stats.rows)} rows (it stops early)")
    detail = (f"the planner expects the scan to read {reads} of "
              f"{_relation_sql(relation)}{repeated} and keep about {count(kept)} "
              f"({kept / stats.rows:.2%}) by {condition}, {share:.0%} of the plan's estimated "
              f"cost; " + (f"a b-tree index on ({keys}) would read only those rows"
                           if advice.btree else
                           f"the pattern is not anchored at the start, so no b-tree serves it: "
                           f"a trigram GIN index (pg_trgm) on {', '.join(advice.trigram)} can"))
    if advice.ignored:
        detail += f"; left out: {'; '.join(advice.ignored[:3])} (no index narrows them)"
    yield _tip("missing-index", n,
               f"{n.where}: its filter keeps about {count(kept)} of {count(stats.rows)} "
               f"rows{repeated}", detail,
               Estimate(charged, share, runs, stats.rows * runs, relation, plain), sql)


def _misestimate(tree: EstimatedTree, n: EstimatedNode,
                 tables: TableLookup | None) -> Iterator[Tip]:
    """A scan whose estimate is a guess: the planner's default for a table never analysed,
    or a table without statistics."""
    relation = n.relation
    if relation is None:
        return
    facts = NodeFacts(n.id, n.node_type, n.node, False, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0)
    stats = tables(*relation) if tables is not None else None
    # a table the catalog has counted (VACUUM or ANALYZE) is no default guess
    default = (stats is None or stats.rows is None) and default_estimate(facts)
    rows = tree.rows_of_all(n)
    if not default and (stats is None or stats.rows is not None
                        or rows * tree.loops[n.id] < MISESTIMATE_MIN_ROWS):
        return
    parent = tree.parent(n)
    above = parent if parent is not None else n
    charged = (above.exclusive_cost * tree.loops[above.id] + n.cost * tree.loops[n.id]) \
        * tree.fraction(above)
    share = tree.share(n, charged)
    table = _relation_sql(relation)
    why = (f"about {count(rows)} rows is the planner's default guess for a table never "
           f"analysed (10 pages of rows)" if default else
           f"{table} has no statistics (never analysed): its rows are guessed from its size "
           f"and its conditions' selectivities are fixed defaults")
    yield _tip("row-misestimate", n, f"{n.where}: its estimate is a guess, the table was "
               f"never analysed", f"{why}, and every operator above chose its strategy on "
               f"that count ({share:.0%} of the plan's estimated cost). ANALYZE it "
               f"(autovacuum analyses a table only after enough rows change; a table filled "
               f"and queried at once is not analysed in time)",
               Estimate(charged, share, tree.scans(n), rows * tree.loops[n.id],
                        analyze=(relation,)), (f"ANALYZE {table}",))
