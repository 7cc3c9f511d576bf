"""pg_stat_statements and index advice (jit-overhead, missing-index).

Two probes, registered in this order (after ``probe_relations``, which the collector imports
first, because advice needs the tables and their indexes):

``statements``
    The costliest statements of the *current* database by total execution time
    (``ProbeOptions.max_statements`` of them), one row per queryid. Monitoring queries are left
    out: pgcrisis's own, and any tool's, recognised by reading nothing but catalogs and
    statistics views (``pg_*`` relations, ``pg_catalog``, ``information_schema``), plus utility
    statements (SET, SHOW, EXPLAIN, DDL...). pg_stat_statements does not record
    application_name, and filtering on the current role would hide the application's own
    statements whenever a DBA runs pgcrisis as the application's role, so the filter is on what
    a statement reads. For the statement that lost most time to JIT, the planner's cost of its
    generic plan is read too (one EXPLAIN), so a remedy can name a ``jit_above_cost`` above it.

``index_advice``
    For those statements, the columns their predicates compare with values (see
    :mod:`pgcrisis.sqlparse`), per table, equality columns first: a candidate index where no
    valid btree/hash index of the table already leads with one of them. Where hypopg is
    installed in the database, the candidates of the costliest statements (at most
    :data:`MAX_VERIFY`, on tables read sequentially) are verified: the planner costs the
    statement's generic plan before and after a hypothetical index. On PostgreSQL 15 a
    generic plan needs ``PREPARE`` with ``plan_cache_mode = force_generic_plan`` and ``EXPLAIN
    EXECUTE`` with NULL arguments; it plans without executing, so it works in a read-only
    session, INSERT ... SELECT included. It takes ACCESS SHARE locks, so a table held by DDL
    makes it fail after lock_timeout: that candidate stays unverified, with the reason.
    Each EXPLAIN is one round trip (a multi-statement batch); a superuser's batch also sets
    ``pg_stat_statements.track = top`` locally, since an EXPLAIN counts as a 0 ms nested call
    of the statement and would drag its mean time down.

Queries: 3 (relations) + 2 (statements) + at most 1 (JIT plan cost) + 1 (columns of the
filtered tables) + at most 1 + :data:`MAX_VERIFY` (hypopg's schema, verifications), plus two
to clean up after a failed verification.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import errors as pgerrors
from psycopg import sql as psql
from psycopg.rows import dict_row

from pgcrisis.collect import sql
from pgcrisis.collect.probe import ProbeContext, probe
from pgcrisis.errors import ProbeUnavailable, first_line
from pgcrisis.model.relations import Relations, Table
from pgcrisis.model.statements import IndexAdvice, IndexAdviceSet, Statement, Statements
from pgcrisis.sqlparse import Predicate, Shape, SqlParseError, analyze, index_columns

NOT_INSTALLED = "pg_stat_statements is not installed in this database"
#: extra rows fetched so that leaving out monitoring statements still leaves max_statements
MARGIN = 50
#: EXPLAINs per triage: plan cost of the worst JIT statement, and index verifications
MAX_JIT_EXPLAINS = 1
MAX_VERIFY = 4
#: tables smaller than this are not worth an EXPLAIN (the check's threshold is far above)
VERIFY_MIN_PAGES = 100
_PLAN_NAMES = itertools.count(1)

_STATEMENT_FIELDS = frozenset(Statement.__dataclass_fields__)


# -- shared helpers -----------------------------------------------------------------------------

@lru_cache(maxsize=1024)
def _shape(text: str) -> Shape | None:
    """The parsed shape of a statement text, or None where pglast cannot parse it (e.g. a
    normalised ``interval $1``)."""
    try:
        return analyze(text)
    except SqlParseError:
        return None


def _is_monitoring(text: str) -> bool:
    """A utility statement, or one that reads only catalogs and statistics views."""
    shape = _shape(text)
    return shape is not None and (not shape.is_dml or not shape.reads_user_tables)


def _extension_schemas(ctx: ProbeContext) -> dict[str, str]:
    return {row["extname"]: row["schema"] for row in ctx.dicts("statements_extensions")}


def _composed_dicts(ctx: ProbeContext, name: str, version_num: int, params: Mapping[str, Any],
                    **identifiers: psql.Composable) -> list[dict[str, Any]]:
    """Run SQL file ``name`` with ``{placeholders}`` filled in by psycopg.sql."""
    query = psql.SQL(sql.query(name, version_num)).format(**identifiers)
    ctx.queries += 1
    with ctx.conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)
        return cur.fetchall()




@dataclass(frozen=True, slots=True)
class _Plans:
    """Costs of a statement's generic plan without and with a hypothetical index."""

    before: float
    after: float | None


def _explain(ctx: ProbeContext, text: str, params: int, index_ddl: str | None = None,
             hypopg_schema: str | None = None) -> _Plans:
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
    try:
        with ctx.conn.cursor() as cur:
            cur.execute(psql.SQL(";\n").join(parts))
            while True:
                if cur.statusmessage == "EXPLAIN":
                    row = cur.fetchone()
                    assert row is not None
                    costs.append(float(row[0][0]["Plan"]["Total Cost"]))
                if not cur.nextset():
                    break
    except psycopg.Error:
        _cleanup(ctx, names, hypopg_schema if index_ddl else None)
        raise
    return _Plans(costs[0], costs[1] if len(costs) > 1 else None)


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
        if _lost(ctx):
            raise


def _lost(ctx: ProbeContext) -> bool:
    """Whether the connection is gone (then the collector must hear of it); a lock or
    statement timeout, or a statement that cannot be planned, leaves it usable."""
    return ctx.conn.closed or ctx.conn.broken


def _unverified_reason(exc: psycopg.Error) -> str:
    if isinstance(exc, pgerrors.LockNotAvailable):
        return ("a table it reads is locked: planning it waited past lock_timeout "
                "(DDL or another strong lock holds it)")
    if isinstance(exc, pgerrors.QueryCanceled):
        return "planning it ran past statement_timeout"
    return f"the planner could not cost it: {first_line(exc)}"


# -- statements ---------------------------------------------------------------------------------

def _require_pgss(ctx: ProbeContext) -> None:
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
        shape = _shape(row.query)
        if shape is None or not shape.is_dml:
            continue
        try:
            costs[row.queryid] = _explain(ctx, row.query, shape.params).before
        except psycopg.Error:
            if _lost(ctx):
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


@probe("statements")
def statements(ctx: ProbeContext) -> Mapping[str, Any]:
    """The costliest statements of this database from pg_stat_statements."""
    _require_pgss(ctx)
    schema = _extension_schemas(ctx).get("pg_stat_statements")
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


# -- index advice -------------------------------------------------------------------------------

@dataclass
class _Candidate:
    """A candidate index for the costliest statement that wants it."""

    statement: Statement
    shape: Shape
    table: Table
    columns: tuple[str, ...]
    equality: int
    also: list[int] = field(default_factory=list)
    verified: bool = False
    cost_before: float | None = None
    cost_after: float | None = None
    note: str = ""

    def advice(self) -> IndexAdvice:
        return IndexAdvice(self.statement.queryid, self.table.oid, self.table.name,
                           self.columns, self.equality, self.verified, self.cost_before,
                           self.cost_after, self.note, tuple(self.also))


def _tables_named(shapes: Iterable[Shape], relations: Relations) -> set[int]:
    """Oids of every table a predicate may belong to."""
    oids: set[int] = set()
    for shape in shapes:
        for p in shape.predicates:
            for name in (p.table,) if p.table is not None else p.scope:
                table = relations.find(name.schema, name.name)
                if table is not None:
                    oids.add(table.oid)
    return oids


def _owner(p: Predicate, relations: Relations,
           columns: Mapping[int, frozenset[str]]) -> Table | None:
    """The table a predicate's column belongs to (for an unqualified column of a join: the
    only table in scope that has it)."""
    names = (p.table,) if p.table is not None else p.scope
    owners = []
    for name in names:
        table = relations.find(name.schema, name.name)
        if table is not None and p.column in columns.get(table.oid, frozenset()):
            owners.append(table)
    return owners[0] if len(owners) == 1 else None


def candidates(rows: Sequence[Statement], relations: Relations,
               columns: Mapping[int, frozenset[str]]) -> list[_Candidate]:
    """Candidate indexes for ``rows`` (costliest first), one per (table, columns)."""
    found: dict[tuple[int, tuple[str, ...]], _Candidate] = {}
    for row in rows:
        shape = _shape(row.query)
        if shape is None or not shape.predicates:
            continue
        per_table: dict[int, list[Predicate]] = {}
        for p in shape.predicates:
            table = _owner(p, relations, columns)
            if table is not None:
                per_table.setdefault(table.oid, []).append(p)
        for oid, preds in per_table.items():
            table = relations.table(oid)
            cols = index_columns(preds)
            if table is None or not cols or relations.usable_index(oid, cols) is not None:
                continue
            key = (oid, cols)
            if key in found:
                found[key].also.append(row.queryid)
                continue
            equality = len({p.column for p in preds if p.is_equality} & set(cols))
            found[key] = _Candidate(row, shape, table, cols, equality)
    return list(found.values())


def _columns_of(ctx: ProbeContext, oids: set[int]) -> dict[int, frozenset[str]]:
    if not oids:
        return {}
    return {row["table_oid"]: frozenset(row["columns"])
            for row in ctx.dicts("relations_columns", {"oids": sorted(oids)})}


def _index_ddl(ctx: ProbeContext, candidate: _Candidate) -> str:
    return psql.SQL("CREATE INDEX ON {} ({})").format(
        psql.Identifier(candidate.table.schema, candidate.table.relname),
        psql.SQL(", ").join(psql.Identifier(c) for c in candidate.columns),
    ).as_string(ctx.conn)


def _verify(ctx: ProbeContext, found: list[_Candidate]) -> int:
    """Verify the costliest candidates with hypopg; note why the others are not. Returns the
    number of EXPLAIN round trips spent."""
    hypopg = "hypopg" in ctx.server.extensions
    why_not = ("hypopg is not installed in this database" if not hypopg
               else "verification is turned off" if not ctx.options.verify_index_advice
               else "")
    schema: str | None = None  # where hypopg lives: read before the first verification
    spent = 0
    for cand in found:
        if why_not:
            cand.note = why_not
        elif cand.table.relpages < VERIFY_MIN_PAGES:
            cand.note = f"{cand.table.name} is small ({cand.table.relpages} pages): not verified"
        elif cand.table.seq_scan == 0:
            cand.note = f"{cand.table.name} has not been read sequentially: not verified"
        elif spent >= MAX_VERIFY:
            cand.note = f"only the {MAX_VERIFY} costliest candidates are verified per triage"
        else:
            if spent == 0:
                schema = _extension_schemas(ctx).get("hypopg")
            spent += 1
            try:
                plans = _explain(ctx, cand.statement.query, cand.shape.params,
                                 _index_ddl(ctx, cand), schema)
            except psycopg.Error as exc:
                if _lost(ctx):
                    raise
                cand.note = _unverified_reason(exc)
                continue
            cand.verified = plans.after is not None
            cand.cost_before, cand.cost_after = plans.before, plans.after
    return spent


@probe("index_advice")
def index_advice(ctx: ProbeContext) -> Mapping[str, Any]:
    """Candidate indexes for the costliest statements, verified with hypopg where possible."""
    if "statements" not in ctx.collected:
        _require_pgss(ctx)
        raise ProbeUnavailable("pg_stat_statements could not be read")
    if "relations" not in ctx.collected:
        raise ProbeUnavailable("the tables and indexes could not be read")
    rows: tuple[Statement, ...] = ctx.collected["statements"]["statements"].rows
    relations: Relations = ctx.collected["relations"]["relations"]
    shapes = [s for s in map(_shape, (r.query for r in rows)) if s is not None]
    columns = _columns_of(ctx, _tables_named(shapes, relations))
    found = candidates(rows, relations, columns)
    spent = _verify(ctx, found)
    return {"index_advice": IndexAdviceSet(tuple(c.advice() for c in found),
                                           "hypopg" in ctx.server.extensions, spent)}
