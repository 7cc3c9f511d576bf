"""Sessions, what blocks them, and the locks they hold."""

from __future__ import annotations

from dataclasses import dataclass

#: the ``backend_type`` of a session a client opened
CLIENT_BACKEND = "client backend"


class SessionKind:
    """What a session's row (or a group of sessions) tells by its ``backend_type``."""

    __slots__ = ()
    backend_type: str

    @property
    def is_client(self) -> bool:
        """A client backend (not autovacuum, not a background worker)."""
        return self.backend_type == CLIENT_BACKEND


@dataclass(frozen=True, slots=True)
class Backend(SessionKind):
    """One row of ``pg_stat_activity`` (client backends and, where useful, workers).

    Ages are seconds measured by the server at collection time (None when not applicable).
    ``blocked_by`` comes from ``pg_blocking_pids()``; 0 stands for a prepared transaction.
    """

    pid: int
    datname: str | None
    usename: str | None
    application_name: str
    client_addr: str | None
    backend_type: str
    state: str | None
    xact_age_s: float | None
    query_age_s: float | None
    state_age_s: float | None
    wait_event_type: str | None
    wait_event: str | None
    query: str
    blocked_by: tuple[int, ...]
    backend_xid_age: int | None = None
    backend_xmin_age: int | None = None
    backend_age_s: float | None = None  # since the session connected
    #: the statement it runs (or ran last): pg_stat_statements' queryid (PostgreSQL 14+,
    #: with ``compute_query_id`` on, as pg_stat_statements turns it)
    query_id: int | None = None

    @property
    def sessions(self) -> int:
        """How many sessions this row stands for: one (a :class:`SessionGroup` counts many)."""
        return 1


#: what the sessions of a :class:`SessionGroup` share, in the order a store keeps a group's key
#: (changing it changes the recording's encoding: ``store/_codec.py``'s ``FORMAT_VERSION``)
SESSION_GROUP_KEY = ("datname", "usename", "application_name", "client_addr", "backend_type",
                     "state", "wait_event_type", "wait_event")


@dataclass(frozen=True, slots=True)
class SessionGroup(SessionKind):
    """Sessions a recording counted rather than kept: how many shared these values (the
    fields of :data:`SESSION_GROUP_KEY`, in that order).

    A busy server has hundreds of sessions, most of them idle or running a statement of a few
    milliseconds; a recording keeps the row of every session a check acts on and counts the
    others per group (:mod:`pgcrisis.record.keep`). What a count of sessions needs (per
    client, state, role, database, wait) is here; what only a row has (pid, ages, query) is
    not. Live, no session is counted: every one has its row in ``Snapshot.activity``.
    """

    datname: str | None
    usename: str | None
    application_name: str
    client_addr: str | None
    backend_type: str
    state: str | None
    wait_event_type: str | None
    wait_event: str | None
    sessions: int


@dataclass(frozen=True, slots=True)
class Transactions:
    """Transactions committed and rolled back in every database since the statistics were last
    reset (``pg_stat_database``): two samples give transactions per second."""

    committed: int
    rolled_back: int

    @property
    def total(self) -> int:
        return self.committed + self.rolled_back


@dataclass(frozen=True, slots=True)
class LockCount:
    """How many ``pg_locks`` rows one backend has (every lock type, granted or not)."""

    pid: int
    total: int
    granted: int
    waiting: int
    relations: int
    virtualxid_holder: bool = False


@dataclass(frozen=True, slots=True)
class LockWait:
    """A lock one backend waits for: what kind, on what, in which mode.

    ``relation`` is the schema-qualified name of the relation the lock is on (a relation's
    lock, its extension, a page or a row: ``tuple``), or, for a ``transactionid`` wait, of the
    row the waiter holds a lock on while it waits for the row's updater (None otherwise, and
    for another database's relations).
    """

    pid: int
    locktype: str
    mode: str
    relation: str | None
    relkind: str | None


@dataclass(frozen=True, slots=True)
class HeldLock:
    """A relation lock held in a strong mode (ShareLock and above), to name DDL/refresh holders."""

    pid: int
    mode: str
    relation: str
    relkind: str | None
    granted: bool


@dataclass(frozen=True, slots=True)
class PreparedXact:
    """A prepared (two-phase) transaction: it holds locks with no session (pid 0)."""

    gid: str
    owner: str
    database: str
    age_s: float
    transaction: int
    relations: tuple[str, ...] = ()
    locks: int = 0
