"""Typed evidence of the saturations (:mod:`pgcrisis.checks.load`: CPU and I/O;
:mod:`pgcrisis.checks.load_writes`, :mod:`pgcrisis.checks.load_results`,
:mod:`pgcrisis.checks.index_overhead`): records as :mod:`pgcrisis.model.evidence` defines them
(fields are the JSON's keys, in order), sharing its statement, client and relation shares."""

from __future__ import annotations

from dataclasses import dataclass

from pgcrisis.model.evidence import (
    ClientShare,
    Evidence,
    RelationShare,
    StatementShare,
    optional,
)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CpuSaturationEvidence(Evidence):
    """cpu-saturation: sessions on CPU against the cores, and who put them there."""

    on_cpu_sessions: float
    active_sessions: float
    cpus: int | None
    cpus_known_from: str
    times_cores: float | None
    sustained_share: float
    window_s: float
    samples: int
    statements: tuple[StatementShare, ...]
    clients: tuple[ClientShare, ...]
    not_seen: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class IoSaturationEvidence(Evidence):
    """io-saturation: sessions waiting on data-file I/O, what they read and who reads it."""

    data_io_sessions: float
    active_sessions: float
    io_share: float
    sustained_share: float
    window_s: float
    samples: int
    waits: dict[str, float]
    hit_ratio: float | None
    blks_read_per_s: float | None
    relations: tuple[RelationShare, ...]
    statements: tuple[StatementShare, ...]
    clients: tuple[ClientShare, ...]
    not_seen: tuple[str, ...]


# -- materialized views and jobs ----------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class RateLevel(Evidence):
    """A server-wide rate over the window beside its usual level (``usual_per_s`` None: not
    compared, and the finding's ``usual`` says why)."""

    name: str
    per_s: float
    usual_per_s: float | None
    times_usual: float | None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class WriteStormEvidence(Evidence):
    """write-storm: the sessions busy writing, the server's write rates against their usual
    level, checkpoints and backend writes, and who writes.

    ``because`` names what made it a storm (``sessions``: writers piled up, many of them
    waiting as writers do, ``write_wait_sessions``; ``wal``: WAL written at a storm's rate;
    beside either, ``usual``: rates far above their usual level). ``usual`` says
    over how long the usual levels were counted, or why they could not be compared.
    ``wal_from`` is where the window's WAL rate was read (the WAL position, pg_stat_wal);
    ``storm_wal_bytes_per_s`` the rate that is a storm by itself, ``storm_wal_how`` why.
    """

    because: tuple[str, ...]
    writing_sessions: float
    writing_measured_by: str
    write_wait_sessions: float
    active_sessions: float
    cpus: int | None
    sustained_share: float
    window_s: float
    samples: int
    rates: tuple[RateLevel, ...]
    usual: str
    wal_from: str | None
    storm_wal_bytes_per_s: int
    storm_wal_how: str
    waits: dict[str, float]
    checkpoints_requested: int | None
    checkpoints_timed: int | None
    requested_share_since_reset: float | None
    max_wal_size: str | None
    backend_writes_per_s: float | None
    backend_fsyncs_per_s: float | None
    statements: tuple[StatementShare, ...]
    clients: tuple[ClientShare, ...]
    not_seen: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LargeResultEvidence(Evidence):
    """large-result: one statement's rows and blocks per call against the others', its share
    of the time, what it costs the client and the network (bytes only where they can be
    estimated: ``bytes_how`` says how, or why not), and the table it fetches from."""

    queryid: int
    calls: float
    calls_per_s: float
    rows_per_call: float
    others_rows_per_call: float | None
    blks_per_call: float
    bytes_read_per_call: int
    exec_ms_per_call: float
    time_share: float
    sessions: float
    sessions_measured_by: str
    table: str | None
    table_rows: float | None
    table_share_per_call: float | None
    bytes_per_call: int | None
    bytes_per_s: int | None
    bytes_how: str
    window_s: float
    clients: tuple[ClientShare, ...]
    role: str | None = optional()
    not_seen: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class IndexOverheadEvidence(Evidence):
    """index-overhead: a table's writes over the window, the index entries they add, and its
    indexes nothing reads (idx_scan 0 since the statistics were reset, backing no
    constraint), with the statements that write it and the clients running them."""

    table: str
    window_s: float
    inserted_per_s: float
    updated_per_s: float
    hot_updated_per_s: float
    deleted_per_s: float
    index_entries_per_s: float
    indexes: int
    unused: tuple[str, ...]
    unused_entries_per_s: float
    unused_bytes: int
    statements: tuple[StatementShare, ...]
    clients: tuple[ClientShare, ...]
    not_seen: tuple[str, ...]
