"""Vacuum and statistics checks: table-bloat and stale-statistics.

table-bloat
    Dead rows against live ones (``pg_stat_all_tables``). When they pile up the check says
    why vacuum is not removing them: autovacuum off (server-wide or for the table), the xmin
    horizon held back by something older than the table's last vacuum (that vacuum ran and
    could not remove them: the holder is named, and is the finding's cause), every autovacuum
    worker busy, or autovacuum's trigger (threshold + scale factor x rows) not reached yet.
stale-statistics
    Rows changed since the last ANALYZE relative to the table's size, not the time since it:
    a table that changed by half plans with numbers that are half wrong, however recent the
    last ANALYZE. A table never analyzed counts as changed entirely, unless the planner has no
    statistics for it at all (never measured either): that one is missing-statistics'
    (:mod:`pgcrisis.checks.statistics`). Where autovacuum is on for the table, it gets one
    ``autovacuum_naptime`` after the last ANALYZE to catch up: counts of a load made just
    before that ANALYZE can still be arriving (statistics are flushed up to a second late),
    and autovacuum analyzes such a table on its next round.
"""

from __future__ import annotations

from collections.abc import Iterable

from pgcrisis import durations
from pgcrisis.actions import (
    Action,
    Analyze,
    DropSlot,
    RollbackPrepared,
    TableOption,
    Terminate,
    Vacuum,
)
from pgcrisis.checks.horizon import Holder, holders, user_tables
from pgcrisis.checks.registry import check
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.model.evidence import StaleStatisticsEvidence
from pgcrisis.model.findings import Finding, ObjectRef, Remedy, Severity
from pgcrisis.model.health import TableHealth
from pgcrisis.model.snapshot import Snapshot


def _holder_for(snapshot: Snapshot, table: TableHealth) -> Holder | None:
    """The oldest horizon holder that was already there at the table's last vacuum."""
    if table.vacuum_age_s is None:
        return None
    for h in holders(snapshot):
        if not h.holds_back(snapshot.server.database):
            continue
        if h.age_s is None or h.age_s > table.vacuum_age_s:  # a slot: held since it exists
            return h
    return None


def _remedy_for(holder: Holder) -> tuple[Action, ...]:
    if holder.obj.kind == "backend" and holder.obj.pid is not None:
        return (Terminate.of([holder.obj.pid]),)
    if holder.obj.kind == "prepared-xact":
        return (RollbackPrepared(holder.obj.name or "", database=holder.database),)
    return (DropSlot(holder.obj.name or ""),)


@check("table-bloat", needs=("table_health", "activity", "prepared", "server_health"))
def table_bloat(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """Dead rows piling up in a table, and what keeps vacuum from removing them."""
    health = snapshot.server_health
    autovacuum_on = health.settings.get("autovacuum", "on") == "on"
    workers = sum(b.sessions for b in snapshot.all_sessions()
                  if b.backend_type == "autovacuum worker")
    max_workers = health.setting_int("autovacuum_max_workers", 3)
    scale = health.setting_float("autovacuum_vacuum_scale_factor", 0.2)
    base = health.setting_int("autovacuum_vacuum_threshold", 50)
    for table in user_tables(snapshot):
        dead, live = table.n_dead_tup, table.n_live_tup
        share = dead / (dead + live) if dead + live else 0.0
        if dead < t.bloat_min_dead_rows or share < t.bloat_dead_share:
            continue
        holder = _holder_for(snapshot, table)
        trigger = base + scale * max(table.reltuples, 0.0)
        last = (f"last vacuumed {durations.words(table.vacuum_age_s)} ago"
                if table.vacuum_age_s is not None else "never vacuumed")
        extra: tuple[ObjectRef, ...] = ()
        first: tuple[Action, ...] = ()
        if not autovacuum_on or table.autovacuum_disabled:
            why = ("autovacuum is off for the whole server" if not autovacuum_on
                   else "autovacuum is disabled for this table (autovacuum_enabled = false)")
            held_back = "autovacuum disabled"
            if table.autovacuum_disabled:
                first = (TableOption(table.name, "autovacuum_enabled"),)
        elif holder is not None:
            why = (f"vacuum ran {durations.words(table.vacuum_age_s)} ago and could not remove "
                   "them: "
                   f"{holder.label} has held the xmin horizon back since before then")
            held_back = holder.label
            extra = (holder.obj,)
            first = _remedy_for(holder)
        elif workers >= max_workers:
            why = (f"all {max_workers} autovacuum workers are busy: vacuum is not keeping up")
            held_back = "autovacuum workers all busy"
        elif dead < trigger:
            why = (f"autovacuum has not started: it waits for {trigger:,.0f} dead rows "
                   f"({base} + {scale} x rows); lower the table's scale factor")
            held_back = "autovacuum threshold not reached"
            first = (TableOption(table.name, "autovacuum_vacuum_scale_factor", 0.02),)
        else:
            why = "autovacuum has not got to it yet, or its runs keep being cancelled by locks"
            held_back = "not vacuumed yet"
        critical = share >= t.bloat_critical_share and held_back != "not vacuumed yet"
        yield Finding(
            code="table-bloat",
            severity=Severity.CRITICAL if critical else Severity.WARNING,
            title=(f"{table.name} has {dead:,} dead rows ({share:.0%} of its rows): "
                   f"{held_back}"),
            detail=(f"{dead:,} dead and {live:,} live rows, {last}. Dead rows make every scan "
                    f"read more pages and the table and its indexes grow. Why they stay: {why}."),
            objects=(ObjectRef("relation", name=table.name), *extra),
            evidence={"dead_rows": dead, "live_rows": live, "dead_share": round(share, 3),
                      "vacuum_age_s": (round(table.vacuum_age_s, 1)
                                       if table.vacuum_age_s is not None else None),
                      "autovacuum_count": table.autovacuum_count, "held_back_by": held_back,
                      "autovacuum_trigger_rows": round(trigger)},
            remedy=Remedy(
                "Remove what holds vacuum back, then vacuum the table (VACUUM takes no lock "
                "that blocks reads or writes).",
                (*first, Vacuum(table.name)),
            ),
            impact=float(dead),
        )


@check("stale-statistics", needs=("table_health", "server_health"))
def stale_statistics(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """Tables that changed a lot, relative to their size, since their last ANALYZE."""
    health = snapshot.server_health
    scale = health.setting_float("autovacuum_analyze_scale_factor", 0.1)
    base = health.setting_int("autovacuum_analyze_threshold", 50)
    autovacuum_on = health.settings.get("autovacuum", "on") == "on"
    naptime = health.setting_float("autovacuum_naptime", 60.0)
    for table in user_tables(snapshot):
        if table.without_statistics(snapshot.server.version_num):
            continue  # missing-statistics names it
        changed = table.n_mod_since_analyze
        never = table.analyze_age_s is None
        catching_up = (autovacuum_on and not table.autovacuum_disabled and not never
                       and (table.analyze_age_s or 0.0) < naptime)
        if catching_up:
            continue
        rows = max(table.reltuples, 0.0) if not never else 0.0
        share = changed / rows if rows > 0 else 1.0
        if changed < t.stale_statistics_min_rows or share < t.stale_statistics_share:
            continue
        when = ("never analyzed" if never
                else f"last analyzed {durations.words(table.analyze_age_s)} ago")
        why = ("autovacuum is disabled for this table" if table.autovacuum_disabled else
               f"autovacuum analyzes after {base + scale * rows:,.0f} changed rows "
               "(it may be busy, or the change just happened, e.g. a bulk load)")
        yield Finding(
            code="stale-statistics",
            severity=Severity.WARNING,
            title=(f"{table.name}: {changed:,} rows changed since its last ANALYZE "
                   f"({min(share, 9.99):.0%} of the table)" if not never else
                   f"{table.name}: {changed:,} rows and never analyzed"),
            detail=(f"{when}; the planner still estimates {max(table.reltuples, 0):,.0f} rows. "
                    "Plans built on numbers this far off pick the wrong joins and scans. "
                    f"{why[0].upper() + why[1:]}."),
            objects=(ObjectRef("relation", name=table.name),),
            evidence=StaleStatisticsEvidence(
                changed_rows=changed, reltuples=table.reltuples, live_rows=table.n_live_tup,
                changed_share=round(share, 3),
                analyze_age_s=(round(table.analyze_age_s, 1)
                               if table.analyze_age_s is not None else None)),
            remedy=Remedy("Analyze the table now (cheap: it samples); after bulk loads, "
                          "ANALYZE as part of the load.", (Analyze(table.name),)),
            impact=float(changed),
        )
