"""Index advice (missing-index): candidate indexes for the costliest statements, verified
with hypopg where it is installed.

For the statements the statements probe read (it runs first, and ``relations`` before it),
the columns their predicates compare with values (see :mod:`pgcrisis.sqlparse`), per table,
equality columns first: a candidate index where no valid btree/hash index of the table
already leads with one of them. Where hypopg is installed in the database, the candidates of
the costliest statements (at most :data:`MAX_VERIFY`, on tables read sequentially) are
verified: the planner costs the statement's generic plan before and after a hypothetical
index (:mod:`.generic_plan`), and says how many rows it expected without it. A table held by
DDL makes that fail after lock_timeout: the candidate stays unverified, with the reason.

A table filled minutes ago and never analyzed reads as 0 pages (``relpages``); it is judged
by what its counters show (:attr:`~pgcrisis.model.relations.Table.rows`). The planner still
costs it from the table's real size on disk, but without column statistics it guesses how
many rows a predicate matches: the check sets that guess (``planner_rows``) against the rows
the statement really returned.

Every statement's tables are recorded too (``reads``: which statements read a table).

Queries: 1 (columns of the filtered tables) + at most 1 + :data:`MAX_VERIFY` (hypopg's
schema, verifications), plus two to clean up after a failed verification.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql as psql

from pgcrisis.collect.generic_plan import (
    explain,
    extension_schemas,
    lost,
    parse_shape,
    unverified_reason,
)
from pgcrisis.collect.probe import ProbeContext, probe
from pgcrisis.collect.probe_statements import require_pgss
from pgcrisis.errors import ProbeUnavailable
from pgcrisis.model.parts import INDEX_ADVICE
from pgcrisis.model.relations import Relations, Table
from pgcrisis.model.statements import IndexAdvice, IndexAdviceSet, Statement, StatementReads
from pgcrisis.sqlparse import Predicate, Shape, index_columns

#: index verifications per triage (each one EXPLAIN round trip)
MAX_VERIFY = 4
#: tables smaller than this are not worth an EXPLAIN (the check's threshold is far above)
VERIFY_MIN_PAGES = 100
#: the same for a table never measured (relpages 0), by the rows its counters show
VERIFY_MIN_ROWS = 10_000


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
    planner_rows: float | None = None

    def advice(self) -> IndexAdvice:
        return IndexAdvice(self.statement.queryid, self.table.oid, self.table.name,
                           self.columns, self.equality, self.verified, self.cost_before,
                           self.cost_after, self.note, tuple(self.also), self.planner_rows)


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
        shape = parse_shape(row.query)
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


def reads(rows: Sequence[Statement], relations: Relations) -> tuple[StatementReads, ...]:
    """The user tables each statement names (those pglast can parse), in ``rows``' order."""
    out = []
    for row in rows:
        shape = parse_shape(row.query)
        if shape is None:
            continue
        oids = set()
        for name in shape.tables:
            table = relations.find(name.schema, name.name)
            if table is not None:
                oids.add(table.oid)
        if oids:
            out.append(StatementReads(row.queryid, tuple(sorted(oids))))
    return tuple(out)


def _too_small(table: Table) -> str:
    """Why a candidate's table is too small to verify ('' if it is not)."""
    if table.size_unknown:
        if table.rows >= VERIFY_MIN_ROWS:
            return ""
        return f"{table.name} is small (~{table.rows:,.0f} rows, never measured): not verified"
    if table.relpages >= VERIFY_MIN_PAGES:
        return ""
    return f"{table.name} is small ({table.relpages} pages): not verified"


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
        elif _too_small(cand.table):
            cand.note = _too_small(cand.table)
        elif cand.table.seq_scan == 0:
            cand.note = f"{cand.table.name} has not been read sequentially: not verified"
        elif spent >= MAX_VERIFY:
            cand.note = f"only the {MAX_VERIFY} costliest candidates are verified per triage"
        else:
            if spent == 0:
                schema = extension_schemas(ctx).get("hypopg")
            spent += 1
            try:
                plans = explain(ctx, cand.statement.query, cand.shape.params,
                                 _index_ddl(ctx, cand), schema)
            except psycopg.Error as exc:
                if lost(ctx):
                    raise
                cand.note = unverified_reason(exc)
                continue
            cand.verified = plans.after is not None
            cand.cost_before, cand.cost_after = plans.before, plans.after
            cand.planner_rows = plans.before_rows
    return spent


@probe(INDEX_ADVICE)
def index_advice(ctx: ProbeContext) -> Mapping[str, Any]:
    """Candidate indexes for the costliest statements, verified with hypopg where possible."""
    if "statements" not in ctx.collected:
        require_pgss(ctx)
        raise ProbeUnavailable("pg_stat_statements could not be read")
    if "relations" not in ctx.collected:
        raise ProbeUnavailable("the tables and indexes could not be read")
    rows: tuple[Statement, ...] = ctx.collected["statements"]["statements"].rows
    relations: Relations = ctx.collected["relations"]["relations"]
    shapes = [s for s in map(parse_shape, (r.query for r in rows)) if s is not None]
    columns = _columns_of(ctx, _tables_named(shapes, relations))
    found = candidates(rows, relations, columns)
    spent = _verify(ctx, found)
    return {"index_advice": IndexAdviceSet(tuple(c.advice() for c in found),
                                           "hypopg" in ctx.server.extensions, spent,
                                           reads(rows, relations))}
