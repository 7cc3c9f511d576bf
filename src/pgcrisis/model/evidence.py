"""Typed evidence: a record per finding code whose evidence some code reads.

The playbook, grouping and the demo read a finding's figures; they read them as attributes of
a frozen record (``ev.waiters``), never as ``finding.evidence.get("waiters", 0)``. Each record
is also the mapping the triage contract and the renderers read: its fields are the JSON's
keys, in the same order, with the same values (a tuple reads as a list; a field made with
:func:`optional` is left out while it is None), so the JSON is what it was. A finding whose
evidence nobody reads keeps a plain mapping. Families that outgrow this module have their
own beside it (:mod:`.evidence_statistics`, :mod:`.evidence_contention`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from pgcrisis.model.findings import JsonValue

_OMIT = "omit when None"


def optional() -> Any:
    """A field the JSON leaves out while it is None."""
    return field(default=None, metadata={_OMIT: True})


def _json(value: Any) -> JsonValue:
    if isinstance(value, tuple):
        return [_json(v) for v in value]
    if isinstance(value, Evidence):  # a record inside a record: its JSON object
        return {key: value[key] for key in value}
    return value


class Evidence(Mapping[str, JsonValue]):
    """The base of every typed record: a read-only mapping of its fields (subclasses are
    frozen, slotted, keyword-only dataclasses with ``eq=False``: they compare as mappings,
    so a record equals the dict of its JSON)."""

    __slots__ = ()

    def _keys(self) -> list[str]:
        return [f.name for f in fields(self)  # type: ignore[arg-type]
                if not (f.metadata.get(_OMIT) and getattr(self, f.name) is None)]

    def __getitem__(self, key: str) -> JsonValue:
        if key not in self._keys():
            raise KeyError(key)
        return _json(getattr(self, key))

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())


# -- sessions and locks ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class BlockingLockEvidence(Evidence):
    """blocking-lock: the root and its waiters (``gid`` for a prepared root; ``root_state``
    and ``root_query`` for a session still there)."""

    root_pid: int
    waiters: int
    direct_waiters: int
    max_wait_s: float
    queued_blockers: tuple[int, ...]
    gid: str | None = optional()
    root_state: str | None = optional()
    root_query: str | None = optional()


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LockHoarderEvidence(Evidence):
    """lock-hoarder: one transaction's locks against the lock table."""

    locks: int
    relation_locks: int
    waiting: int
    max_locks_per_transaction: int
    lock_table_size: int
    share: float


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class IdleInTransactionEvidence(Evidence):
    """idle-in-transaction: how long, and how many sessions it blocks."""

    idle_s: float
    xact_age_s: float
    blocks: int
    state: str | None
    user: str | None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LongRunningQueryEvidence(Evidence):
    """long-running-query: how long its statement has run."""

    running_s: float
    xact_age_s: float
    wait_event: str | None
    user: str | None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PreparedXactEvidence(Evidence):
    """long-transaction of an orphaned prepared transaction."""

    gid: str
    age_s: float
    owner: str
    database: str | None
    locks: int
    relations: tuple[str, ...]
    dead_rows_kept: int


# -- connections --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class IdlePileEvidence(Evidence):
    """connection-saturation of one client's idle connections."""

    idle: int
    usable_slots: int
    longest_idle_s: float
    roles: dict[str, int]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class RunawayConnectionsEvidence(Evidence):
    """runaway-client by its share of the connections."""

    connections: int
    client_connections: int
    share: float
    usable_slots: int
    next: dict[str, JsonValue]
    states: dict[str, int]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class RunawayCallsEvidence(Evidence):
    """runaway-client by its calls or time over a ``--sample``."""

    calls_per_s: float
    exec_ms_per_s: float
    share: float
    time_share: float
    window_s: float
    calls: int
    next_calls: int
    top_statement_share: float
    connections: int
    queryids: tuple[int, ...]
    measured_with: str


# -- load (checks/load.py) ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class StatementShare(Evidence):
    """A statement's part of a saturation: its share of the sessions on CPU (or waiting on
    I/O, or writing) seen running it, of the statements' time (or blocks read, WAL, rows),
    and its rates (what it writes: for a write storm and a table's writes); where its
    generic plan was read (the ``plans`` part) and one shape costs most of it, that shape
    (``plan_shape``, a tip code of :mod:`pgcrisis.plan.tips.generic`), what it is
    (``plan``) and its share of the plan's estimated cost."""

    queryid: int
    share: float
    measured_by: str
    calls_per_s: float
    exec_ms_per_s: float
    blks_read_per_s: float
    jit_share: float
    role: str | None = optional()
    plan_shape: str | None = optional()
    plan: str | None = optional()
    plan_share: float | None = optional()
    rows_per_s: float | None = optional()
    wal_bytes_per_s: float | None = optional()
    blks_dirtied_per_s: float | None = optional()


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ClientShare(Evidence):
    """A client's part of a saturation: average sessions and their share."""

    application_name: str
    client_addr: str | None
    role: str
    sessions: float
    share: float


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class RelationShare(Evidence):
    """A table's blocks read from outside shared buffers over the window."""

    name: str
    blks_read_per_s: float
    share: float
    hit_ratio: float | None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LiveRefreshEvidence(Evidence):
    """matview-blocking-refresh of a refresh running now."""

    readers_waiting: int
    longest_wait_s: float
    refresh_pid: int
    lock: str
    refresh_age_s: float | None
    blocked_views: tuple[str, ...]
    concurrent_ready: bool | None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ScheduledRefreshEvidence(Evidence):
    """matview-blocking-refresh of a pg_cron job's plain refreshes."""

    jobid: int
    schedule: str
    matviews: tuple[str, ...]
    concurrent_ready: tuple[bool, ...]
    blocked_views: tuple[str, ...]
    reads: int
    lock_held_s: float | None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class UnreadyEvidence(Evidence):
    """matview-concurrent-unready of one view."""

    populated: bool
    unique_indexes: int
    has_key_index: bool
    refreshed_by_jobs: tuple[int, ...]
    size_bytes: int
    reads: int
    key_columns: tuple[str, ...]
    key_from: str | None
    dependents: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class TooFrequentEvidence(Evidence):
    """job-too-frequent: its runs and what they cost a day."""

    interval_s: float
    runs: int
    zero_row_runs: int
    zero_row_share: float
    runs_per_day: float
    mean_duration_s: float | None
    busy_share: float
    overlaps: int
    seconds_per_day: float


# -- indexes and statistics ---------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class MissingIndexEvidence(Evidence):
    """missing-index: the statement, the table, the candidate and whether it was verified
    (``unverified_reason`` only when it was not). On a table never measured (``relpages``
    0): ``unmeasured``, its ``live_rows`` and ``rows_inserted``; verified on the planner's
    guess (no statistics), the rows it guessed per call (``planner_rows``) and those the
    statement returned (``rows_per_call``)."""

    table: str
    columns: tuple[str, ...]
    queryid: int
    calls: int
    mean_ms: float
    total_ms: float
    share_of_db_time: float
    cost_before: float | None
    cost_after: float | None
    verified: bool
    unverified_reason: str | None = optional()
    relpages: int
    reltuples: float
    seq_scan: int
    seq_tup_read: int
    also_queryids: tuple[int, ...]
    unmeasured: bool | None = optional()
    live_rows: int | None = optional()
    rows_inserted: int | None = optional()
    planner_rows: float | None = optional()
    rows_per_call: float | None = optional()


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class FkMissingIndexEvidence(Evidence):
    """fk-missing-index: the key and the table a referenced delete scans."""

    constraint: str
    table: str
    columns: tuple[str, ...]
    referenced_table: str
    referenced_columns: tuple[str, ...]
    reltuples: float
    relpages: int
    referenced_deletes_updates: int


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class InvalidIndexEvidence(Evidence):
    """invalid-index."""

    definition: str
    unique: bool
    relpages: int
    ready: bool


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class DuplicateIndexEvidence(Evidence):
    """duplicate-index: the redundant one, the one kept, and how."""

    redundant: str
    kept: str
    how: str
    redundant_relpages: int
    redundant_scans: int
    kept_scans: int


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class UnusedIndexEvidence(Evidence):
    """unused-index."""

    relpages: int
    bytes: int
    idx_scan: int


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class StaleStatisticsEvidence(Evidence):
    """stale-statistics: rows changed since the last ANALYZE."""

    changed_rows: int
    reltuples: float
    live_rows: int
    changed_share: float
    analyze_age_s: float | None


E = TypeVar("E", bound=Evidence)


def of(evidence: Mapping[str, JsonValue], kind: type[E]) -> E | None:
    """``evidence`` if it is a ``kind`` record, else None (a grouped finding, another code)."""
    return evidence if isinstance(evidence, kind) else None
