"""The first probe: server version, settings and extensions (every check may need them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from pgcrisis.collect import sql
from pgcrisis.model.server import ServerInfo

#: Settings the checks read; anything not here is not fetched.
SETTINGS = (
    "block_size", "max_connections", "superuser_reserved_connections",
    "reserved_connections", "max_locks_per_transaction", "max_prepared_transactions",
    "jit", "jit_above_cost", "jit_inline_above_cost", "jit_optimize_above_cost",
    "shared_preload_libraries", "cron.database_name", "track_io_timing",
    "pg_stat_statements.track", "server_version_num", "work_mem", "synchronous_commit",
)


def read_clock(conn: psycopg.Connection[Any]) -> tuple[datetime, datetime]:
    """The server's ``now()`` and its start time (both aware datetimes)."""
    row = conn.execute(sql.query("clock").encode()).fetchone()
    assert row is not None
    return row[0], row[1]


def read_server(conn: psycopg.Connection[Any]) -> ServerInfo:
    """Read :class:`ServerInfo` in one query."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql.query("server").encode(), {"settings": list(SETTINGS)})
        row = cur.fetchone()
    assert row is not None
    preload = frozenset(
        part.strip() for part in str(row["settings"].get("shared_preload_libraries", "")).split(",")
        if part.strip()
    )
    return ServerInfo(
        version_num=row["version_num"],
        server_version=row["server_version"],
        database=row["database"],
        current_user=row["current_user"],
        is_superuser=row["is_superuser"],
        own_pid=row["own_pid"],
        settings={k: str(v) for k, v in row["settings"].items()},
        extensions=dict(row["extensions"]),
        available_extensions=frozenset(row["available_extensions"]),
        preloaded=preload,
        can_read_all_stats=bool(row["can_read_all_stats"]) or bool(row["is_superuser"]),
    )
