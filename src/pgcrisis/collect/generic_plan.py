"""A statement's generic plan, costed without and with a hypothetical index: the EXPLAIN the
statements probe (the plan cost of the statement that lost most time to JIT) and the index
advice probe (hypopg's verification of a candidate index) share.

On PostgreSQL 15 a generic plan needs ``PREPARE`` with ``plan_cache_mode =
force_generic_plan`` and ``EXPLAIN EXECUTE`` with NULL arguments; it plans without
executing, so it works in a read-only session, INSERT ... SELECT included. It takes ACCESS
SHARE locks, so a table held by DDL makes it fail after lock_timeout. Each EXPLAIN is one
round trip (a multi-statement batch); a superuser's batch also sets
``pg_stat_statements.track = top`` locally, since an EXPLAIN counts as a 0 ms nested call of
the statement and would drag its mean time down.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import psycopg
from psycopg import errors as pgerrors
from psycopg import sql as psql

from pgcrisis.collect.probe import ProbeContext
from pgcrisis.errors import first_line
from pgcrisis.sqlparse import Shape, SqlParseError, analyze

_PLAN_NAMES = itertools.count(1)


@lru_cache(maxsize=1024)
def parse_shape(text: str) -> Shape | None:
    """The parsed shape of a statement text, or None where pglast cannot parse it (e.g. a
    normalised ``interval $1``)."""
    try:
        return analyze(text)
    except SqlParseError:
        return None


def extension_schemas(ctx: ProbeContext) -> dict[str, str]:
    """The schema of each extension of the database (where pg_stat_statements and hypopg
    live)."""
    return {row["extname"]: row["schema"] for row in ctx.dicts("statements_extensions")}


@dataclass(frozen=True, slots=True)
class Plans:
    """Costs of a statement's generic plan without and with a hypothetical index, and the rows
    the planner expected the first to return."""

    before: float
    after: float | None
    before_rows: float | None = None


def explain(ctx: ProbeContext, text: str, params: int, index_ddl: str | None = None,
             hypopg_schema: str | None = None) -> Plans:
    """Plan ``text`` generically (one round trip); with ``index_ddl``, plan it again with that
    hypothetical index. Raises psycopg errors; cleans up its prepared statements and
    hypothetical index either way.

    The plan cache would keep the first generic plan, so the second EXPLAIN uses a second
    prepared statement created after the hypothetical index.
    """
    n = next(_PLAN_NAMES)
    names = [f"pgcrisis_plan_{n}a"] + ([f"pgcrisis_plan_{n}b"] if index_ddl else [])
    args = (psql.SQL("") if params == 0 else
            psql.SQL("({})").format(psql.SQL(", ").join([psql.SQL("NULL")] * params)))
    parts: list[psql.Composable] = [psql.SQL("SET LOCAL plan_cache_mode = force_generic_plan")]
    if ctx.server.is_superuser:
        # an EXPLAIN counts as a (0 ms) nested call of the statement; keep the stats clean
        parts.append(psql.SQL("SET LOCAL pg_stat_statements.track = top; "
                              "SET LOCAL pg_stat_statements.track_utility = off"))
    for i, name in enumerate(names):
        if i == 1:
            parts.append(psql.SQL("SELECT 1 FROM {}.hypopg_create_index({})").format(
                psql.Identifier(hypopg_schema or "public"), psql.Literal(index_ddl)))
        # the text is one statement (pglast said so); a newline ends any trailing comment
        parts.append(psql.SQL("PREPARE {} AS\n").format(psql.Identifier(name))
                     + psql.SQL(text) + psql.SQL("\n"))
        parts.append(psql.SQL("EXPLAIN (FORMAT JSON) EXECUTE {}").format(psql.Identifier(name))
                     + args)
    parts.extend(psql.SQL("DEALLOCATE {}").format(psql.Identifier(name)) for name in names)
    if index_ddl:
        parts.append(psql.SQL("SELECT {}.hypopg_reset()").format(
            psql.Identifier(hypopg_schema or "public")))
    ctx.queries += 1
    costs: list[float] = []
    rows: list[float] = []
    try:
        with ctx.conn.cursor() as cur:
            cur.execute(psql.SQL(";\n").join(parts))
            while True:
                if cur.statusmessage == "EXPLAIN":
                    row = cur.fetchone()
                    assert row is not None
                    plan = row[0][0]["Plan"]
                    costs.append(float(plan["Total Cost"]))
                    rows.append(float(plan["Plan Rows"]))
                if not cur.nextset():
                    break
    except psycopg.Error:
        _cleanup(ctx, names, hypopg_schema if index_ddl else None)
        raise
    return Plans(costs[0], costs[1] if len(costs) > 1 else None, rows[0])


def _cleanup(ctx: ProbeContext, names: Sequence[str], hypopg_schema: str | None) -> None:
    """After a failed batch: drop what it left behind (PREPARE and hypopg are not undone by
    the rollback). Errors here are not worth hiding the first one for."""
    if ctx.conn.closed:
        return
    left: psql.Composable = psql.SQL(
        "SELECT name FROM pg_prepared_statements WHERE name = ANY(%s)")
    if hypopg_schema:
        left = psql.SQL("SELECT name FROM {}.hypopg_reset(), pg_prepared_statements "
                        "WHERE name = ANY(%s)").format(psql.Identifier(hypopg_schema))
    try:
        found = [row[0] for row in ctx.run(left, [list(names)])]
        if found:
            ctx.run(psql.SQL(";").join(
                psql.SQL("DEALLOCATE {}").format(psql.Identifier(name)) for name in found))
    except psycopg.Error:
        if lost(ctx):
            raise


def lost(ctx: ProbeContext) -> bool:
    """Whether the connection is gone (then the collector must hear of it); a lock or
    statement timeout, or a statement that cannot be planned, leaves it usable."""
    return ctx.conn.closed or ctx.conn.broken


def unverified_reason(exc: psycopg.Error) -> str:
    if isinstance(exc, pgerrors.LockNotAvailable):
        return ("a table it reads is locked: planning it waited past lock_timeout "
                "(DDL or another strong lock holds it)")
    if isinstance(exc, pgerrors.QueryCanceled):
        return "planning it ran past statement_timeout"
    return f"the planner could not cost it: {first_line(exc)}"
