"""Cached-view pieces for the `pgcrisis cache` tests: a matview cycle and slow views."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from pgcrisis.errors import ScenarioError
from pgcrisis.lab.cache import _reaches

CYCLE_SQL = """
CREATE OR REPLACE VIEW v_cycle AS SELECT 1 AS x;
CREATE MATERIALIZED VIEW mv_cycle_a AS SELECT x FROM v_cycle;
CREATE MATERIALIZED VIEW mv_cycle_b AS SELECT x FROM mv_cycle_a;
CREATE OR REPLACE VIEW v_cycle AS SELECT x FROM mv_cycle_b;
"""


def build_cycle(conn: psycopg.Connection[Any]) -> None:
    """``mv_cycle_a -> v_cycle -> mv_cycle_b -> mv_cycle_a``: a loop PostgreSQL accepts,
    because a matview stores rows instead of expanding its query (proved by
    :func:`cycle_is_real`)."""
    conn.execute(CYCLE_SQL)
    if not cycle_is_real(conn):
        raise ScenarioError("the matview cycle did not form")


def cycle_is_real(conn: psycopg.Connection[Any]) -> bool:
    """Whether mv_cycle_a is built on mv_cycle_b and mv_cycle_b on mv_cycle_a."""
    return _reaches(conn, "mv_cycle_a", "mv_cycle_b") and _reaches(conn, "mv_cycle_b",
                                                                   "mv_cycle_a")


def create_slow_view(conn: psycopg.Connection[Any], name: str, *, seconds: float,
                     rows: int = 1000, key: bool = True) -> None:
    """A matview whose refresh takes at least ``seconds`` (its query sleeps once), with
    ``rows`` rows and, with ``key``, the unique index CONCURRENTLY needs."""
    conn.execute(sql.SQL(
        "CREATE MATERIALIZED VIEW {} AS WITH pause AS MATERIALIZED (SELECT pg_sleep({}))"
        " SELECT g AS id, g * 2 AS doubled FROM generate_series(1, {}) g, pause").format(
        sql.Identifier(name), sql.Literal(seconds), sql.Literal(rows)))
    if key:
        conn.execute(sql.SQL("CREATE UNIQUE INDEX {} ON {} (id)").format(
            sql.Identifier(f"{name}_id_key"), sql.Identifier(name)))
