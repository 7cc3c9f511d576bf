"""Typed evidence of missing-statistics (the records' base: :mod:`pgcrisis.model.evidence`)."""

from __future__ import annotations

from dataclasses import dataclass

from pgcrisis.model.evidence import Evidence


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class TableWithoutStatistics(Evidence):
    """One table the planner has no statistics for: what its counters show (since they were
    last reset), what the catalog says (``reltuples`` -1, or 0 with ``relpages`` 0 before
    PostgreSQL 14), and the statements that read it (``queryids``, costliest first)."""

    name: str
    rows: int
    rows_from: str
    live_rows: int
    seq_scan: int
    rows_per_seq_scan: int
    idx_scan: int
    rows_read: int
    changed_rows: int
    reltuples: float
    relpages: int
    autovacuum_analyzes_after: int | None
    queryids: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class MissingStatisticsEvidence(Evidence):
    """missing-statistics: the tables with no planner statistics, most used and largest first,
    their rows together, and the statements that read them (``statements_known`` false
    where pg_stat_statements could not be read)."""

    tables: tuple[TableWithoutStatistics, ...]
    rows: int
    queryids: tuple[int, ...]
    statements_known: bool
