"""The scope walker behind :func:`pgcrisis.sqlparse.analyze`: every table a statement names
and every predicate an index could serve, each column resolved to its table scope by scope
(a subquery's, a CTE's, a LATERAL item's, the statement's own)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pglast import ast
from pglast.enums import A_Expr_Kind, SetOperation

from pgcrisis.sqlparse._tree import children, conjuncts, flatten, is_value, slots
from pgcrisis.sqlparse.model import Predicate, TableName

_EQUALITY = "="
_RANGE_OPS = frozenset({"<", "<=", ">", ">="})

#: One FROM item as seen by column references: its alias or name, and the table behind it
#: (None for a subquery, a CTE or a function: columns of those are not a table's columns).
_Range = tuple[str, TableName | None]


@dataclass
class Walker:
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
        for conjunct in conjuncts(node):
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
            if isinstance(left, ast.ColumnRef) and is_value(right):
                return left, kind
            if isinstance(right, ast.ColumnRef) and is_value(left):
                return right, kind
            return None
        if not isinstance(left, ast.ColumnRef):
            return None
        values = right if isinstance(right, tuple | list) else (right,)
        if not all(is_value(v) for v in values):
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
        for attr in slots(node):
            if attr not in skip:
                stack.extend(flatten(getattr(node, attr, None)))
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
                stack.extend(children(current))
