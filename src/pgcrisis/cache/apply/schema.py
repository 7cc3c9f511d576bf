"""The small ``pgcrisis`` schema (``cache/sql/schema.sql``): refresh durations, dirty marks,
and the pg_cron chain.

* ``pgcrisis.refresh_log``: one row per refresh attempt (who, how long, how it ended); the
  planner reads measured durations from it.
* ``pgcrisis.dirty``: marks written by the watch triggers, one per writing statement
  (append-only, so writers never wait on each other); the source of truth for ``watch``.
  ``wave`` is set when a watch worker claims a mark and the mark is deleted once its view is
  refreshed: a worker that dies leaves its marks behind for the next one.
* ``pgcrisis.mark_dirty()``: the statement-level trigger function. It NOTIFYs only while the
  notification queue is under half full, so a listener that dies or stalls can never make
  a writer's commit fail (the mark is in the table either way).
* ``pgcrisis.refresh_chain(...)``: what the pg_cron jobs of a plan ``CALL``: each view in its
  own transaction, after its bases from other chains finished in this cycle, CONCURRENTLY
  when it can, under the same advisory lock ``cache refresh`` takes (skip, never queue).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

from pgcrisis import sqlfiles
from pgcrisis.cache.apply import statement
from pgcrisis.errors import PgcrisisError
from pgcrisis.journal import apply

#: the schema's version, kept as its comment: an older one is upgraded in place
VERSION = "pgcrisis cache schema 1"
#: first key of the advisory locks refreshes take (second key: the view's oid); 'pgcr'
LOCK_CLASS = 0x70676372
#: second key of the lock guarding schema installation, and of the single watch worker
INSTALL_LOCK = 0
WATCH_LOCK = 1
#: the NOTIFY channel watch listens on
CHANNEL = "pgcrisis_cache"

#: the statements that install the schema, in order, as they are shown and journaled
STATEMENTS: tuple[str, ...] = (
    *(sql.SQL(text).format(channel=sql.Literal(CHANNEL), lock_class=sql.Literal(LOCK_CLASS))
      .as_string(None) for text in sqlfiles.statements("pgcrisis.cache", "schema")),
    sql.SQL("COMMENT ON SCHEMA pgcrisis IS {}").format(sql.Literal(VERSION)).as_string(None),
)


def installed(conn: psycopg.Connection[Any]) -> bool:
    """Whether this version of the schema is in place."""
    row = conn.execute(statement("schema_version")).fetchone()
    return bool(row and row[0] == VERSION)


def ensure_schema(conn: psycopg.Connection[Any], show: Callable[[str], None] | None = None) -> bool:
    """Install (or upgrade) the schema when it is missing; True when it did.

    Serialized by an advisory lock, so two first runs at once do not collide.
    """
    if installed(conn):
        return False
    conn.execute(statement("advisory_lock"), (LOCK_CLASS, INSTALL_LOCK))
    try:
        if installed(conn):
            return False
        results = apply(conn, STATEMENTS, reason="cache: install the pgcrisis schema", show=show)
        failed = [r for r in results if not r.ok]
        if failed:
            raise PgcrisisError(f"could not install the pgcrisis schema: {failed[0].error}")
        return True
    finally:
        conn.execute(statement("advisory_unlock"), (LOCK_CLASS, INSTALL_LOCK))
