"""Tips about operators short of work_mem: sort-spill and hash-spill (written to disk),
lossy-bitmap (a bitmap that lost its row positions); and nested-loop-explosion (an inner
side run thousands of times), each with the setting or change that avoids it."""

from __future__ import annotations

from pgcrisis import sizes
from pgcrisis.durations import ms
from pgcrisis.plan.model import Tip
from pgcrisis.plan.tips.facts import NodeFacts, make_tip

NESTED_LOOP_MIN_LOOPS = 1000.0


def sort_spill(facts: NodeFacts) -> Tip | None:
    """A sort written to disk: the work_mem that keeps it in memory."""
    space_type = facts.node.sort_space_type
    method = facts.node.sort_method or ""
    if space_type != "Disk" and not method.startswith("external"):
        return None
    used_kb = (facts.node.sort_space_used or 0.0)
    fit = sizes.setting_above(used_kb * 3 * 1024)
    detail = (f"the sort ({method or 'external'}) wrote {used_kb:,.0f} kB to disk; an "
              f"in-memory sort of that data needs about three times as much: work_mem = "
              f"'{fit}' for this query would keep it in memory")
    return make_tip("sort-spill", facts.id,
                    f"{facts.where} spilled {used_kb:,.0f} kB to disk", detail,
                    facts.exclusive_ms * 0.5, (f"SET work_mem = '{fit}'",))


def hash_spill(facts: NodeFacts) -> Tip | None:
    """A hash table or hash aggregate split into batches on disk."""
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
    fit = sizes.setting_above(need_kb * 1024)
    detail = (f"{what}; work_mem = '{fit}' (or hash_mem_multiplier) would let it stay in "
              f"memory")
    saving = facts.exclusive_ms * 0.5
    if facts.node_type == "Hash":
        saving = facts.inclusive_ms * 0.5
    return make_tip("hash-spill", facts.id,
                    f"{facts.where} spilled to disk in {batches:,.0f} batches", detail, saving,
                    (f"SET work_mem = '{fit}'",))


def nested_loop(facts: NodeFacts) -> Tip | None:
    """A nested loop whose inner side ran so often that a hash or merge join would win."""
    if facts.inner_loops < NESTED_LOOP_MIN_LOOPS:
        return None
    detail = (f"the inner side (node {facts.inner_id}) ran {facts.inner_loops:,.0f} times, "
              f"{ms(facts.inner_incl)} in all; a hash or merge join reads it once. Usually "
              f"the outer row count was underestimated (see row-misestimate), or the inner side "
              f"lacks an index on the join key")
    return make_tip("nested-loop-explosion", facts.inner_id or facts.id,
                    f"Nested Loop ran its inner side {facts.inner_loops:,.0f} times", detail,
                    facts.inner_incl * 0.8)


def lossy_bitmap(facts: NodeFacts) -> Tip | None:
    """A bitmap too big for work_mem, so whole pages were rechecked row by row."""
    lossy = (facts.node.lossy_heap_blocks or 0.0)
    if lossy <= 0:
        return None
    exact = (facts.node.exact_heap_blocks or 0.0)
    rechecked = (facts.node.rows_removed_by_index_recheck or 0.0) * facts.loops
    share = lossy / (lossy + exact)
    detail = (f"{lossy:,.0f} of {lossy + exact:,.0f} heap blocks were lossy (the bitmap did not "
              f"fit in work_mem), so every row on them was rechecked and {rechecked:,.0f} "
              f"thrown away; raise work_mem")
    return make_tip("lossy-bitmap", facts.id,
                    f"{facts.where}: {share:.0%} of the bitmap was lossy", detail,
                    facts.exclusive_ms * share * 0.5, ("SET work_mem = '64MB'",))
