"""Pure helpers over pglast: what a statement reads and which columns its predicates compare.

The package holds every SQL-text parser pgcrisis has, none of which talks to a server:
:mod:`.statement` (statement shapes for index advice: :func:`analyze`, :func:`index_columns`),
its :mod:`.model` (:class:`Shape`, :class:`TableName`, :class:`Predicate`), walked by
:mod:`._walker` over pglast's trees (:mod:`._tree`); :mod:`.cron_command` (what a pg_cron
job's command does), :mod:`.matview_key` (a matview's grouping key) and :mod:`.target` (the
table a statement writes, which contending sessions queue on).

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

from pgcrisis.sqlparse.model import SYSTEM_SCHEMAS, Predicate, Shape, SqlParseError, TableName
from pgcrisis.sqlparse.statement import analyze, index_columns
from pgcrisis.sqlparse.target import target_table

__all__ = ["SYSTEM_SCHEMAS", "Predicate", "Shape", "SqlParseError", "TableName", "analyze",
           "index_columns", "target_table"]
