"""One statement, parsed once: its :class:`~pgcrisis.sqlparse.model.Shape` (:func:`analyze`),
and the btree index its predicates call for (:func:`index_columns`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pglast
from pglast import ast

from pgcrisis.sqlparse._tree import nodes_of
from pgcrisis.sqlparse._walker import Walker
from pgcrisis.sqlparse.model import Predicate, Shape, SqlParseError

#: Statement node class names and the kind :func:`analyze` reports for them.
_KINDS = {
    "SelectStmt": "select", "InsertStmt": "insert", "UpdateStmt": "update",
    "DeleteStmt": "delete", "MergeStmt": "merge",
}


def analyze(text: str) -> Shape:
    """Parse one statement and describe it (raise :class:`SqlParseError` if it is not one).

    >>> analyze("SHOW work_mem").kind
    'utility'
    >>> shape = analyze("UPDATE orders SET total = (SELECT sum(price) FROM order_items i "
    ...                 "WHERE i.order_id = $1) WHERE id = $2")
    >>> [(str(p.table), p.column) for p in shape.predicates]
    [('orders', 'id'), ('order_items', 'order_id')]
    """
    try:
        parsed = pglast.parse_sql(text)
    except (pglast.parser.ParseError, UnicodeError) as exc:
        raise SqlParseError(str(exc)) from None
    if len(parsed) != 1:
        raise SqlParseError(f"expected one statement, found {len(parsed)}")
    stmt: Any = parsed[0].stmt
    params = max((p.number for p in nodes_of(stmt, ast.ParamRef)), default=0)
    kind = _KINDS.get(type(stmt).__name__, "utility")
    if kind == "utility":
        return Shape(kind, params=params)
    walker = Walker()
    walker.statement(stmt, (), frozenset())
    return Shape(kind, tuple(dict.fromkeys(walker.tables)),
                 tuple(dict.fromkeys(walker.predicates)), params)


def index_columns(predicates: Iterable[Predicate], max_equality: int = 3) -> tuple[str, ...]:
    """Columns of a btree index for these predicates (all on one table): equality first.

    Up to ``max_equality`` equality/membership columns in the order the statement names them,
    then one range column (a btree index uses only the first range column efficiently).

    >>> ps = [Predicate("created_at", "range", None), Predicate("customer_id", "eq", None),
    ...       Predicate("status", "in", None), Predicate("customer_id", "eq", None)]
    >>> index_columns(ps)
    ('customer_id', 'status', 'created_at')
    >>> index_columns([Predicate("a", "range", None), Predicate("b", "range", None)])
    ('a',)
    """
    preds = list(predicates)
    equality = list(dict.fromkeys(p.column for p in preds if p.is_equality))[:max_equality]
    ranges = [p.column for p in preds if not p.is_equality and p.column not in equality]
    return tuple(equality + ranges[:1])
