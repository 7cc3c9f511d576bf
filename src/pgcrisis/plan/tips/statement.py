"""Tips about the statement as a whole, not a node: jit-overhead (judged on the leader's
compilation), planning-time, and slow-trigger (a slow foreign-key trigger names the index
its referencing side lacks)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from pgcrisis import sqltext
from pgcrisis.durations import ms
from pgcrisis.plan.model import ForeignKey, Summary, Tip, TriggerStat
from pgcrisis.plan.tips.facts import make_tip

JIT_SHARE = 0.2
JIT_MIN_MS = 5.0
TRIGGER_SHARE = 0.1
TRIGGER_MIN_MS = 1.0
PLANNING_SHARE = 0.5
PLANNING_MIN_MS = 10.0


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
                       f"own copies at the same time ({ms(summary.jit_workers_ms or 0.0)} "
                       f"between them, not counted here)")
        elif summary.jit_split == "average":
            whose = "each process (on average)"
            workers = (f"; the statement's JIT line sums {ms(summary.jit_total_ms or 0.0)} "
                       f"over the leader and {summary.workers_launched:,} workers, which "
                       f"compiled at the same time (EXPLAIN VERBOSE shows each worker's)")
        detail = (f"JIT compiled {functions:,} functions; {whose} spent {ms(jit)} on it, "
                  f"{jit / total:.0%} of the {ms(total)} execution{workers}. The query runs "
                  f"too briefly per row for compiled code to pay off: turn JIT off for it, or "
                  f"raise the cost thresholds so only truly long queries compile")
        leader = " in the leader" if summary.workers_launched else ""
        yield make_tip("jit-overhead", None, f"JIT took {ms(jit)} of {ms(total)} "
                       f"({jit / total:.0%}){leader}",
                       detail, jit, ("SET jit = off",
                                     "ALTER ROLE CURRENT_USER SET jit_above_cost = 1000000",
                                     "ALTER SYSTEM SET jit_above_cost = 1000000",
                                     "SELECT pg_reload_conf()"))
    planning = summary.planning_ms or 0.0
    if planning >= PLANNING_MIN_MS and planning >= PLANNING_SHARE * max(total, 0.001):
        detail = (f"planning took {ms(planning)} against {ms(total)} of execution: many "
                  f"partitions without pruning, many joins (join_collapse_limit), or huge IN "
                  f"lists. Prepared statements (plan once), partition pruning on the key, or "
                  f"fewer joined relations cut it")
        yield make_tip("planning-time", None, f"planning took {ms(planning)}, execution "
                       f"{ms(total)}", detail, planning * 0.8)
    for trigger in triggers:
        if trigger.time_ms < TRIGGER_MIN_MS or trigger.time_ms < TRIGGER_SHARE * total:
            continue
        if trigger.constraint:
            yield _foreign_key_tip(trigger, (foreign_keys or {}).get(trigger.constraint), total)
            continue
        target = f" on {trigger.relation}" if trigger.relation else ""
        title = (f"trigger {trigger.name}{target}: {ms(trigger.time_ms)} in "
                 f"{trigger.calls:,} calls")
        detail = (f"{trigger.calls:,} calls took {ms(trigger.time_ms)} "
                  f"({trigger.time_ms / max(total, 0.001):.0%} of execution); make the "
                  f"trigger cheaper, a statement-level trigger, or move the work out")
        yield make_tip("slow-trigger", None, title, detail, trigger.time_ms * 0.9)


#: The catalog query that writes the index a foreign key's referencing side needs.
_FK_INDEX_SQL = (
    "SELECT format('CREATE INDEX CONCURRENTLY ON %s (%s)', c.conrelid::regclass,"
    " string_agg(quote_ident(a.attname), ', ' ORDER BY k.n)) FROM pg_constraint c"
    " CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)"
    " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum"
    " WHERE c.contype = 'f' AND c.conname = {name} GROUP BY c.conrelid")


def _foreign_key_tip(trigger: TriggerStat, key: ForeignKey | None, total: float) -> Tip:
    """A foreign key's trigger: on the referenced side (a delete or key update there checks
    or cascades to the referencing rows) it searches the referencing table by the key's
    columns, a sequential scan per call without an index on them."""
    name = trigger.constraint or "?"
    spent = f"{ms(trigger.time_ms)} in {trigger.calls:,} calls"
    on = f" on {trigger.relation}" if trigger.relation else ""
    saving = trigger.time_ms * 0.9
    if key is None:
        title = f"foreign key {name}{on}: {spent}"
        detail = (f"the constraint trigger {trigger.name} ran {trigger.calls:,} times for "
                  f"{ms(trigger.time_ms)} ({trigger.time_ms / max(total, 0.001):.0%} of "
                  f"execution). A delete or key update on the referenced table searches the "
                  f"referencing table by the foreign-key columns once per row: without an "
                  f"index starting with those columns every call is a sequential scan. The "
                  f"usual fix is that index; the query below writes its CREATE INDEX "
                  f"CONCURRENTLY from the catalog (a plan does not say which columns)")
        return make_tip("slow-trigger", None, title, detail, saving,
                        (_FK_INDEX_SQL.format(name=sqltext.literal(name)),))
    columns = ", ".join(key.columns)
    on_referencing = trigger.relation is not None and \
        key.referencing.rsplit(".", 1)[-1].strip('"') == trigger.relation.rsplit(".", 1)[-1]
    if on_referencing:
        title = f"foreign key {name} on {key.referencing}: {spent}"
        detail = (f"each inserted or updated row of {key.referencing} is checked against "
                  f"{key.referenced}'s key ({trigger.calls:,} checks, "
                  f"{ms(trigger.time_ms)}); that side is always indexed. Load in bigger "
                  f"transactions, or check once: drop and re-add the constraint NOT VALID, "
                  f"then VALIDATE CONSTRAINT")
        return make_tip("slow-trigger", None, title, detail, saving * 0.5)
    if key.indexed:
        title = f"foreign key {name}: {spent} in {key.referencing}"
        detail = (f"each of {trigger.calls:,} rows deleted or updated in {key.referenced} "
                  f"searched {key.referencing} ({columns}), which is indexed: the time is "
                  f"the cascade's own work (rows it changed, their triggers and indexes)")
        return make_tip("slow-trigger", None, title, detail, saving * 0.3)
    statement = f"CREATE INDEX CONCURRENTLY ON {key.referencing} ({columns})"
    title = f"foreign key {name}: {key.referencing} ({columns}) has no index, {spent}"
    detail = (f"each of {trigger.calls:,} rows deleted or updated in {key.referenced} made "
              f"the constraint search {key.referencing} by ({columns}), with no index "
              f"starting with those columns: a sequential scan per row, "
              f"{ms(trigger.time_ms)} in all. Index the referencing columns")
    return make_tip("slow-trigger", None, title, detail, saving, (statement,))
