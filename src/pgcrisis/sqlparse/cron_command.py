"""Split a pg_cron job's command into statements and name what each refreshes or deletes.

pg_cron runs a command string the way ``psql -c`` would: every statement in it, in one
transaction, so a job refreshing three views keeps all three locked until the last is done.
pglast (PostgreSQL's own parser) reads the command; a command it cannot read is kept whole
and flagged, never guessed at.

Target names come back in two forms: ``lookup`` (every part double-quoted, safe to pass to
``to_regclass``) and ``shown`` (as a person would write it).

>>> [(s.kind, s.shown, s.concurrently) for s in parse_command(
...     "REFRESH MATERIALIZED VIEW mv_a; DELETE FROM public.audit_log WHERE processed").statements]
[('refresh', 'mv_a', False), ('delete', 'public.audit_log', False)]
"""

from __future__ import annotations

from dataclasses import dataclass

from pglast import ast, parse_sql
from pglast.parser import ParseError, split
from psycopg import sql

from pgcrisis.model.jobs import DELETE, OTHER, REFRESH


@dataclass(frozen=True, slots=True)
class ParsedStatement:
    """One statement of a command, with its target as written."""

    kind: str
    text: str
    lookup: str | None = None   # '"schema"."name"' or '"name"', for to_regclass
    shown: str | None = None    # 'schema.name' or 'name'
    concurrently: bool = False


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    """A command split into statements, or the parser's complaint."""

    statements: tuple[ParsedStatement, ...] = ()
    error: str | None = None


def _names(rel: ast.RangeVar) -> tuple[str, str]:
    """``lookup`` (every part quoted by psycopg: the name exactly as parsed) and ``shown``."""
    parts = [p for p in (rel.catalogname, rel.schemaname, rel.relname) if p]
    return sql.Identifier(*parts).as_string(None), ".".join(parts)


def _statement(text: str) -> ParsedStatement:
    stmt = parse_sql(text)[0].stmt
    if isinstance(stmt, ast.RefreshMatViewStmt) and stmt.relation is not None:
        lookup, shown = _names(stmt.relation)
        return ParsedStatement(REFRESH, text, lookup, shown, bool(stmt.concurrent))
    if isinstance(stmt, ast.DeleteStmt) and stmt.relation is not None:
        lookup, shown = _names(stmt.relation)
        return ParsedStatement(DELETE, text, lookup, shown)
    return ParsedStatement(OTHER, text)


def parse_command(command: str) -> ParsedCommand:
    """Split ``command`` into statements; a parse error is returned, not raised."""
    try:
        pieces = split(command)
        return ParsedCommand(tuple(_statement(p) for p in pieces if p.strip()))
    except ParseError as exc:
        return ParsedCommand(error=str(exc))
