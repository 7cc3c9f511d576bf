"""Tables, indexes and foreign keys, sized from relpages/reltuples (never pg_relation_size).

Owned by the relations probe (missing-index, fk-missing-index checks).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Table:
    """A user table with the statistics the checks need."""

    oid: int
    name: str  # schema-qualified
    relpages: int
    reltuples: float
    seq_scan: int
    seq_tup_read: int
    idx_scan: int
    n_live_tup: int


@dataclass(frozen=True, slots=True)
class Relations:
    """The relations part of a snapshot."""

    tables: tuple[Table, ...] = ()
