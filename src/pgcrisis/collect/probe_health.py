"""Health probes: server-wide limits and slots, table vacuum state, index definitions,
sequences. One query each, whatever the number of tables.

``server_health``
    Settings the health checks judge by, every database (XID age, connection limit,
    whether this role may connect), login roles with a connection limit, replication slots.
``table_health``
    Dead rows, rows changed since ANALYZE, per-table autovacuum options, frozen-XID ages.
``index_hygiene``
    Every index keyed exactly (columns or expressions, operator classes, collations), so
    duplicates can be told from look-alikes; validity, size, scans.
``sequences``
    How much of its range each sequence, or the integer column it feeds, has used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pgcrisis.collect.probe import ProbeContext, probe
from pgcrisis.model.health import (
    DatabaseInfo,
    IndexDef,
    PreparedLocks,
    ReplicationSlot,
    RoleLimit,
    SequenceUse,
    ServerHealth,
    TableHealth,
)
from pgcrisis.model.parts import INDEX_HYGIENE, SEQUENCES, SERVER_HEALTH, TABLE_HEALTH

#: settings read by the health checks (collect/server.py reads those of the spine's checks)
HEALTH_SETTINGS = (
    "max_connections", "superuser_reserved_connections", "reserved_connections",
    "autovacuum", "autovacuum_max_workers", "autovacuum_naptime", "autovacuum_freeze_max_age",
    "autovacuum_multixact_freeze_max_age", "autovacuum_vacuum_scale_factor",
    "autovacuum_vacuum_threshold", "autovacuum_analyze_scale_factor",
    "autovacuum_analyze_threshold", "wal_level", "max_slot_wal_keep_size",
    "hot_standby_feedback", "old_snapshot_threshold", "track_counts",
    "max_wal_size", "checkpoint_timeout",
)


@probe(SERVER_HEALTH)
def server_health(ctx: ProbeContext) -> Mapping[str, Any]:
    """Databases, role limits, slots and settings, in one query."""
    row = ctx.dicts("server_health", {"settings": list(HEALTH_SETTINGS)})[0]
    return {"server_health": ServerHealth(
        settings={k: str(v) for k, v in row["settings"].items()},
        databases=tuple(DatabaseInfo(**d) for d in row["databases"]),
        role_limits=tuple(RoleLimit(**r) for r in row["role_limits"]),
        slots=tuple(ReplicationSlot(**s) for s in row["slots"]),
        prepared_locks=tuple(PreparedLocks(p["gid"], int(p["locks"]), tuple(p["relations"]))
                             for p in row["prepared_locks"]),
        in_recovery=bool(row["in_recovery"]),
    )}


@probe(TABLE_HEALTH)
def table_health(ctx: ProbeContext) -> Mapping[str, Any]:
    """Tables with dead rows, changes since ANALYZE, options, or the oldest frozen XIDs."""
    return {"table_health": tuple(
        TableHealth(**{**row, "reloptions": tuple(row["reloptions"] or ())})
        for row in ctx.dicts("table_health")
    )}


def _index_def(row: Mapping[str, Any]) -> IndexDef:
    """An :class:`IndexDef` from one row of ``index_hygiene.sql``."""
    n = row["key_count"]
    attnums, names = row["attnums"], row["columns"]
    keys = tuple(f"{attnums[k]}:{names[k]}:{row['opclasses'][k]}:{row['collations'][k]}:"
                 f"{row['options'][k]}" for k in range(n))
    shown = [name or "(expression)" for name in names[:n]]
    if row["expressions"] and shown.count("(expression)") == 1:
        shown[shown.index("(expression)")] = row["expressions"]
    include = tuple(names[n:])
    definition = row["definition"] or (
        f"CREATE {'UNIQUE ' if row['unique'] else ''}INDEX {row['relname']} ON {row['table']}"
        f" USING {row['method']} ({', '.join(shown)})"
        + (f" INCLUDE ({', '.join(include)})" if include else "")
        + (f" WHERE {row['predicate']}" if row["predicate"] else ""))
    return IndexDef(
        oid=row["oid"], table_oid=row["table_oid"], table=row["table"], schema=row["schema"],
        relname=row["relname"], name=row["name"], method=row["method"], keys=keys,
        include=include, expressions=row["expressions"], predicate=row["predicate"],
        unique=row["unique"], primary=row["primary"], constraint=row["constraint"],
        valid=row["valid"], ready=row["ready"], being_built=row["being_built"],
        relpages=row["relpages"], idx_scan=row["idx_scan"], definition=definition)


@probe(INDEX_HYGIENE)
def index_hygiene(ctx: ProbeContext) -> Mapping[str, Any]:
    """Every index of a user table, keyed exactly."""
    return {"index_defs": tuple(_index_def(row) for row in ctx.dicts("index_hygiene"))}


def _int(text: str | None) -> int | None:
    return None if text is None else int(text)


@probe(SEQUENCES)
def sequences(ctx: ProbeContext) -> Mapping[str, Any]:
    """Sequences and the columns they feed (values as text: they may exceed float precision)."""
    out = []
    for row in ctx.dicts("sequences"):
        out.append(SequenceUse(
            name=row["name"], data_type=row["data_type"], last_value=_int(row["last_value"]),
            min_value=int(row["min_value"]), max_value=int(row["max_value"]),
            increment=int(row["increment"]), cycle=bool(row["cycle"]),
            column=row["column"], column_type=row["column_type"],
        ))
    return {"sequences": tuple(out)}
