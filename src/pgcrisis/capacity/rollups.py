"""A recording's days, rolled up: what survives the detail's retention (years of history at a
few MiB). Computed from samples once, at write time, by one module (the recorder's rollup
step); a recording older than rollups gets them rebuilt from the samples it still has.

INTERFACE (filled by the rollups work): the models below are what the store gives back
(``Store.history``) and what forecasts, ``capacity`` and ``serve``'s Growth and fleet pages
read. Days are UTC days. A figure the recording could not measure that day is None, never 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True, slots=True)
class ServerDay:
    """One day of one server."""

    day: date
    #: samples rolled up, and the seconds they cover (a partial day says so)
    samples: int
    seconds: float
    #: all databases' bytes at the day's last sample; WAL bytes written during the day
    database_bytes: int | None = None
    wal_bytes: int | None = None
    commits: int | None = None
    rollbacks: int | None = None
    #: client connections: the day's peak and 95th percentile, against max_connections
    connections_peak: int | None = None
    connections_p95: float | None = None
    max_connections: int | None = None
    #: active sessions' 95th percentile; seconds sessions spent on CPU, I/O, locks (sampled)
    active_p95: float | None = None
    cpu_seconds: float | None = None
    io_seconds: float | None = None
    lock_seconds: float | None = None
    #: the oldest transaction-ID age (any database) at the day's end, and the setting
    xid_age: int | None = None
    autovacuum_freeze_max_age: int | None = None
    #: errors of the log counted that day (record --log), None when not followed
    errors: int | None = None
    #: minutes with at least one sample carrying a critical finding ("seized up")
    seized_minutes: int = 0


@dataclass(frozen=True, slots=True)
class TableDay:
    """One day of one table (``database`` "" for the recorded database's own)."""

    day: date
    database: str
    table: str
    bytes: int | None = None
    inserted: int | None = None
    updated: int | None = None
    deleted: int | None = None


@dataclass(frozen=True, slots=True)
class DatabaseDay:
    """One day of one database: its size and the rows its tables changed (the seed's "data
    changes per month" chart is the sum of these)."""

    day: date
    database: str
    bytes: int | None = None
    inserted: int | None = None
    updated: int | None = None
    deleted: int | None = None


@dataclass(frozen=True, slots=True)
class SequenceDay:
    """One day of a sequence or integer key: its value at the day's end and its limit (the
    largest value of its type, or of the column it feeds)."""

    day: date
    database: str
    name: str
    last_value: int
    max_value: int


@dataclass(frozen=True, slots=True)
class History:
    """A recording's rolled-up days, oldest first."""

    name: str
    server: tuple[ServerDay, ...] = ()
    databases: tuple[DatabaseDay, ...] = ()
    tables: tuple[TableDay, ...] = ()
    sequences: tuple[SequenceDay, ...] = ()
    #: what a reader should know (e.g. "rebuilt from samples on 2026-12-06")
    notes: tuple[str, ...] = field(default=())
