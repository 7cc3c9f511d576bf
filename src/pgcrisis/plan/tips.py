"""Tip rules: what in a finished node (or the whole statement) deserves advice.

Each rule is a small pure function of :class:`NodeFacts` (a node's own keys plus its
computed times) that returns a :class:`~pgcrisis.plan.model.Tip` or nothing. A tip's
``saving_ms`` is a rough estimate of what following it would save: it is the basis of
ranking, so it errs on the side of the time the tip is about, not a promise. Severity is
graded afterwards from the saving's share of the statement (see :func:`grade`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace

from pgcrisis.model.findings import Severity
from pgcrisis.plan._node import PlanNode
from pgcrisis.plan._predicate import index_advice
from pgcrisis.plan._values import text
from pgcrisis.plan.model import ForeignKey, Summary, Tip, TriggerStat

# Thresholds (module constants: the analysis has no configuration of its own).
MISESTIMATE_RATIO = 10.0          # actual vs planned rows, either way
MISESTIMATE_MIN_ROWS = 100.0      # ignore 1-vs-12 row noise
MISSING_INDEX_REMOVED_SHARE = 0.9  # the filter throws away at least this share of rows read
MISSING_INDEX_MIN_REMOVED = 1000.0
NESTED_LOOP_MIN_LOOPS = 1000.0
READ_EFFICIENCY_MIN_BLOCKS = 500.0
READ_EFFICIENCY_ROWS_PER_BLOCK = 1.0  # fewer rows examined than blocks touched: bloat
INDEX_BLOCKS_PER_ROW = 10.0
CACHE_MISS_MIN_READ = 500.0
CACHE_MISS_SHARE = 0.5
JIT_SHARE = 0.2
JIT_MIN_MS = 5.0
TRIGGER_SHARE = 0.1
TRIGGER_MIN_MS = 1.0
PLANNING_SHARE = 0.5
PLANNING_MIN_MS = 10.0
CRITICAL_SHARE = 0.5
WARNING_SHARE = 0.1

_SCANS = frozenset({"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan",
                    "Tid Scan", "Tid Range Scan"})


@dataclass(slots=True)
class NodeFacts:
    """A finished node, as the tip rules see it.

    ``floor`` is the smallest saving still worth building a tip for (the analysis keeps a
    bounded number of tips); a rule whose saving is below it returns a :class:`Folded`
    (code and saving), which is counted, so huge plans do not spend their time writing
    tips nobody will see. ``floors`` overrides it per code.
    """

    id: int
    node_type: str
    node: PlanNode
    analyzed: bool
    inclusive_ms: float
    exclusive_ms: float
    loops: float
    own_hit: float   # this node's buffers: its own minus its children's, at least 0
    own_read: float
    inner_loops: float
    inner_incl: float
    inner_id: int
    floor: float = -1.0
    floors: dict[str, float] | None = None

    def floor_for(self, code: str) -> float:
        """The floor for one tip code (members of an Append group have their own)."""
        return self.floor if self.floors is None else self.floors.get(code, self.floor)

    @property
    def relation(self) -> str | None:
        """``schema.name`` when VERBOSE gave the schema, else the bare name."""
        name = self.node.relation_name
        if name is None:
            return None
        schema = self.node.schema
        return f"{schema}.{name}" if schema else name

    @property
    def where(self) -> str:
        """How titles name the node."""
        relation = self.relation
        return f"{self.node_type} on {relation}" if relation else self.node_type


@dataclass(frozen=True, slots=True)
class Folded:
    """A tip that applies but was not written out (its saving is below the floor)."""

    code: str
    saving_ms: float


@dataclass(frozen=True, slots=True)
class PendingTip:
    """A row-misestimate tip whose saving is known only when the parent finishes."""

    tip: Tip

    def finish(self, parent_exclusive_ms: float) -> Tip:
        """The tip, with the saving set to the time of the operator above that trusted it."""
        return replace(self.tip, saving_ms=round(parent_exclusive_ms, 3))


def grade(tip: Tip, total_ms: float) -> Tip:
    """Severity from the saving's share of the statement's time."""
    share = tip.saving_ms / total_ms if total_ms > 0 else 0.0
    if share >= CRITICAL_SHARE and tip.saving_ms >= 1.0:
        severity = Severity.CRITICAL
    elif share >= WARNING_SHARE and tip.saving_ms >= 0.1:
        severity = Severity.WARNING
    else:
        severity = Severity.INFO
    return replace(tip, severity=severity)


def _tip(code: str, node: int | None, title: str, detail: str, saving: float,
         sql: tuple[str, ...] = ()) -> Tip:
    return Tip(code, Severity.INFO, node, title, detail, round(max(0.0, saving), 3), sql)


def _ms(value: float) -> str:
    return f"{value:,.1f} ms" if value < 10_000 else f"{value / 1000:,.1f} s"


def _work_mem_for(kilobytes: float) -> str:
    """The next power-of-two megabytes above ``kilobytes`` (work_mem that would fit)."""
    megabytes = max(1.0, kilobytes / 1024.0)
    return f"{2 ** math.ceil(math.log2(megabytes))}MB"


# -- per node ----------------------------------------------------------------------------


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
    tip = _tip("row-misestimate", facts.id,
               f"{facts.where}: rows {way}estimated {ratio:,.0f}x", detail, 0.0, sql)
    return PendingTip(tip)


def node_tips(facts: NodeFacts) -> list[Tip | Folded]:
    """Every node-level rule that applies to this node type, for one finished node."""
    if not facts.analyzed:
        return []
    found: list[Tip | Folded] = []
    for rule in _RULES.get(facts.node_type, ()):
        tip = rule(facts)
        if tip is not None:
            found.append(tip)
    return found


def _missing_index(facts: NodeFacts) -> Tip | Folded | None:
    if facts.node.filter is None:
        return None
    removed = (facts.node.rows_removed_by_filter or 0.0) * facts.loops
    kept = (facts.node.actual_rows or 0.0) * facts.loops
    if removed < MISSING_INDEX_MIN_REMOVED:
        return None
    share = removed / (removed + kept)
    if share < MISSING_INDEX_REMOVED_SHARE:
        return None
    if facts.exclusive_ms * share <= facts.floor_for("missing-index"):
        return Folded("missing-index", facts.exclusive_ms * share)
    condition = text(facts.node.filter) or ""
    advice = index_advice(condition, facts.node.alias)
    sql: tuple[str, ...] = ()
    relation = facts.relation
    saving = facts.exclusive_ms * share
    title = f"{facts.where}: filter removes {share:.0%} of {removed + kept:,.0f} rows"
    read = (f"the scan read {removed + kept:,.0f} rows and its filter {condition} threw away "
            f"{removed:,.0f} ({share:.1%})")
    if advice.btree:
        keys = ", ".join((f"({key})" if key in advice.expressions else key)
                         + (" text_pattern_ops" if key in advice.prefix else "")
                         for key in advice.btree)
        if relation:
            sql = (f"CREATE INDEX CONCURRENTLY ON {relation} ({keys})",)
        ranged = len(advice.btree) > len(advice.equal)
        shape = ("equality columns first, then the one range column" if ranged
                 and advice.equal else "the range column" if ranged
                 else "the equality columns" if len(advice.btree) > 1
                 else "the filtered column")
        detail = (f"{read}; a b-tree index on ({keys}), {shape}, would read only the "
                  f"{kept:,.0f} rows it keeps")
        if advice.expressions:
            detail += (f" (an expression index: the filter applies "
                       f"{', '.join(advice.expressions)}, which an index on the bare column "
                       f"cannot serve)")
    elif advice.trigram:
        columns = ", ".join(advice.trigram)
        if relation:
            sql = ("CREATE EXTENSION IF NOT EXISTS pg_trgm",
                   *(f"CREATE INDEX CONCURRENTLY ON {relation} USING gin ({column} "
                     f"gin_trgm_ops)" for column in advice.trigram))
        detail = (f"{read}; the pattern is not anchored at the start, so no b-tree can serve "
                  f"it: a trigram GIN index (pg_trgm) on {columns} can")
    else:
        return None  # columns compared with columns, or OR: no index on this table serves it
    if advice.ignored:
        detail += f"; left out: {'; '.join(advice.ignored[:3])} (no index narrows them)"
    return _tip("missing-index", facts.id, title, detail, saving, sql)


def _sort_spill(facts: NodeFacts) -> Tip | None:
    space_type = facts.node.sort_space_type
    method = facts.node.sort_method or ""
    if space_type != "Disk" and not method.startswith("external"):
        return None
    used_kb = (facts.node.sort_space_used or 0.0)
    fit = _work_mem_for(used_kb * 3)
    detail = (f"the sort ({method or 'external'}) wrote {used_kb:,.0f} kB to disk; an "
              f"in-memory sort of that data needs about three times as much: work_mem = "
              f"'{fit}' for this query would keep it in memory")
    return _tip("sort-spill", facts.id, f"{facts.where} spilled {used_kb:,.0f} kB to disk",
                detail, facts.exclusive_ms * 0.5, (f"SET work_mem = '{fit}'",))


def _hash_spill(facts: NodeFacts) -> Tip | None:
    if facts.node_type == "Hash":
        batches = (facts.node.hash_batches or 0.0)
        memory_kb = (facts.node.peak_memory_usage or 0.0)
        if batches <= 1:
            return None
        need_kb = memory_kb * batches * 1.5
        what = f"the hash table was split into {batches:,.0f} batches written to disk"
    else:
        batches = (facts.node.hashagg_batches or 0.0)
        disk_kb = (facts.node.disk_usage or 0.0)
        if batches <= 1 and disk_kb <= 0:
            return None
        need_kb = (facts.node.peak_memory_usage or 0.0) + disk_kb * 2
        what = f"the hash aggregate spilled {disk_kb:,.0f} kB in {batches:,.0f} batches"
    fit = _work_mem_for(need_kb)
    detail = (f"{what}; work_mem = '{fit}' (or hash_mem_multiplier) would let it stay in "
              f"memory")
    saving = facts.exclusive_ms * 0.5
    if facts.node_type == "Hash":
        saving = facts.inclusive_ms * 0.5
    return _tip("hash-spill", facts.id, f"{facts.where} spilled to disk in {batches:,.0f} batches",
                detail, saving, (f"SET work_mem = '{fit}'",))


def _nested_loop(facts: NodeFacts) -> Tip | None:
    if facts.inner_loops < NESTED_LOOP_MIN_LOOPS:
        return None
    detail = (f"the inner side (node {facts.inner_id}) ran {facts.inner_loops:,.0f} times, "
              f"{_ms(facts.inner_incl)} in all; a hash or merge join reads it once. Usually the "
              f"outer row count was underestimated (see row-misestimate), or the inner side "
              f"lacks an index on the join key")
    return _tip("nested-loop-explosion", facts.inner_id or facts.id,
                f"Nested Loop ran its inner side {facts.inner_loops:,.0f} times", detail,
                facts.inner_incl * 0.8)


def _lossy_bitmap(facts: NodeFacts) -> Tip | None:
    lossy = (facts.node.lossy_heap_blocks or 0.0)
    if lossy <= 0:
        return None
    exact = (facts.node.exact_heap_blocks or 0.0)
    rechecked = (facts.node.rows_removed_by_index_recheck or 0.0) * facts.loops
    share = lossy / (lossy + exact)
    detail = (f"{lossy:,.0f} of {lossy + exact:,.0f} heap blocks were lossy (the bitmap did not "
              f"fit in work_mem), so every row on them was rechecked and {rechecked:,.0f} "
              f"thrown away; raise work_mem")
    return _tip("lossy-bitmap", facts.id, f"{facts.where}: {share:.0%} of the bitmap was lossy",
                detail, facts.exclusive_ms * share * 0.5, ("SET work_mem = '64MB'",))


def _read_efficiency(facts: NodeFacts) -> Tip | Folded | None:
    blocks = facts.own_hit + facts.own_read
    if blocks < READ_EFFICIENCY_MIN_BLOCKS:
        return None
    rows = (facts.node.actual_rows or 0.0) * facts.loops
    examined = rows + ((facts.node.rows_removed_by_filter or 0.0)
                       + (facts.node.rows_removed_by_index_recheck or 0.0)) * facts.loops
    if facts.node_type == "Seq Scan":
        if examined / blocks >= READ_EFFICIENCY_ROWS_PER_BLOCK:
            return None
        if facts.exclusive_ms * 0.8 <= facts.floor_for("read-efficiency"):
            return Folded("read-efficiency", facts.exclusive_ms * 0.8)
        why = (f"{blocks:,.0f} blocks held only {examined:,.0f} live rows: the table is "
               f"bloated with dead rows. VACUUM (or VACUUM FULL / pg_repack to shrink it) and "
               f"check what holds vacuum back")
        sql: tuple[str, ...] = (f"VACUUM (VERBOSE) {facts.relation}",) if facts.relation else ()
        shown = f"{rows:,.0f} rows"
    else:
        shown = f"{rows:,.0f} rows"
        if (facts.node.actual_rows or 0.0) == 0.0 and facts.loops > 1.0:
            # EXPLAIN prints each loop's average rounded: 0 over many loops can be hundreds
            rows = facts.loops * 0.5
            shown = (f"fewer than {rows:,.0f} rows (EXPLAIN rounds the average of "
                     f"{facts.loops:,.0f} loops to 0)")
        if blocks / max(rows, 1.0) < INDEX_BLOCKS_PER_ROW:
            return None
        why = (f"{blocks:,.0f} blocks were touched for {shown} returned: the index does not "
               f"match the filter well, or table and index are bloated")
        sql = ()
    short = shown.split(" (", 1)[0]
    return _tip("read-efficiency", facts.id,
                f"{facts.where}: {blocks:,.0f} blocks for {short}", why,
                facts.exclusive_ms * 0.8, sql)


def _cache_miss(facts: NodeFacts) -> Tip | Folded | None:
    read = facts.own_read
    hit = facts.own_hit
    if read < CACHE_MISS_MIN_READ or read / (read + hit) < CACHE_MISS_SHARE:
        return None
    io_ms = (facts.node.io_read_time or 0.0) + (facts.node.shared_io_read_time or 0.0)
    saving = io_ms if io_ms > 0 else facts.exclusive_ms * 0.5
    if saving <= facts.floor_for("cache-miss"):
        return Folded("cache-miss", saving)
    timing = f", {_ms(io_ms)} waiting for reads" if io_ms > 0 else \
        " (track_io_timing is off, so the wait is not measured)"
    detail = (f"{read:,.0f} of {read + hit:,.0f} blocks ({read / (read + hit):.0%}) came from "
              f"outside shared_buffers{timing}; a cold cache, a working set larger than "
              f"shared_buffers, or a table read that a better index would avoid")
    return _tip("cache-miss", facts.id,
                f"{facts.where}: {read / (read + hit):.0%} of blocks read from disk "
                f"({read * 8 / 1024:,.1f} MB)", detail, saving)


Rule = Callable[[NodeFacts], "Tip | Folded | None"]
_SCAN_RULES: tuple[Rule, ...] = (_read_efficiency, _cache_miss)
_RULES: dict[str, tuple[Rule, ...]] = {
    "Seq Scan": (_missing_index, *_SCAN_RULES),
    **{scan: _SCAN_RULES for scan in _SCANS if scan not in ("Seq Scan", "Bitmap Heap Scan")},
    "Bitmap Heap Scan": (*_SCAN_RULES, _lossy_bitmap),
    "Sort": (_sort_spill,),
    "Incremental Sort": (_sort_spill,),
    "Hash": (_hash_spill,),
    "Aggregate": (_hash_spill,),
    "Nested Loop": (_nested_loop,),
}


# -- statement level ---------------------------------------------------------------------


def statement_tips(summary: Summary, triggers: tuple[TriggerStat, ...],
                   foreign_keys: Mapping[str, ForeignKey] | None = None) -> Iterator[Tip]:
    """JIT, planning time and triggers: rules about the statement, not a node."""
    total = summary.total_ms
    jit = summary.jit_ms or 0.0   # the leader's: the workers compiled at the same time
    if jit >= JIT_MIN_MS and total > 0 and jit / total >= JIT_SHARE:
        functions = summary.jit_functions or 0
        whose = "the leader"
        workers = ""
        if summary.jit_split == "measured":
            workers = (f"; the {summary.workers_launched:,} parallel workers compiled their "
                       f"own copies at the same time ({_ms(summary.jit_workers_ms or 0.0)} "
                       f"between them, not counted here)")
        elif summary.jit_split == "average":
            whose = "each process (on average)"
            workers = (f"; the statement's JIT line sums {_ms(summary.jit_total_ms or 0.0)} "
                       f"over the leader and {summary.workers_launched:,} workers, which "
                       f"compiled at the same time (EXPLAIN VERBOSE shows each worker's)")
        detail = (f"JIT compiled {functions:,} functions; {whose} spent {_ms(jit)} on it, "
                  f"{jit / total:.0%} of the {_ms(total)} execution{workers}. The query runs "
                  f"too briefly per row for compiled code to pay off: turn JIT off for it, or "
                  f"raise the cost thresholds so only truly long queries compile")
        yield _tip("jit-overhead", None, f"JIT took {_ms(jit)} of {_ms(total)} "
                   f"({jit / total:.0%}){' in the leader' if summary.workers_launched else ''}",
                   detail, jit, ("SET jit = off",
                                 "ALTER ROLE CURRENT_USER SET jit_above_cost = 1000000",
                                 "ALTER SYSTEM SET jit_above_cost = 1000000",
                                 "SELECT pg_reload_conf()"))
    planning = summary.planning_ms or 0.0
    if planning >= PLANNING_MIN_MS and planning >= PLANNING_SHARE * max(total, 0.001):
        detail = (f"planning took {_ms(planning)} against {_ms(total)} of execution: many "
                  f"partitions without pruning, many joins (join_collapse_limit), or huge IN "
                  f"lists. Prepared statements (plan once), partition pruning on the key, or "
                  f"fewer joined relations cut it")
        yield _tip("planning-time", None, f"planning took {_ms(planning)}, execution "
                   f"{_ms(total)}", detail, planning * 0.8)
    for trigger in triggers:
        if trigger.time_ms < TRIGGER_MIN_MS or trigger.time_ms < TRIGGER_SHARE * total:
            continue
        if trigger.constraint:
            yield _foreign_key_tip(trigger, (foreign_keys or {}).get(trigger.constraint), total)
            continue
        target = f" on {trigger.relation}" if trigger.relation else ""
        title = (f"trigger {trigger.name}{target}: {_ms(trigger.time_ms)} in "
                 f"{trigger.calls:,} calls")
        detail = (f"{trigger.calls:,} calls took {_ms(trigger.time_ms)} "
                  f"({trigger.time_ms / max(total, 0.001):.0%} of execution); make the "
                  f"trigger cheaper, a statement-level trigger, or move the work out")
        yield _tip("slow-trigger", None, title, detail, trigger.time_ms * 0.9)


#: The catalog query that writes the index a foreign key's referencing side needs.
_FK_INDEX_SQL = (
    "SELECT format('CREATE INDEX CONCURRENTLY ON %s (%s)', c.conrelid::regclass,"
    " string_agg(quote_ident(a.attname), ', ' ORDER BY k.n)) FROM pg_constraint c"
    " CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)"
    " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum"
    " WHERE c.contype = 'f' AND c.conname = '{name}' GROUP BY c.conrelid")


def _foreign_key_tip(trigger: TriggerStat, key: ForeignKey | None, total: float) -> Tip:
    """A foreign key's trigger: on the referenced side (a delete or key update there checks
    or cascades to the referencing rows) it searches the referencing table by the key's
    columns, a sequential scan per call without an index on them."""
    name = trigger.constraint or "?"
    spent = f"{_ms(trigger.time_ms)} in {trigger.calls:,} calls"
    on = f" on {trigger.relation}" if trigger.relation else ""
    saving = trigger.time_ms * 0.9
    if key is None:
        title = f"foreign key {name}{on}: {spent}"
        detail = (f"the constraint trigger {trigger.name} ran {trigger.calls:,} times for "
                  f"{_ms(trigger.time_ms)} ({trigger.time_ms / max(total, 0.001):.0%} of "
                  f"execution). A delete or key update on the referenced table searches the "
                  f"referencing table by the foreign-key columns once per row: without an "
                  f"index starting with those columns every call is a sequential scan. The "
                  f"usual fix is that index; the query below writes its CREATE INDEX "
                  f"CONCURRENTLY from the catalog (a plan does not say which columns)")
        return _tip("slow-trigger", None, title, detail, saving,
                    (_FK_INDEX_SQL.format(name=name.replace("'", "''")),))
    columns = ", ".join(key.columns)
    on_referencing = trigger.relation is not None and \
        key.referencing.rsplit(".", 1)[-1].strip('"') == trigger.relation.rsplit(".", 1)[-1]
    if on_referencing:
        title = f"foreign key {name} on {key.referencing}: {spent}"
        detail = (f"each inserted or updated row of {key.referencing} is checked against "
                  f"{key.referenced}'s key ({trigger.calls:,} checks, "
                  f"{_ms(trigger.time_ms)}); that side is always indexed. Load in bigger "
                  f"transactions, or check once: drop and re-add the constraint NOT VALID, "
                  f"then VALIDATE CONSTRAINT")
        return _tip("slow-trigger", None, title, detail, saving * 0.5)
    if key.indexed:
        title = f"foreign key {name}: {spent} in {key.referencing}"
        detail = (f"each of {trigger.calls:,} rows deleted or updated in {key.referenced} "
                  f"searched {key.referencing} ({columns}), which is indexed: the time is "
                  f"the cascade's own work (rows it changed, their triggers and indexes)")
        return _tip("slow-trigger", None, title, detail, saving * 0.3)
    statement = f"CREATE INDEX CONCURRENTLY ON {key.referencing} ({columns})"
    title = f"foreign key {name}: {key.referencing} ({columns}) has no index, {spent}"
    detail = (f"each of {trigger.calls:,} rows deleted or updated in {key.referenced} made "
              f"the constraint search {key.referencing} by ({columns}), with no index "
              f"starting with those columns: a sequential scan per row, "
              f"{_ms(trigger.time_ms)} in all. Index the referencing columns")
    return _tip("slow-trigger", None, title, detail, saving, (statement,))
