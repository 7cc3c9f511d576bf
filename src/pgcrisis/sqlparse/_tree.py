"""Walking pglast's parse trees: a node's children, the nodes of a class below it, the AND
branches of a condition, and whether an expression is a value (reads no column)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from types import UnionType
from typing import Any

from pglast import ast
from pglast.enums import BoolExprType


def slots(node: ast.Node) -> Iterable[str]:
    """The attribute names of a node (pglast declares them as the class's slots)."""
    names: Iterable[str] = getattr(type(node), "__slots__", ())
    return names


def children(node: ast.Node) -> Iterator[ast.Node]:
    """The direct child nodes of ``node`` (through lists and tuples)."""
    for attr in slots(node):
        yield from flatten(getattr(node, attr, None))


def flatten(value: Any) -> Iterator[ast.Node]:
    """``value`` itself when a node, else every node in it (lists and tuples, at any depth)."""
    if isinstance(value, ast.Node):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from flatten(item)


def nodes_of(node: ast.Node, cls: type[Any] | UnionType) -> Iterator[Any]:
    """Every node of class ``cls`` below (and including) ``node``."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cls):
            yield current
        stack.extend(children(current))


def has_column_ref(node: ast.Node) -> bool:
    """Whether ``node`` reads a column (a column reference, or a subquery that may)."""
    return any(True for _ in nodes_of(node, ast.ColumnRef | ast.SubLink))


def is_value(node: Any) -> bool:
    """A parameter, a constant, or an expression that reads no column (``now() - $1``)."""
    return isinstance(node, ast.Node) and not has_column_ref(node)


def conjuncts(node: Any) -> Iterator[ast.Node]:
    """The AND branches of a condition (an OR is one opaque branch)."""
    if isinstance(node, ast.BoolExpr) and node.boolop == BoolExprType.AND_EXPR:
        for arg in node.args or ():
            yield from conjuncts(arg)
    elif isinstance(node, ast.Node):
        yield node
