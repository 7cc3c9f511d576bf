"""A statement's generic plan, costed without and with a hypothetical index: the EXPLAIN the
statements probe (the plan cost of the statement that lost most time to JIT) and the index
advice probe (hypopg's verification of a candidate index) share; and the whole generic plan,
as JSON, for the plans probe (:func:`generic_plan`).

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
from psycopg.types.string import TextLoader

from pgcrisis.collect import sql
from pgcrisis.collect.probe import ProbeContext
from pgcrisis.errors import first_line
from pgcrisis.sqlparse import Shape, SqlParseError, analyze

_PLAN_NAMES = itertools.count(1)

#: how a generic plan was obtained, by server version (:func:`generic_plan`)
GENERIC_PLAN = "EXPLAIN (GENERIC_PLAN)"
NO_PARAMETERS = "EXPLAIN of its text, which has no parameters"
PREPARED = ("prepared under plan_cache_mode = force_generic_plan, EXPLAIN EXECUTE with NULL "
            "arguments, which a generic plan does not use")


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
    parts += _quiet(ctx)
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


def _quiet(ctx: ProbeContext) -> list[psql.Composable]:
    """A superuser's batch keeps pg_stat_statements clean of its EXPLAIN (a 0 ms nested call
    of the statement, and the utility statement itself)."""
    if not ctx.server.is_superuser:
        return []
    return [psql.SQL(sql.query("plan_quiet").strip())]


def generic_plan(ctx: ProbeContext, text: str, params: int, timeout_ms: int) -> tuple[str, str]:
    """The generic plan of ``text`` (``EXPLAIN (VERBOSE, FORMAT JSON)``, never ANALYZE:
    nothing is executed) as JSON text, and how it was obtained (:data:`GENERIC_PLAN`,
    :data:`NO_PARAMETERS`, :data:`PREPARED`): one round trip, under the session's
    ``statement_timeout`` lowered to ``timeout_ms``. Raises psycopg errors; a prepared
    statement is cleaned up either way.

    Before PostgreSQL 16 a text with ``$n`` parameters (pg_stat_statements writes constants
    so) cannot be EXPLAINed as it is: it is prepared under ``force_generic_plan``, and
    EXPLAIN EXECUTE passes NULLs only because EXECUTE needs arguments; the generic plan is
    built without their values, so it is the plan ``GENERIC_PLAN`` shows on 16+.
    """
    statement = psql.SQL(text) + psql.SQL("\n")  # a newline ends any trailing comment
    # the session's statement_timeout, lowered to timeout_ms (never raised)
    parts = [sql.composed("plan_timeout", timeout=psql.Literal(timeout_ms)), *_quiet(ctx)]
    names: list[str] = []
    if ctx.server.version_num >= 160000:
        method = GENERIC_PLAN
        parts.append(psql.SQL("EXPLAIN (GENERIC_PLAN, VERBOSE, FORMAT JSON)\n") + statement)
    elif params == 0:
        method = NO_PARAMETERS
        parts.append(psql.SQL("EXPLAIN (VERBOSE, FORMAT JSON)\n") + statement)
    else:
        method = PREPARED
        names.append(f"pgcrisis_plan_{next(_PLAN_NAMES)}g")
        name = psql.Identifier(names[0])
        parts += [psql.SQL("SET LOCAL plan_cache_mode = force_generic_plan"),
                  psql.SQL("PREPARE {} AS\n").format(name) + statement,
                  psql.SQL("EXPLAIN (VERBOSE, FORMAT JSON) EXECUTE {}({})").format(
                      name, psql.SQL(", ").join([psql.SQL("NULL")] * params)),
                  psql.SQL("DEALLOCATE {}").format(name)]
    ctx.queries += 1
    plan: str | None = None
    try:
        with ctx.conn.cursor() as cur:
            cur.adapters.register_loader("json", TextLoader)
            cur.execute(psql.SQL(";\n").join(parts))
            while True:
                if cur.statusmessage == "EXPLAIN":
                    row = cur.fetchone()
                    plan = None if row is None else str(row[0])
                if not cur.nextset():
                    break
    except psycopg.Error:
        if names:
            _cleanup(ctx, names, None)
        raise
    if plan is None:
        raise psycopg.ProgrammingError("EXPLAIN returned no plan")
    return plan, method


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
