"""Capturing a plan from a live server: ``EXPLAIN (ANALYZE, BUFFERS, VERBOSE, SETTINGS,
FORMAT JSON)`` of the user's statement, inside a transaction that is always rolled back.

Unlike diagnostic sessions this connection is not read-only: EXPLAIN ANALYZE of an UPDATE
really runs the UPDATE, and that is the point (its triggers, its foreign-key checks). The
rollback undoes it; ``statement_timeout`` (``--timeout``) bounds it, ``lock_timeout`` keeps
it from queueing behind a lock for longer than that. Settings to compare (``jit=off``) are
applied with ``set_config(..., is_local => true)``, so they die with the transaction too.
The plan comes back as the server's own indented JSON text (not parsed by psycopg), and is
analysed as a file of it would be.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row
from psycopg.types.string import TextLoader

from pgcrisis import sqlfiles
from pgcrisis.collect.sql import query
from pgcrisis.connection import open_connection
from pgcrisis.dsn import Target
from pgcrisis.errors import InputError
from pgcrisis.plan.model import ForeignKey

#: where EXPLAIN's own statements are (``plan/sql/``)
_PACKAGE = "pgcrisis.plan"

APPLICATION_NAME = "pgcrisis explain"


@dataclass(frozen=True, slots=True)
class Captured:
    """One captured plan: the JSON text and what was run to get it."""

    plan_json: str
    statement: str
    settings: tuple[tuple[str, str], ...]
    analyze: bool
    foreign_keys: tuple[ForeignKey, ...] = ()


def view_statement(name: str) -> sql.Composed:
    """``SELECT * FROM schema.name`` with each part quoted as an identifier."""
    parts = [part for part in name.split(".") if part]
    if not 1 <= len(parts) <= 2:
        raise InputError(f"--view wants schema.name or name, got {name!r}")
    return sql.SQL("SELECT * FROM {}").format(sql.Identifier(*parts))


def _foreign_keys(conn: psycopg.Connection[Any], plan_json: str) -> tuple[ForeignKey, ...]:
    """The foreign keys whose triggers the plan reports, from the catalog."""
    names = sorted({str(trigger["Constraint Name"])
                    for plan in json.loads(plan_json) if isinstance(plan, dict)
                    for trigger in plan.get("Triggers") or ()
                    if isinstance(trigger, dict) and trigger.get("Constraint Name")})
    if not names:
        return ()
    with conn.cursor(row_factory=class_row(_ForeignKeyRow)) as cur:
        rows = cur.execute(query("foreign_keys_named"), {"names": names}).fetchall()
    return tuple(ForeignKey(r.name, r.referencing, tuple(r.columns), r.referenced, r.indexed)
                 for r in rows)


@dataclass(frozen=True, slots=True)
class _ForeignKeyRow:
    name: str
    referencing: str
    columns: list[str]
    referenced: str
    indexed: bool


def capture(target: Target, statement: str | sql.Composable, *, analyze: bool = True,
            timeout_s: float = 60.0, settings: Mapping[str, str] | None = None) -> Captured:
    """Run EXPLAIN on ``statement`` and return the plan; the transaction is rolled back."""
    settings = dict(settings or {})
    timeout_ms = max(1, int(timeout_s * 1000))
    conn = open_connection(target, application_name=APPLICATION_NAME, autocommit=False)
    conn.adapters.register_loader("json", TextLoader)
    try:
        text = statement if isinstance(statement, str) else statement.as_string(conn)
        text = text.strip().rstrip(";").strip()
        if not text:
            raise InputError("the query is empty")
        options = "ANALYZE, BUFFERS, VERBOSE, SETTINGS, FORMAT JSON" if analyze \
            else "VERBOSE, SETTINGS, FORMAT JSON"
        try:
            conn.execute(sqlfiles.query(_PACKAGE, "explain_timeouts"),
                         (str(timeout_ms), str(timeout_ms)))
            for name, value in settings.items():
                conn.execute(sqlfiles.query(_PACKAGE, "explain_setting"), (name, value))
            row = conn.execute(f"EXPLAIN ({options}) {text}".encode()).fetchone()
        except psycopg.errors.QueryCanceled:
            raise InputError(f"the query ran longer than --timeout {timeout_s:g} s and was "
                             f"cancelled (nothing was changed)") from None
        except psycopg.Error as exc:
            message = exc.diag.message_primary or str(exc).strip().splitlines()[0]
            raise InputError(f"the server rejected the query: {message}") from None
        if row is None or not isinstance(row[0], str):
            raise InputError("EXPLAIN returned no plan")
        return Captured(row[0], text, tuple(settings.items()), analyze,
                        _foreign_keys(conn, row[0]))
    finally:
        try:
            conn.rollback()
        finally:
            conn.close()
