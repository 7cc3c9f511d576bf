"""Statements from pg_stat_statements and index advice derived from them.

Owned by the statements probe (jit-overhead, missing-index checks). Times are milliseconds,
summed over every row pg_stat_statements keeps for one queryid in the current database (one
per role and per top-level/nested execution).
"""

from __future__ import annotations

from dataclasses import dataclass

from pgcrisis import shorten


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement of the current database, as pg_stat_statements saw it (times in ms).

    ``plan_cost`` is the planner's total cost of its generic plan when the probe looked
    (for JIT-compiled statements: ``jit_above_cost`` must exceed it to keep JIT away).
    """

    queryid: int
    query: str
    role: str | None
    calls: int
    total_exec_ms: float
    mean_exec_ms: float
    rows: int
    shared_blks_hit: int
    shared_blks_read: int
    toplevel: bool = True
    jit_functions: int = 0
    jit_generation_ms: float = 0.0
    jit_inlining_ms: float = 0.0
    jit_optimization_ms: float = 0.0
    jit_emission_ms: float = 0.0
    total_plan_ms: float = 0.0
    plan_cost: float | None = None

    @property
    def label(self) -> str:
        """How a finding names the statement: its text first (one line, cut to 60
        characters), its queryid beside it.

        >>> Statement(42, "SELECT *\\n  FROM orders", None, 1, 1.0, 1.0, 1, 0, 0).label
        'SELECT * FROM orders (query 42)'
        """
        return f"{shorten.query(self.query, 60)} (query {self.queryid})"

    @property
    def jit_ms(self) -> float:
        """All JIT time summed over calls."""
        return (self.jit_generation_ms + self.jit_inlining_ms + self.jit_optimization_ms
                + self.jit_emission_ms)

    @property
    def jit_share(self) -> float:
        """JIT time as a share of execution time (JIT runs inside execution)."""
        return self.jit_ms / self.total_exec_ms if self.total_exec_ms > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Statements:
    """The pg_stat_statements part of a snapshot.

    ``rows`` are the costliest statements by total execution time, without monitoring
    queries (pgcrisis's own among them: statements that read only catalogs and statistics
    views, and utility statements). ``db_total_exec_ms`` is the execution time of every
    top-level statement of the database, to put one statement's time in proportion.
    """

    rows: tuple[Statement, ...] = ()
    has_jit_columns: bool = False
    db_total_exec_ms: float = 0.0
    excluded: int = 0  # monitoring and utility statements left out of ``rows``

    def by_queryid(self, queryid: int) -> Statement | None:
        """The statement with this queryid, if it is among ``rows``."""
        for row in self.rows:
            if row.queryid == queryid:
                return row
        return None


@dataclass(frozen=True, slots=True)
class IndexAdvice:
    """A candidate index for a statement that filters a table on ``columns``.

    ``equality_columns`` leading columns are compared with ``=``/``IN``; a last one may be a
    range. ``verified`` means hypopg and the planner agreed to cost the statement with and
    without the index (``cost_before``/``cost_after``); ``note`` says why not otherwise.
    ``also_queryids`` are other statements that would use the same index. ``planner_rows`` is
    how many rows the planner expected the statement's generic plan to return without the
    index (verified only): on a table never analyzed, a guess from default selectivities
    that the rows it really returned per call (pg_stat_statements) can be set against.
    """

    queryid: int
    table_oid: int
    table: str  # schema-qualified
    columns: tuple[str, ...]
    equality_columns: int
    verified: bool
    cost_before: float | None = None
    cost_after: float | None = None
    note: str = ""
    also_queryids: tuple[int, ...] = ()
    planner_rows: float | None = None

    @property
    def gain(self) -> float | None:
        """How many times cheaper the statement plans with the index (verified only)."""
        if not self.verified or not self.cost_before or not self.cost_after:
            return None
        return self.cost_before / self.cost_after


@dataclass(frozen=True, slots=True)
class StatementReads:
    """The user tables a statement's text names (by oid), resolved as index advice resolves
    them: what tells which statements read a table (missing-statistics names them)."""

    queryid: int
    table_oids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class IndexAdviceSet:
    """The index-advice part of a snapshot; ``explains`` counts the EXPLAINs it cost.
    ``reads`` lists, for each statement the probe parsed, the tables it names."""

    advice: tuple[IndexAdvice, ...] = ()
    hypopg: bool = False
    explains: int = 0
    reads: tuple[StatementReads, ...] = ()

    def reading(self, table_oid: int) -> tuple[int, ...]:
        """The queryids of the statements that name the table, costliest first."""
        return tuple(r.queryid for r in self.reads if table_oid in r.table_oids)
