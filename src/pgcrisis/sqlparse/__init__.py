"""Pure helpers over pglast: what a statement reads and which columns its predicates compare.

The package holds every SQL-text parser pgcrisis has, none of which talks to a server: this
module (statement shapes for index advice), :mod:`.cron_command` (what a pg_cron job's command
does) and :mod:`.matview_key` (a matview's grouping key).

Index advice starts from the text of a statement as pg_stat_statements keeps it (constants
replaced by ``$n``). :func:`analyze` parses it once and returns its :class:`Shape`: the kind of
statement, every table it names, the highest parameter number, and the *predicates* an index
could serve: a column compared with a value (a parameter, a constant, or any expression that
reads no column), by equality (``=``), membership (``IN (...)``, ``= ANY(...)``) or range
(``<``, ``<=``, ``>``, ``>=``, ``BETWEEN``). Only conditions every row must meet count (the
``AND`` branches of ``WHERE`` and ``JOIN ... ON``); an ``OR`` offers no single index.

Nothing here talks to a database: which table an unqualified name means, and whether an
index already exists, is for the caller to decide.

>>> shape = analyze("SELECT * FROM standing_order_items s "
...                 "WHERE s.customer_id = $1 AND active AND s.qty > $2")
>>> shape.kind, shape.params
('select', 2)
>>> [(str(p.table), p.column, p.op) for p in shape.predicates]
[('standing_order_items', 'customer_id', 'eq'), ('standing_order_items', 'qty', 'range')]
>>> index_columns(shape.predicates)
('customer_id', 'qty')
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from types import UnionType
from typing import Any

import pglast
from pglast import ast
from pglast.enums import A_Expr_Kind, BoolExprType, SetOperation

#: Statement node class names and the kind :func:`analyze` reports for them.
_KINDS = {
    "SelectStmt": "select", "InsertStmt": "insert", "UpdateStmt": "update",
    "DeleteStmt": "delete", "MergeStmt": "merge",
}
_EQUALITY = "="
_RANGE_OPS = frozenset({"<", "<=", ">", ">="})
#: Schemas whose tables are the system's own (monitoring queries read only these).
SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema"})


class SqlParseError(ValueError):
    """The text is not one statement pglast can parse."""


@dataclass(frozen=True, slots=True)
class TableName:
    """A table as a statement names it; ``schema`` is None when unqualified.

    >>> str(TableName("public", "orders")), str(TableName(None, "orders"))
    ('public.orders', 'orders')
    """

    schema: str | None
    name: str

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name

    @property
    def is_system(self) -> bool:
        """A catalog table or statistics view (what monitoring tools, pgcrisis too, read).

        >>> TableName(None, "pg_stat_statements").is_system, TableName("app", "x").is_system
        (True, False)
        """
        return (self.schema in SYSTEM_SCHEMAS or self.name.startswith("pg_")
                or (self.schema or "").startswith("pg_"))


@dataclass(frozen=True, slots=True)
class Predicate:
    """A column compared with a value; ``op`` is ``eq``, ``in`` or ``range``.

    ``table`` is None when the column is unqualified and several tables are in scope: then
    ``scope`` lists them and the caller picks the one that has the column.
    """

    column: str
    op: str
    table: TableName | None
    scope: tuple[TableName, ...] = ()

    @property
    def is_equality(self) -> bool:
        """Equality and membership both lead a btree index."""
        return self.op in ("eq", "in")


@dataclass(frozen=True, slots=True)
class Shape:
    """What :func:`analyze` found in one statement."""

    kind: str  # select | insert | update | delete | merge | utility
    tables: tuple[TableName, ...] = ()
    predicates: tuple[Predicate, ...] = ()
    params: int = 0  # the highest $n

    @property
    def is_dml(self) -> bool:
        """A query or data change (utility statements have no plan worth advising on)."""
        return self.kind != "utility"

    @property
    def reads_user_tables(self) -> bool:
        """Whether it names at least one table that is not a catalog or statistics view.

        >>> analyze("SELECT * FROM pg_stat_activity").reads_user_tables
        False
        """
        return any(not t.is_system for t in self.tables)


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
    params = max((p.number for p in _nodes_of(stmt, ast.ParamRef)), default=0)
    kind = _KINDS.get(type(stmt).__name__, "utility")
    if kind == "utility":
        return Shape(kind, params=params)
    walker = _Walker()
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


# -- the walker ---------------------------------------------------------------------------------

#: One FROM item as seen by column references: its alias or name, and the table behind it
#: (None for a subquery, a CTE or a function: columns of those are not a table's columns).
_Range = tuple[str, TableName | None]


def _slots(node: ast.Node) -> Iterable[str]:
    """The attribute names of a node (pglast declares them as the class's slots)."""
    slots: Iterable[str] = getattr(type(node), "__slots__", ())
    return slots


def _children(node: ast.Node) -> Iterator[ast.Node]:
    """The direct child nodes of ``node`` (through lists and tuples)."""
    for attr in _slots(node):
        yield from _flatten(getattr(node, attr, None))


def _flatten(value: Any) -> Iterator[ast.Node]:
    if isinstance(value, ast.Node):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _flatten(item)


def _nodes_of(node: ast.Node, cls: type[Any] | UnionType) -> Iterator[Any]:
    """Every node of class ``cls`` below (and including) ``node``."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cls):
            yield current
        stack.extend(_children(current))


def _has_column_ref(node: ast.Node) -> bool:
    return any(True for _ in _nodes_of(node, ast.ColumnRef | ast.SubLink))


def _is_value(node: Any) -> bool:
    """A parameter, a constant, or an expression that reads no column (``now() - $1``)."""
    return isinstance(node, ast.Node) and not _has_column_ref(node)


def _conjuncts(node: Any) -> Iterator[ast.Node]:
    """The AND branches of a condition (an OR is one opaque branch)."""
    if isinstance(node, ast.BoolExpr) and node.boolop == BoolExprType.AND_EXPR:
        for arg in node.args or ():
            yield from _conjuncts(arg)
    elif isinstance(node, ast.Node):
        yield node


@dataclass
class _Walker:
    """Walks statements scope by scope, collecting tables and predicates."""

    tables: list[TableName] = field(default_factory=list)
    predicates: list[Predicate] = field(default_factory=list)

    def statement(self, node: Any, outer: tuple[list[_Range], ...], ctes: frozenset[str]) -> None:
        """Walk any statement node: its own scope, then nested queries."""
        if isinstance(node, ast.SelectStmt):
            self.select(node, outer, ctes)
        elif isinstance(node, ast.InsertStmt):
            ctes = self.with_clause(node.withClause, outer, ctes)
            self.range_var(node.relation, ctes)
            if node.selectStmt is not None:
                self.statement(node.selectStmt, outer, ctes)
        elif isinstance(node, ast.UpdateStmt | ast.DeleteStmt | ast.MergeStmt):
            ctes = self.with_clause(node.withClause, outer, ctes)
            scope: list[_Range] = []
            target = self.range_var(node.relation, ctes)
            if target is not None:
                scope.append(target)
            extra = (getattr(node, "fromClause", None) or getattr(node, "usingClause", None)
                     or ([node.sourceRelation] if isinstance(node, ast.MergeStmt) else []))
            scopes = (scope, *outer)
            for item in extra or ():
                self.from_item(item, scope, scopes, ctes)
            condition = (node.joinCondition if isinstance(node, ast.MergeStmt)
                         else node.whereClause)
            self.condition(condition, scopes, ctes)
            self.sublinks_in(node, scopes, ctes, skip=(
                "relation", "whereClause", "joinCondition", "withClause", "fromClause",
                "usingClause", "sourceRelation"))

    def with_clause(self, clause: Any, outer: tuple[list[_Range], ...],
                    ctes: frozenset[str]) -> frozenset[str]:
        """Walk the CTEs and return the names now in scope."""
        if clause is None:
            return ctes
        names = ctes | {cte.ctename for cte in clause.ctes or ()}
        for cte in clause.ctes or ():
            self.statement(cte.ctequery, outer, names)
        return names

    def select(self, node: ast.SelectStmt, outer: tuple[list[_Range], ...],
               ctes: frozenset[str]) -> None:
        ctes = self.with_clause(node.withClause, outer, ctes)
        if node.op != SetOperation.SETOP_NONE:
            self.statement(node.larg, outer, ctes)
            self.statement(node.rarg, outer, ctes)
            return
        scope: list[_Range] = []
        scopes = (scope, *outer)
        for item in node.fromClause or ():
            self.from_item(item, scope, scopes, ctes)
        self.condition(node.whereClause, scopes, ctes)
        self.sublinks_in(node, scopes, ctes, skip=("fromClause", "whereClause", "withClause",
                                                    "larg", "rarg"))

    def range_var(self, node: Any, ctes: frozenset[str]) -> _Range | None:
        """Record a named table; a CTE reference is a range without a table."""
        if not isinstance(node, ast.RangeVar):
            return None
        relname = node.relname or ""
        key = (node.alias.aliasname if node.alias is not None else None) or relname
        if node.schemaname is None and relname in ctes:
            return (key, None)
        renamed = node.alias is not None and bool(node.alias.colnames)
        table = TableName(node.schemaname, relname)
        self.tables.append(table)
        # ``t AS x(a, b)`` renames columns: x.a is not t's column a
        return (key, None if renamed else table)

    def from_item(self, item: Any, scope: list[_Range], scopes: tuple[list[_Range], ...],
                  ctes: frozenset[str]) -> None:
        if isinstance(item, ast.RangeVar):
            found = self.range_var(item, ctes)
            if found is not None:
                scope.append(found)
        elif isinstance(item, ast.JoinExpr):
            self.from_item(item.larg, scope, scopes, ctes)
            self.from_item(item.rarg, scope, scopes, ctes)
            self.condition(item.quals, scopes, ctes)
        elif isinstance(item, ast.RangeSubselect):
            # LATERAL subqueries may refer to earlier items: give them the scope so far
            inner_outer = scopes if item.lateral else scopes[1:]
            self.statement(item.subquery, inner_outer, ctes)
            if item.alias is not None:
                scope.append((item.alias.aliasname or "", None))
        elif isinstance(item, ast.RangeFunction):
            if item.alias is not None:
                scope.append((item.alias.aliasname or "", None))
            self.sublinks_in(item, scopes, ctes)

    def condition(self, node: Any, scopes: tuple[list[_Range], ...],
                  ctes: frozenset[str]) -> None:
        """Record indexable predicates of a condition; walk subqueries inside it."""
        if node is None:
            return
        for conjunct in _conjuncts(node):
            found = self.predicate(conjunct)
            if found is not None:
                column, op = found
                predicate = self.resolve(column, op, scopes)
                if predicate is not None:
                    self.predicates.append(predicate)
        self.sublinks_in(node, scopes, ctes, include_self=True)

    @staticmethod
    def predicate(node: ast.Node) -> tuple[ast.ColumnRef, str] | None:
        """``(column, op)`` when ``node`` compares a plain column with a value."""
        if not isinstance(node, ast.A_Expr):
            return None
        op = node.name[-1].sval if node.name else ""
        left, right = node.lexpr, node.rexpr
        if node.kind == A_Expr_Kind.AEXPR_OP and (op == _EQUALITY or op in _RANGE_OPS):
            kind = "eq" if op == _EQUALITY else "range"
            if isinstance(left, ast.ColumnRef) and _is_value(right):
                return left, kind
            if isinstance(right, ast.ColumnRef) and _is_value(left):
                return right, kind
            return None
        if not isinstance(left, ast.ColumnRef):
            return None
        values = right if isinstance(right, tuple | list) else (right,)
        if not all(_is_value(v) for v in values):
            return None
        if node.kind == A_Expr_Kind.AEXPR_IN and op == _EQUALITY:
            return left, "in"
        if node.kind == A_Expr_Kind.AEXPR_OP_ANY and op == _EQUALITY:
            return left, "in"
        if node.kind in (A_Expr_Kind.AEXPR_BETWEEN, A_Expr_Kind.AEXPR_BETWEEN_SYM):
            return left, "range"
        return None

    @staticmethod
    def resolve(ref: ast.ColumnRef, op: str,
                scopes: tuple[list[_Range], ...]) -> Predicate | None:
        """Which table a column reference belongs to, searching inner scopes first."""
        fields = ref.fields or ()
        names = [f.sval or "" for f in fields if isinstance(f, ast.String)]
        if len(names) != len(fields) or not names:
            return None  # a * or a subscript
        column = names[-1]
        if len(names) == 1:
            for scope in scopes:
                if not scope:
                    continue
                if len(scope) == 1:
                    table = scope[0][1]
                    return Predicate(column, op, table) if table is not None else None
                candidates = tuple(t for _, t in scope if t is not None)
                return Predicate(column, op, None, candidates) if candidates else None
            return None
        qualifier = names[-2]
        schema = names[-3] if len(names) >= 3 else None
        for scope in scopes:
            for key, table in scope:
                if table is None:
                    if key == qualifier and schema is None:
                        return None  # a column of a subquery or CTE
                    continue
                if key == qualifier and (schema is None or table.schema == schema):
                    return Predicate(column, op, table)
        return None

    def sublinks_in(self, node: Any, scopes: tuple[list[_Range], ...], ctes: frozenset[str],
                    skip: tuple[str, ...] = (), include_self: bool = False) -> None:
        """Walk every subquery (``EXISTS``, ``IN (SELECT ...)``, scalar) under ``node``."""
        if include_self and isinstance(node, ast.SubLink):
            self.statement(node.subselect, scopes, ctes)
            return
        stack: list[ast.Node] = []
        for attr in _slots(node):
            if attr not in skip:
                stack.extend(_flatten(getattr(node, attr, None)))
        while stack:
            current = stack.pop()
            if isinstance(current, ast.SubLink):
                self.statement(current.subselect, scopes, ctes)
                if current.testexpr is not None:
                    stack.append(current.testexpr)
            elif isinstance(current, ast.SelectStmt | ast.InsertStmt | ast.UpdateStmt
                            | ast.DeleteStmt):
                self.statement(current, scopes, ctes)
            else:
                stack.extend(_children(current))
