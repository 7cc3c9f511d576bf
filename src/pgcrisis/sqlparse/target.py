"""The table a statement writes or locks: what its sessions contend for (pure, pglast).

Many sessions queueing on the same rows, on a table's extension lock or on its last page run
the same statement; the table that statement writes (``INSERT INTO``, ``UPDATE``, ``DELETE
FROM``, ``MERGE INTO``) or locks rows of (``SELECT ... FOR UPDATE``/``FOR SHARE``: its first
table) is the contended thing a finding names. A plain query writes nothing: None.
"""

from __future__ import annotations

from typing import Any

import pglast
from pglast import ast

from pgcrisis.sqlparse.model import TableName

_WRITES = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)


def target_table(text: str) -> TableName | None:
    """The table ``text`` writes or locks rows of (None: it does neither, or it is not one
    statement pglast can parse).

    >>> str(target_table("INSERT INTO app.events (kind) VALUES ($1)"))
    'app.events'
    >>> str(target_table("WITH x AS (SELECT 1) UPDATE hot SET n = n + $1 WHERE id = $2"))
    'hot'
    >>> str(target_table("SELECT * FROM jobs j JOIN queues q USING (q) LIMIT 1 FOR UPDATE"))
    'jobs'
    >>> target_table("SELECT * FROM jobs") is None, target_table("not sql") is None
    (True, True)
    """
    try:
        parsed = pglast.parse_sql(text)
    except (pglast.parser.ParseError, UnicodeError):
        return None
    if len(parsed) != 1:
        return None
    stmt: Any = parsed[0].stmt
    if isinstance(stmt, _WRITES):
        return _name(stmt.relation)
    if isinstance(stmt, ast.SelectStmt) and stmt.lockingClause:
        return _first_table(stmt.fromClause or ())
    return None


def _name(node: Any) -> TableName | None:
    if not isinstance(node, ast.RangeVar) or not node.relname:
        return None
    return TableName(node.schemaname, node.relname)


def _first_table(items: Any) -> TableName | None:
    for item in items:
        if isinstance(item, ast.RangeVar):
            return _name(item)
        if isinstance(item, ast.JoinExpr):
            found = _first_table((item.larg, item.rarg))
            if found is not None:
                return found
    return None
