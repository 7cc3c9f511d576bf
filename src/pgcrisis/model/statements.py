"""Statements from pg_stat_statements and index advice derived from them.

Owned by the statements/indexes probes (jit-overhead, missing-index checks).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Statement:
    """One pg_stat_statements row of the current database (times in ms)."""

    queryid: int
    query: str
    role: str | None
    calls: int
    total_exec_ms: float
    mean_exec_ms: float
    rows: int
    shared_blks_hit: int
    shared_blks_read: int
    jit_functions: int = 0
    jit_generation_ms: float = 0.0
    jit_inlining_ms: float = 0.0
    jit_optimization_ms: float = 0.0
    jit_emission_ms: float = 0.0
    total_plan_ms: float = 0.0

    @property
    def jit_ms(self) -> float:
        """All JIT time summed over calls."""
        return (self.jit_generation_ms + self.jit_inlining_ms + self.jit_optimization_ms
                + self.jit_emission_ms)


@dataclass(frozen=True, slots=True)
class Statements:
    """The pg_stat_statements part of a snapshot."""

    rows: tuple[Statement, ...] = ()
    has_jit_columns: bool = False


@dataclass(frozen=True, slots=True)
class IndexAdvice:
    """A candidate index for a statement, verified with hypopg when possible."""

    queryid: int
    table: str
    columns: tuple[str, ...]
    verified: bool
    cost_before: float | None = None
    cost_after: float | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class IndexAdviceSet:
    """The index-advice part of a snapshot."""

    advice: tuple[IndexAdvice, ...] = ()
