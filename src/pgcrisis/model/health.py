"""Server and table health: connections and their limits, the xmin horizon's holders,
vacuum and ANALYZE progress, index hygiene, transaction-ID and sequence ages, call rates.

Filled by ``collect/probe_health.py`` (and ``collect/sampler.py`` for rates); read by the
connection, horizon, vacuum, index-hygiene and statement checks. Ages are seconds (``_s``) or
transaction IDs (``_age``); sizes come from relpages x block_size, never pg_relation_size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: the largest transaction-ID age before the server stops assigning XIDs (2^31 - 1)
XID_LIMIT = 2_147_483_647
#: the largest value of each integer type a sequence can feed
TYPE_LIMITS = {"smallint": 32_767, "integer": 2_147_483_647, "bigint": 9_223_372_036_854_775_807}


@dataclass(frozen=True, slots=True)
class DatabaseInfo:
    """One database of the cluster: how old its oldest unfrozen XID is, whether we may connect."""

    name: str
    allow_connections: bool
    is_template: bool
    can_connect: bool
    xid_age: int
    mxid_age: int
    connection_limit: int  # -1: no limit


@dataclass(frozen=True, slots=True)
class RoleLimit:
    """A login role with a connection limit (``ALTER ROLE ... CONNECTION LIMIT n``)."""

    name: str
    connection_limit: int


@dataclass(frozen=True, slots=True)
class ReplicationSlot:
    """A replication slot: it keeps WAL from ``restart_lsn`` on and, for logical slots, catalog
    rows newer than ``catalog_xmin``, for as long as it exists, used or not."""

    name: str
    slot_type: str          # 'logical' or 'physical'
    plugin: str | None
    database: str | None
    active: bool
    active_pid: int | None
    temporary: bool
    xmin_age: int | None
    catalog_xmin_age: int | None
    retained_bytes: int | None
    wal_status: str | None


@dataclass(frozen=True, slots=True)
class PreparedLocks:
    """The locks a prepared transaction holds (relations named in the current database)."""

    gid: str
    locks: int
    relations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ServerHealth:
    """Server-wide facts: settings the health checks judge by, databases, limits, slots."""

    settings: Mapping[str, str] = field(default_factory=dict)
    databases: tuple[DatabaseInfo, ...] = ()
    role_limits: tuple[RoleLimit, ...] = ()
    slots: tuple[ReplicationSlot, ...] = ()
    prepared_locks: tuple[PreparedLocks, ...] = ()
    in_recovery: bool = False

    def setting_int(self, name: str, default: int = 0) -> int:
        """A numeric setting, or ``default`` when absent or not a number."""
        try:
            return int(float(self.settings[name]))
        except (KeyError, ValueError):
            return default

    def setting_float(self, name: str, default: float = 0.0) -> float:
        """A real-valued setting, or ``default``."""
        try:
            return float(self.settings[name])
        except (KeyError, ValueError):
            return default

    @property
    def usable_connections(self) -> int:
        """Slots ordinary roles can use: max_connections less the reserved ones."""
        return max(1, self.setting_int("max_connections", 100)
                   - self.setting_int("superuser_reserved_connections", 3)
                   - self.setting_int("reserved_connections", 0))

    def locks_of(self, gid: str) -> PreparedLocks | None:
        """The locks of prepared transaction ``gid``, if it was seen."""
        return next((p for p in self.prepared_locks if p.gid == gid), None)

    def database(self, name: str) -> DatabaseInfo | None:
        """The database called ``name``, if it was listed."""
        for d in self.databases:
            if d.name == name:
                return d
        return None


@dataclass(frozen=True, slots=True)
class TableHealth:
    """Vacuum and ANALYZE state of one table (``pg_stat_all_tables`` and ``pg_class``).

    ``vacuum_age_s``/``analyze_age_s`` are seconds since the last (auto)vacuum/(auto)analyze,
    None when never. ``reltuples`` is -1 when the table was never vacuumed or analyzed.
    """

    oid: int
    name: str               # schema-qualified
    relkind: str
    relpages: int
    reltuples: float
    n_live_tup: int
    n_dead_tup: int
    n_mod_since_analyze: int
    vacuum_age_s: float | None
    analyze_age_s: float | None
    autovacuum_count: int
    frozen_xid_age: int
    reloptions: tuple[str, ...] = ()

    @property
    def autovacuum_disabled(self) -> bool:
        """``autovacuum_enabled = false`` is set on the table."""
        return any(opt.replace(" ", "").lower() in {"autovacuum_enabled=false",
                                                    "autovacuum_enabled=off",
                                                    "autovacuum_enabled=0"}
                   for opt in self.reloptions)

    @property
    def rows(self) -> float:
        """The best estimate of the table's live rows."""
        return max(self.reltuples, float(self.n_live_tup), 0.0)

    def without_statistics(self, version_num: int) -> bool:
        """Whether the planner has no statistics for it at all: never analyzed, nor even
        measured by a VACUUM or CREATE INDEX since it was created (or rewritten): ``reltuples``
        -1 on PostgreSQL 14+, 0 with ``relpages`` 0 before. What ``pg_upgrade`` (before 18)
        and a restore that never analyzes leave behind.

        >>> new = TableHealth(1, "public.t", "r", 0, -1.0, 0, 0, 0, None, None, 0, 0)
        >>> old = TableHealth(1, "public.t", "r", 0, 0.0, 0, 0, 0, None, None, 0, 0)
        >>> new.without_statistics(150000), old.without_statistics(130000)
        (True, True)
        """
        if self.analyze_age_s is not None:
            return False
        if version_num >= 140000:
            return self.reltuples < 0
        return self.reltuples == 0 and self.relpages == 0


@dataclass(frozen=True, slots=True)
class IndexDef:
    """An index as the hygiene checks compare it: what it is keyed on, exactly.

    ``keys`` is one entry per key column: column number and name (``0:`` for an
    expression), operator class, collation and sort option, so two indexes with equal
    ``keys``, ``expressions``, ``predicate`` and ``method`` are interchangeable.
    ``definition`` is the server's own (``pg_get_indexdef``) for invalid indexes, else
    rebuilt from the parts (for display).
    """

    oid: int
    table_oid: int
    table: str              # schema-qualified
    schema: str
    relname: str
    name: str               # schema-qualified
    method: str
    keys: tuple[str, ...]
    include: tuple[str, ...]
    expressions: str | None
    predicate: str | None
    unique: bool
    primary: bool
    constraint: str | None  # the constraint it backs (primary key, unique, exclusion)
    valid: bool
    ready: bool
    being_built: bool
    relpages: int
    idx_scan: int
    definition: str


@dataclass(frozen=True, slots=True)
class SequenceUse:
    """A sequence and how much of its range (or of the column it feeds) is used up."""

    name: str               # schema-qualified
    data_type: str
    last_value: int | None
    min_value: int
    max_value: int
    increment: int
    cycle: bool
    column: str | None = None        # table.column it feeds, when owned by one
    column_type: str | None = None

    @property
    def limit(self) -> int:
        """The value it cannot pass: its own maximum or the fed column type's, if lower."""
        typed = TYPE_LIMITS.get(self.column_type or "", self.max_value)
        return min(self.max_value, typed) if self.increment > 0 else self.min_value

    @property
    def used_share(self) -> float:
        """Share of its range used so far (0 when never called)."""
        if self.last_value is None:
            return 0.0
        if self.increment > 0:
            span = self.limit - self.min_value
            return (self.last_value - self.min_value) / span if span > 0 else 0.0
        span = self.max_value - self.min_value
        return (self.max_value - self.last_value) / span if span > 0 else 0.0


def client_label(application: str | None, address: str | None) -> str:
    """How findings name a client: ``application@address`` (``local`` for a unix socket).

    >>> client_label("crm-sync", None), client_label("", "10.0.0.7")
    ('crm-sync@local', '(no name)@10.0.0.7')
    """
    return f"{application or '(no name)'}@{address or 'local'}"


#: the sampler's application and address for calls nobody was seen running (their role's)
UNSEEN = "(not seen)"
#: the sampler's address of a unix-socket client (pg_stat_activity.client_addr is NULL)
LOCAL = "local"


@dataclass(frozen=True, slots=True)
class ClientRate:
    """What one client (application, address, role) did during a ``--sample`` window."""

    application: str
    address: str
    role: str
    calls: float
    exec_ms: float
    connections: int
    queryids: tuple[int, ...] = ()
    top_queryid: int | None = None    # the statement it called most
    top_query_calls: float = 0.0      # ... and how many times

    @property
    def label(self) -> str:
        """``application@address``, the way a person names a client."""
        return client_label(self.application, self.address)

    @property
    def seen(self) -> bool:
        """False for the calls of a role that no session was seen making."""
        return self.application != UNSEEN

    @property
    def client_addr(self) -> str | None:
        """The address as pg_stat_activity.client_addr has it (None for a unix socket)."""
        return None if self.address in (LOCAL, UNSEEN) else self.address


@dataclass(frozen=True, slots=True)
class Sample:
    """Rates over a window: two pg_stat_statements readings and pg_stat_activity samples.

    Calls of a statement are attributed to the clients seen running it, in proportion to
    how often each was seen; calls nobody was seen running go to their role alone.
    """

    seconds: float
    clients: tuple[ClientRate, ...] = ()
    total_calls: float = 0.0
    total_exec_ms: float = 0.0
    activity_samples: int = 0
    statements_available: bool = True
