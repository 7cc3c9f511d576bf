"""Tips about reading a table: missing-index (a filter throwing most rows away),
read-efficiency (many blocks for few rows: bloat or a poor index), cache-miss (blocks read
from outside shared_buffers)."""

from __future__ import annotations

from pgcrisis import sizes
from pgcrisis.durations import ms
from pgcrisis.plan._predicate import index_advice
from pgcrisis.plan._values import text
from pgcrisis.plan.model import Tip
from pgcrisis.plan.tips.facts import Folded, NodeFacts, make_tip

MISSING_INDEX_REMOVED_SHARE = 0.9  # the filter throws away at least this share of rows read
MISSING_INDEX_MIN_REMOVED = 1000.0
READ_EFFICIENCY_MIN_BLOCKS = 500.0
READ_EFFICIENCY_ROWS_PER_BLOCK = 1.0  # fewer rows examined than blocks touched: bloat
INDEX_BLOCKS_PER_ROW = 10.0
CACHE_MISS_MIN_READ = 500.0
CACHE_MISS_SHARE = 0.5


def missing_index(facts: NodeFacts) -> Tip | Folded | None:
    """A filter that throws most of the rows read away: the index its predicate's shape
    asks for (b-tree columns in order, or a trigram index for an unanchored pattern)."""
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
    return make_tip("missing-index", facts.id, title, detail, saving, sql)


def read_efficiency(facts: NodeFacts) -> Tip | Folded | None:
    """Many blocks touched for few rows: a bloated table, or an index that fits badly."""
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
    return make_tip("read-efficiency", facts.id,
                    f"{facts.where}: {blocks:,.0f} blocks for {short}", why,
                    facts.exclusive_ms * 0.8, sql)


def cache_miss(facts: NodeFacts) -> Tip | Folded | None:
    """Most of a node's blocks read from outside shared_buffers."""
    read = facts.own_read
    hit = facts.own_hit
    if read < CACHE_MISS_MIN_READ or read / (read + hit) < CACHE_MISS_SHARE:
        return None
    io_ms = (facts.node.io_read_time or 0.0) + (facts.node.shared_io_read_time or 0.0)
    saving = io_ms if io_ms > 0 else facts.exclusive_ms * 0.5
    if saving <= facts.floor_for("cache-miss"):
        return Folded("cache-miss", saving)
    timing = f", {ms(io_ms)} waiting for reads" if io_ms > 0 else \
        " (track_io_timing is off, so the wait is not measured)"
    detail = (f"{read:,.0f} of {read + hit:,.0f} blocks ({read / (read + hit):.0%}) came from "
              f"outside shared_buffers{timing}; a cold cache, a working set larger than "
              f"shared_buffers, or a table read that a better index would avoid")
    return make_tip("cache-miss", facts.id,
                    f"{facts.where}: {read / (read + hit):.0%} of blocks read from disk "
                    f"({sizes.megabytes(read * 8192)})", detail, saving)
