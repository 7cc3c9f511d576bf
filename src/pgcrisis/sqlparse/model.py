"""What :func:`pgcrisis.sqlparse.analyze` finds in a statement: tables as named, predicates an
index could serve, and the statement's :class:`Shape`."""

from __future__ import annotations

from dataclasses import dataclass

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

        >>> Shape("select", (TableName(None, "pg_stat_activity"),)).reads_user_tables
        False
        """
        return any(not t.is_system for t in self.tables)
