"""The xmin horizon and transaction-ID age: long-transaction and wraparound-risk.

long-transaction
    Vacuum can remove a dead row only once no snapshot can still see it. Three things hold
    that horizon back: a transaction open for long (active or idle, its ``backend_xmin``), a
    prepared transaction nobody finishes (it has no session at all: pid 0 in lock waits), and
    a replication slot (its ``xmin``/``catalog_xmin``, and the WAL from its ``restart_lsn``).
    An inactive slot is reported at any size: nothing consumes it, so it only grows. What each
    holder costs is estimated from the tables vacuumed since it began that still have dead
    rows: those are the rows it keeps alive.
wraparound-risk
    ``age(datfrozenxid)`` of every database against the 2^31 limit at which the server stops
    assigning transaction IDs, and sequences (or the integer columns they feed) near the end
    of their range. Database ages are server-wide: judged in the first database only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pgcrisis import durations, shorten, sizes
from pgcrisis.actions import (
    Action,
    Cancel,
    DropSlot,
    RollbackPrepared,
    Terminate,
    Vacuum,
    Widen,
)
from pgcrisis.checks._text import plural, who
from pgcrisis.checks.registry import check
from pgcrisis.checks.sessions import is_own
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.model.activity import Backend
from pgcrisis.model.evidence import PreparedXactEvidence
from pgcrisis.model.findings import Finding, ObjectRef, Remedy, Severity
from pgcrisis.model.health import XID_LIMIT, ReplicationSlot, TableHealth
from pgcrisis.model.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class Holder:
    """Something that holds the xmin horizon back: a backend, a prepared xact or a slot."""

    obj: ObjectRef
    label: str
    age_s: float | None     # how long it has held it (None for slots: unknown)
    xmin_age: int | None    # transactions since its horizon
    database: str | None    # whose tables it holds back (None: every database's)

    def holds_back(self, database: str) -> bool:
        """Whether it keeps vacuum from cleaning tables of ``database``: since PostgreSQL 14
        a snapshot holds back only its own database's tables (and shared catalogs)."""
        return self.database is None or self.database == database


def user_tables(snapshot: Snapshot) -> list[TableHealth]:
    """Tables and matviews of the application (the probe also returns the catalogs with the
    oldest frozen XIDs, for wraparound-risk)."""
    return [t for t in snapshot.table_health
            if t.relkind in {"r", "m"}
            and not t.name.startswith(("pg_catalog.", "pg_toast.", "information_schema."))]


def dead_rows_kept(snapshot: Snapshot, age_s: float | None, database: str | None) -> int:
    """Dead rows of this database's tables vacuumed since a holder began: vacuum ran and
    left them, so the holder keeps them alive (a lower bound; 0 for a holder in another
    database, whose snapshot does not hold these tables back)."""
    if age_s is None or (database is not None and database != snapshot.server.database):
        return 0
    return sum(t.n_dead_tup for t in user_tables(snapshot)
               if t.vacuum_age_s is not None and t.vacuum_age_s < age_s)


#: sessions whose snapshot the server leaves out of the horizon (VACUUM's own) or whose
#: horizon is another server's (a walsender's, reported through its slot)
_NOT_HOLDERS = frozenset({"autovacuum worker", "autovacuum launcher", "walsender"})


def _may_hold(snapshot: Snapshot, b: Backend) -> bool:
    """A session whose snapshot or XID can hold the horizon back (VACUUM's cannot)."""
    if is_own(b) or b.pid == snapshot.server.own_pid or b.backend_type in _NOT_HOLDERS:
        return False
    if b.state == "active" and b.query.lstrip()[:6].upper() == "VACUUM":
        return False
    return (b.backend_xmin_age is not None or b.backend_xid_age is not None) and (
        b.xact_age_s is not None)


def holders(snapshot: Snapshot) -> list[Holder]:
    """Every horizon holder, oldest first (backends, prepared transactions, slots)."""
    found: list[Holder] = []
    for b in snapshot.activity:
        if not _may_hold(snapshot, b):
            continue
        found.append(Holder(ObjectRef("backend", pid=b.pid, name=who(b)),
                            f"pid {b.pid} ({who(b)}, {b.state or '?'})", b.xact_age_s,
                            b.backend_xmin_age or b.backend_xid_age, b.datname))
    for p in snapshot.prepared:
        found.append(Holder(ObjectRef("prepared-xact", name=p.gid, gid=p.gid),
                            f"prepared transaction {p.gid!r}", p.age_s, None, p.database))
    for s in snapshot.server_health.slots:
        if s.xmin_age is not None:  # a physical slot's (hot_standby_feedback): every table
            found.append(Holder(ObjectRef("slot", name=s.name, slot_name=s.name),
                                f"replication slot {s.name!r}", None, s.xmin_age, None))
    return sorted(found, key=lambda h: (-(h.age_s or 0.0), -(h.xmin_age or 0)))


def _backend_findings(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    for b in snapshot.activity:
        if not _may_hold(snapshot, b):
            continue  # no snapshot and no XID (or VACUUM's): it holds nothing back
        age = b.xact_age_s or 0.0
        if age < t.long_transaction_s:
            continue
        kept = dead_rows_kept(snapshot, age, b.datname)
        xmin_age = b.backend_xmin_age or b.backend_xid_age or 0
        critical = age >= t.long_transaction_critical_s
        idle = (b.state or "").startswith("idle")
        yield Finding(
            code="long-transaction",
            severity=Severity.CRITICAL if critical else Severity.WARNING,
            title=(f"pid {b.pid} ({who(b)}) has held a transaction open for {durations.words(age)}"
                   f" ({xmin_age:,} transactions ago)"),
            detail=(f"Its snapshot holds the xmin horizon back: vacuum cannot remove any row "
                    f"deleted or updated in the last {durations.words(age)} in database "
                    f"{b.datname} "
                    "(nor in the shared catalogs)."
                    + (f" At least {kept:,} dead rows of tables vacuumed since it began are "
                       "kept alive." if kept else "")
                    + f" State: {b.state}; "
                    f"last statement: {shorten.query(b.query, 160)}."),
            objects=(ObjectRef("backend", pid=b.pid, name=who(b)),),
            evidence={"xact_age_s": round(age, 1), "xmin_age": xmin_age,
                      "dead_rows_kept": kept, "state": b.state, "user": b.usename,
                      "database": b.datname},
            remedy=Remedy(
                ("End the transaction: " + ("terminate the idle session" if idle else
                 "cancel its statement, or terminate the session") + "; then find why the "
                 "client keeps transactions open (set idle_in_transaction_session_timeout and "
                 "a statement_timeout for its role)."),
                ((Terminate.of([b.pid]),) if idle else
                 (Cancel.of([b.pid]), Terminate.of([b.pid]))),
            ),
            impact=age + kept / 1000,
        )


def _prepared_findings(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    for p in snapshot.prepared:
        if p.age_s < t.prepared_xact_s:
            continue
        kept = dead_rows_kept(snapshot, p.age_s, p.database)
        held = snapshot.server_health.locks_of(p.gid)
        locks = max(p.locks, held.locks if held else 0)
        relations = p.relations or (held.relations if held else ())
        on = f" on {', '.join(relations[:3])}" if relations else ""
        yield Finding(
            code="long-transaction",
            severity=(Severity.CRITICAL if p.age_s >= t.prepared_xact_critical_s
                      else Severity.WARNING),
            title=(f"prepared transaction {p.gid!r} has been waiting for COMMIT/ROLLBACK "
                   f"PREPARED for {durations.words(p.age_s)}, holding {plural(locks, 'lock')}{on}"),
            detail=(f"Prepared by {p.owner} in database {p.database} "
                    f"{durations.words(p.age_s)} ago; no "
                    "session is behind it (it survives disconnects and restarts), so unless a "
                    "transaction manager still means to finish it, it is orphaned. It keeps "
                    f"its {plural(locks, 'lock')} and holds the xmin horizon back: at least "
                    f"{kept:,} dead rows of tables vacuumed since are kept alive."),
            objects=(ObjectRef("prepared-xact", name=p.gid, gid=p.gid),
                     *(ObjectRef("relation", name=r) for r in relations[:3])),
            evidence=PreparedXactEvidence(
                gid=p.gid, age_s=round(p.age_s, 1), owner=p.owner, database=p.database,
                locks=locks, relations=tuple(relations), dead_rows_kept=kept),
            remedy=Remedy(
                f"If no transaction manager will finish it, roll it back (connected to "
                f"database {p.database}); COMMIT PREPARED instead if its work must be kept.",
                (RollbackPrepared(p.gid, database=p.database),),
            ),
            impact=p.age_s + locks,
        )


_UNCONSUMED = "; nothing is consuming this one, so it only grows until the disk fills"


def _slot_finding(s: ReplicationSlot, t: Thresholds) -> Finding | None:
    retained = s.retained_bytes or 0
    lost = s.wal_status == "lost"
    if s.active and retained < t.slot_lag_bytes and not lost:
        return None
    critical = retained >= t.slot_critical_bytes or lost
    state = "inactive" if not s.active else f"active (pid {s.active_pid}) but lagging"
    horizon = s.xmin_age if s.xmin_age is not None else s.catalog_xmin_age
    what = "catalog rows" if s.xmin_age is None else "rows"
    held = (f" It holds back vacuum of {what} changed in the last {horizon:,} transactions."
            if horizon is not None else "")
    return Finding(
        code="long-transaction",
        severity=Severity.CRITICAL if critical else Severity.WARNING,
        title=(f"{s.slot_type} replication slot {s.name!r} is {state}, retaining "
               f"{sizes.binary(retained)} of WAL"),
        detail=(f"A slot keeps every WAL segment from its restart point until its consumer "
                f"confirms it{'' if s.active else _UNCONSUMED}.{held} "
                f"WAL status: {s.wal_status or '?'}"
                + (f"; plugin {s.plugin}, database {s.database}" if s.plugin else "") + "."),
        objects=(ObjectRef("slot", name=s.name, slot_name=s.name),),
        evidence={"slot_type": s.slot_type, "active": s.active, "retained_bytes": retained,
                  "xmin_age": s.xmin_age, "catalog_xmin_age": s.catalog_xmin_age,
                  "wal_status": s.wal_status, "plugin": s.plugin, "database": s.database},
        remedy=Remedy(
            ("If its consumer is gone for good, drop the slot; otherwise restart the consumer."
             if not s.active else
             "Find why the consumer lags (network, a long transaction on the subscriber); "
             "set max_slot_wal_keep_size so a stuck slot cannot fill the disk."),
            (DropSlot(s.name),) if not s.active else (),
        ),
        impact=retained / 1e9 + (horizon or 0) / 1e6,
    )


@check("long-transaction", needs=("activity", "prepared", "server_health"))
def long_transaction(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """Old transactions, orphaned prepared transactions and inactive or lagging slots."""
    yield from _backend_findings(snapshot, t)
    yield from _prepared_findings(snapshot, t)
    for s in snapshot.server_health.slots:
        finding = _slot_finding(s, t)
        if finding is not None:
            yield finding


def _database_findings(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    oldest = sorted(snapshot.table_health, key=lambda x: -x.frozen_xid_age)[:3]
    for d in snapshot.server_health.databases:
        for kind, age in (("transaction ID", d.xid_age), ("multixact ID", d.mxid_age)):
            share = age / XID_LIMIT
            if share < t.wraparound_warning_share:
                continue
            here = d.name == snapshot.server.database
            freeze = (tuple(Vacuum(x.name, freeze=True) for x in oldest) if here and oldest
                      else (Vacuum(None, freeze=True),))
            yield Finding(
                code="wraparound-risk",
                severity=(Severity.CRITICAL if share >= t.wraparound_critical_share
                          else Severity.WARNING),
                title=(f"database {d.name} is {age:,} {kind}s old ({share:.0%} of the way to "
                       "wraparound)"),
                detail=(f"At 2^31 {kind}s the server stops assigning them to protect the data; "
                        "anti-wraparound autovacuum should have frozen the oldest tables long "
                        "before this (autovacuum_freeze_max_age "
                        f"{snapshot.server_health.setting_int('autovacuum_freeze_max_age'):,}). "
                        "Something stops it: a long transaction, a slot or a prepared "
                        "transaction holding the horizon, or vacuum failing on a table."
                        + (" Oldest tables here: " + ", ".join(
                            f"{x.name} ({x.frozen_xid_age:,})" for x in oldest) + "."
                           if here and oldest else "")),
                objects=(ObjectRef("database", name=d.name),
                         *(ObjectRef("relation", name=x.name) for x in (oldest if here else ()))),
                evidence={"database": d.name, "kind": kind, "age": age,
                          "share": round(share, 4), "limit": XID_LIMIT},
                remedy=Remedy(
                    f"End whatever holds the horizon back, then freeze the oldest tables "
                    f"(connected to database {d.name}); watch autovacuum's progress in "
                    "pg_stat_progress_vacuum.", freeze),
                impact=float(age),
            )


def _sequence_findings(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    for s in snapshot.sequences:
        share = s.used_share
        if s.cycle or share < t.sequence_warning_share:
            continue
        fed = (f"; it feeds {s.column} ({s.column_type}), which runs out at {s.limit:,}"
               if s.column and s.column_type and s.limit < s.max_value else "")
        narrow_column = bool(s.column and s.column_type in {"smallint", "integer"})
        widen: tuple[Action, ...] = ()
        if narrow_column and s.column:
            table, _, column = s.column.rpartition(".")
            widen = (Widen(table, column),)
        if s.data_type in {"smallint", "integer"}:
            widen = (Widen(s.name), *widen)
        yield Finding(
            code="wraparound-risk",
            severity=(Severity.CRITICAL if share >= t.sequence_critical_share
                      else Severity.WARNING),
            title=f"sequence {s.name} has used {share:.0%} of its range ({s.last_value:,} of "
                  f"{s.limit:,})",
            detail=(f"The sequence is {s.data_type}, at {s.last_value:,}{fed}. When it reaches "
                    "the limit every INSERT that takes a value from it fails."),
            objects=(ObjectRef("relation", name=s.name),
                     *((ObjectRef("relation", name=s.column.rpartition(".")[0]),)
                       if s.column else ())),
            evidence={"last_value": s.last_value, "limit": s.limit, "share": round(share, 4),
                      "data_type": s.data_type, "column": s.column,
                      "column_type": s.column_type},
            remedy=Remedy(
                "Widen the column (and the sequence) to bigint before it runs out; on a large "
                "table this rewrites it under an ACCESS EXCLUSIVE lock: plan a window, or "
                "migrate through a new column.", widen),
            impact=share * 1e9,
        )


@check("wraparound-risk", needs=("server_health", "table_health", "sequences"))
def wraparound_risk(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """Databases near transaction-ID wraparound; sequences near the end of their range."""
    if snapshot.primary:
        yield from _database_findings(snapshot, t)
    yield from _sequence_findings(snapshot, t)
