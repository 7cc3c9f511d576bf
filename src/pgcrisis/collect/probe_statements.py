"""pg_stat_statements: the costliest statements of the current database (jit-overhead,
slow-query; the index advice probe reads them next).

The costliest statements of the *current* database by total execution time
(``ProbeOptions.max_statements`` of them), one row per queryid. Monitoring queries are left
out: pgcrisis's own, and any tool's, recognised by reading nothing but catalogs and
statistics views (``pg_*`` relations, ``pg_catalog``, ``information_schema``), plus utility
statements (SET, SHOW, EXPLAIN, DDL...). pg_stat_statements does not record
application_name, and filtering on the current role would hide the application's own
statements whenever a DBA runs pgcrisis as the application's role, so the filter is on what
a statement reads. For the statement that lost most time to JIT, the planner's cost of its
generic plan is read too (one EXPLAIN, :mod:`.generic_plan`), so a remedy can name a
``jit_above_cost`` above it.

Queries: 2 (extensions, statements) + at most 1 (JIT plan cost).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import psycopg
from psycopg import errors as pgerrors
from psycopg import sql as psql
from psycopg.rows import dict_row

from pgcrisis.collect import sql
from pgcrisis.collect.generic_plan import explain, extension_schemas, lost, parse_shape
from pgcrisis.collect.probe import ProbeContext, probe
from pgcrisis.errors import ProbeUnavailable, first_line
from pgcrisis.model.parts import STATEMENTS
from pgcrisis.model.statements import Statement, Statements

NOT_INSTALLED = "pg_stat_statements is not installed in this database"
#: extra rows fetched so that leaving out monitoring statements still leaves max_statements
MARGIN = 50
#: EXPLAINs per triage: plan cost of the worst JIT statement
MAX_JIT_EXPLAINS = 1

_STATEMENT_FIELDS = frozenset(Statement.__dataclass_fields__)


def _is_monitoring(text: str) -> bool:
    """A utility statement, or one that reads only catalogs and statistics views."""
    shape = parse_shape(text)
    return shape is not None and (not shape.is_dml or not shape.reads_user_tables)


def _composed_dicts(ctx: ProbeContext, name: str, version_num: int, params: Mapping[str, Any],
                    **identifiers: psql.Composable) -> list[dict[str, Any]]:
    """Run SQL file ``name`` with ``{placeholders}`` filled in by psycopg.sql."""
    query = psql.SQL(sql.query(name, version_num)).format(**identifiers)
    ctx.queries += 1
    with ctx.conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)
        return cur.fetchall()


def require_pgss(ctx: ProbeContext) -> None:
    """Refuse, with the reason, where pg_stat_statements cannot be read."""
    if "pg_stat_statements" not in ctx.server.extensions:
        raise ProbeUnavailable(NOT_INSTALLED)
    if ctx.server.version_num < 130000:
        raise ProbeUnavailable("pgcrisis reads pg_stat_statements of PostgreSQL 13 or newer")
    if ctx.server.preloaded and "pg_stat_statements" not in ctx.server.preloaded:
        raise ProbeUnavailable("pg_stat_statements is installed in this database but not "
                               "loaded (add it to shared_preload_libraries)")


def _with_plan_costs(ctx: ProbeContext, rows: list[Statement]) -> list[Statement]:
    """Add the generic plan's cost to the statements that lost most time to JIT."""
    jitted = sorted((r for r in rows if r.jit_functions > 0 and r.jit_ms > 0),
                    key=lambda r: r.jit_ms, reverse=True)
    costs: dict[int, float] = {}
    for row in jitted[:MAX_JIT_EXPLAINS]:
        shape = parse_shape(row.query)
        if shape is None or not shape.is_dml:
            continue
        try:
            costs[row.queryid] = explain(ctx, row.query, shape.params).before
        except psycopg.Error:
            if lost(ctx):
                raise
            continue  # the cost is a refinement; the finding stands without it
    return [replace(r, plan_cost=costs[r.queryid]) if r.queryid in costs else r for r in rows]


def _version(text: str) -> tuple[int, ...]:
    """An extension version as numbers: ``"1.10"`` -> ``(1, 10)`` (``"1.10dev"`` -> ``(1,)``)."""
    parts: list[int] = []
    for part in text.split("."):
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts)


@probe(STATEMENTS)
def statements(ctx: ProbeContext) -> Mapping[str, Any]:
    """The costliest statements of this database from pg_stat_statements."""
    require_pgss(ctx)
    schema = extension_schemas(ctx).get("pg_stat_statements")
    if schema is None:
        raise ProbeUnavailable(NOT_INSTALLED)
    limit = ctx.options.max_statements
    # the JIT columns and ``toplevel`` came with extension version 1.10 (PostgreSQL 15); an
    # extension not updated after an upgrade still has the old view
    has_jit = (ctx.server.version_num >= 150000
               and _version(ctx.server.extensions["pg_stat_statements"]) >= (1, 10))
    try:
        found = _composed_dicts(ctx, "statements", 150000 if has_jit else 140000,
                                {"limit": limit + MARGIN},
                                pgss=psql.Identifier(schema, "pg_stat_statements"))
    except pgerrors.ObjectNotInPrerequisiteState as exc:
        raise ProbeUnavailable(first_line(exc)) from None
    kept: list[Statement] = []
    excluded = 0
    for row in found:
        if _is_monitoring(row["query"]):
            excluded += 1
            continue
        kept.append(Statement(**{k: v for k, v in row.items() if k in _STATEMENT_FIELDS}))
    kept = kept[:limit]
    if has_jit:
        kept = _with_plan_costs(ctx, kept)
    db_total = float(found[0]["db_total_exec_ms"]) if found else 0.0
    return {"statements": Statements(tuple(kept), has_jit, db_total, excluded)}
