"""Infer a materialized view's row key from its definition, for the unique index that
``REFRESH ... CONCURRENTLY`` needs.

A view whose top-level query groups by some output columns (``GROUP BY``), or selects
``DISTINCT`` / ``DISTINCT ON`` them, has exactly one row per value of those columns: they are
a unique key by construction. Grouping sets, set operations and grouped expressions that are
not output under a name give no key (``()``).

>>> group_key("SELECT o.customer_id, count(*) AS n FROM orders o GROUP BY o.customer_id")
('customer_id',)
>>> group_key("SELECT region, day, sum(x) AS s FROM t GROUP BY 1, 2")
('region', 'day')
>>> group_key("SELECT a FROM t UNION SELECT b FROM u")
()
"""

from __future__ import annotations

from pglast import ast, parse_sql
from pglast.enums.parsenodes import SetOperation
from pglast.parser import ParseError
from pglast.stream import RawStream


def _output_name(target: ast.ResTarget) -> str | None:
    if target.name:
        return str(target.name)
    if isinstance(target.val, ast.ColumnRef) and target.val.fields:
        last = target.val.fields[-1]
        if isinstance(last, ast.String):
            return str(last.sval)
    return None


def _key(items: tuple[ast.Node, ...], targets: tuple[ast.ResTarget, ...]) -> tuple[str, ...]:
    shown = [RawStream()(t.val) if t.val is not None else "" for t in targets]
    names: list[str] = []
    for item in items:
        if isinstance(item, ast.A_Const) and isinstance(item.val, ast.Integer):
            position = int(item.val.ival or 0) - 1
            if not 0 <= position < len(targets):
                return ()
        else:
            text = RawStream()(item)
            if text not in shown:
                return ()
            position = shown.index(text)
        name = _output_name(targets[position])
        if name is None:
            return ()
        if name not in names:
            names.append(name)
    return tuple(names)


def group_key(definition: str) -> tuple[str, ...]:
    """The output columns that identify a row of a view defined by ``definition``, or ``()``."""
    try:
        stmt = parse_sql(definition)[0].stmt
    except ParseError:
        return ()
    if (not isinstance(stmt, ast.SelectStmt) or stmt.op != SetOperation.SETOP_NONE
            or not stmt.targetList):
        return ()
    targets = tuple(t for t in stmt.targetList if isinstance(t, ast.ResTarget))
    if len(targets) != len(stmt.targetList):
        return ()
    if stmt.distinctClause:
        if stmt.distinctClause == (None,):  # plain DISTINCT: the whole output row
            names = tuple(_output_name(t) for t in targets)
            return () if None in names else tuple(n for n in names if n is not None)
        return _key(tuple(stmt.distinctClause), targets)
    if stmt.groupClause:
        if any(isinstance(g, ast.GroupingSet) for g in stmt.groupClause):
            return ()
        return _key(tuple(stmt.groupClause), targets)
    return ()
