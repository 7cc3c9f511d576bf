"""Tables, indexes and foreign keys, sized from relpages/reltuples (never pg_relation_size).

Owned by the relations probe (missing-index, fk-missing-index checks). Names are
schema-qualified with ``quote_ident`` rules (``public.orders``); ``schema`` and ``relname``
keep the raw parts for building DDL with :mod:`psycopg.sql`.

``relpages`` is 0 until the first VACUUM, ANALYZE or CREATE INDEX measures a table: a table
filled minutes ago (a bulk load, a migration, a restore) reads as 0 pages however large it
is. What is known of it then are its counters: the rows inserted and live, and the rows its
sequential scans read (:attr:`Table.size_unknown`, :attr:`Table.rows`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

#: Index access methods whose leading columns serve ``=`` lookups (and FK checks).
LOOKUP_METHODS = frozenset({"btree", "hash"})


@dataclass(frozen=True, slots=True)
class Table:
    """A user table (or partitioned table, or materialized view) with its scan counters.

    ``reltuples`` is never negative here (-1, "never measured", reads as 0); ``n_live_tup``,
    ``n_tup_ins`` and the scan counters are ``pg_stat_all_tables``', since its last reset.

    >>> loaded = Table(1, "public", "t", "public.t", "r", 0, 0.0, 4, 1_200, 0, 500, n_tup_ins=500)
    >>> loaded.size_unknown, loaded.rows
    (True, 500.0)
    >>> Table(1, "public", "t", "public.t", "r", 0, 0.0, 0, 0, 0, 0).size_unknown
    False
    """

    oid: int
    schema: str
    relname: str
    name: str  # schema-qualified
    relkind: str
    relpages: int
    reltuples: float
    seq_scan: int
    seq_tup_read: int
    idx_scan: int
    n_live_tup: int
    n_tup_upd: int = 0
    n_tup_del: int = 0
    n_tup_ins: int = 0
    idx_tup_fetch: int = 0

    @property
    def rows_per_seq_scan(self) -> float:
        """Rows read per sequential scan since the counters were reset (0: none). A lower
        bound of the table's rows: a parallel scan counts one scan per worker, each reading
        its share, and a scan stopped by a LIMIT reads less."""
        return self.seq_tup_read / self.seq_scan if self.seq_scan else 0.0

    @property
    def size_unknown(self) -> bool:
        """Never measured (``relpages`` 0) though its counters show rows in it: its size is
        unknown until ANALYZE (or VACUUM) measures it."""
        return self.relpages == 0 and (self.n_live_tup > 0 or self.seq_tup_read > 0)

    @property
    def rows(self) -> float:
        """Its rows: the planner's count where the table was measured, else what its counters
        show (live rows, or the rows a sequential scan read, whichever is more)."""
        if self.relpages > 0:
            return self.reltuples
        return float(max(self.n_live_tup, round(self.rows_per_seq_scan)))


@dataclass(frozen=True, slots=True)
class Index:
    """One index; ``columns`` are its key columns in order (None for an expression)."""

    oid: int
    table_oid: int
    schema: str
    relname: str
    name: str  # schema-qualified
    method: str
    columns: tuple[str | None, ...]
    valid: bool
    unique: bool
    primary: bool
    partial: bool
    relpages: int = 0
    idx_scan: int = 0

    @property
    def serves_lookups(self) -> bool:
        """Usable for ordinary lookups on its leading columns: valid, not partial, btree/hash."""
        return self.valid and not self.partial and self.method in LOOKUP_METHODS

    def leads_with(self, columns: Sequence[str]) -> bool:
        """Whether its first ``len(columns)`` key columns are ``columns``, in any order.

        >>> ix = Index(1, 2, "public", "i", "public.i", "btree", ("a", "b", None), True,
        ...            False, False, False)
        >>> ix.leads_with(["b", "a"]), ix.leads_with(["b"]), ix.leads_with(["a", "b", "c"])
        (True, False, False)
        """
        n = len(columns)
        return n > 0 and len(self.columns) >= n and set(self.columns[:n]) == set(columns)


@dataclass(frozen=True, slots=True)
class ForeignKey:
    """A foreign key: ``columns`` of ``table`` reference ``referenced_columns``."""

    oid: int
    name: str  # the constraint name
    table_oid: int
    table: str  # schema-qualified
    columns: tuple[str, ...]
    referenced_oid: int
    referenced_table: str  # schema-qualified
    referenced_columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Relations:
    """The relations part of a snapshot."""

    tables: tuple[Table, ...] = ()
    indexes: tuple[Index, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    # lookup tables built once (a server may have 10,000 tables and more indexes)
    _by_oid: Mapping[int, Table] = field(init=False, repr=False, compare=False)
    _by_table: Mapping[int, tuple[Index, ...]] = field(init=False, repr=False, compare=False)
    _by_relname: Mapping[str, tuple[Table, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_table: dict[int, list[Index]] = {}
        for ix in self.indexes:
            by_table.setdefault(ix.table_oid, []).append(ix)
        by_relname: dict[str, list[Table]] = {}
        for t in self.tables:
            by_relname.setdefault(t.relname, []).append(t)
        object.__setattr__(self, "_by_oid", {t.oid: t for t in self.tables})
        object.__setattr__(self, "_by_relname", {k: tuple(v) for k, v in by_relname.items()})
        object.__setattr__(self, "_by_table", {k: tuple(v) for k, v in by_table.items()})

    def table(self, oid: int) -> Table | None:
        """The table with this oid, if it was read."""
        return self._by_oid.get(oid)

    def find(self, schema: str | None, relname: str) -> Table | None:
        """The table a statement means by ``[schema.]relname``.

        An unqualified name resolves when exactly one schema has it, else to ``public``'s
        (the session's search_path is the application's, which pgcrisis does not know).
        """
        matches = [t for t in self._by_relname.get(relname, ())
                   if schema is None or t.schema == schema]
        if len(matches) == 1:
            return matches[0]
        public = [t for t in matches if t.schema == "public"]
        return public[0] if schema is None and len(public) == 1 else None

    def indexes_on(self, table_oid: int) -> tuple[Index, ...]:
        """Indexes of one table."""
        return self._by_table.get(table_oid, ())

    def lookup_index(self, table_oid: int, columns: Sequence[str]) -> Index | None:
        """An index that serves lookups on ``columns``: one leading with exactly them."""
        for ix in self.indexes_on(table_oid):
            if ix.serves_lookups and ix.leads_with(columns):
                return ix
        return None

    def usable_index(self, table_oid: int, columns: Sequence[str]) -> Index | None:
        """An index the planner can already use for a lookup on ``columns``: one whose
        first column is one of them (``columns[0]`` is the one a candidate index leads with)."""
        for ix in self.indexes_on(table_oid):
            if ix.serves_lookups and ix.columns and ix.columns[0] in columns:
                return ix
        return None

    def index_names(self, schema: str) -> frozenset[str]:
        """Relation names of the indexes in ``schema`` (to pick a free name for a new one)."""
        return frozenset(ix.relname for ix in self.indexes if ix.schema == schema)
