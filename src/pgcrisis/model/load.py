"""The load profile: where the active sessions' time went over a window, and who put it there.

Filled by the ``load`` part's probe (``collect/probe_load.py``): live, over triage's window
(``--sample``, about a second by default) on a session of its own; in a recording, for each
frame, over the last few samples the recorder took (:data:`pgcrisis.collect.load_frames.
FRAME_SAMPLES`). Read by the saturation checks (``checks/load.py``), and by whoever needs to
say what the server was busy with.

Sessions are *average active sessions* over the window (the mean, over the samples, of how
many were in that state): 3.0 on CPU means three sessions were running or waiting for a core
all the time. A session is *on CPU* when it is active with no wait event (running, or queued
for a core: which of the two is only known against the CPU count, :class:`CpuCount`). Figures
from cumulative counters (pg_stat_statements, pg_statio_user_tables, pg_stat_database, ...) are
differences over the window, never totals since a reset; server-wide rates are in
:mod:`pgcrisis.model.load_rates`. What the server hid is listed in ``hidden``, with what would
let pgcrisis see it: a finding says so instead of guessing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace

from pgcrisis.model.contention import Kind, kind_of
from pgcrisis.model.health import client_label
from pgcrisis.model.load_rates import ServerCounters, ServerRates
from pgcrisis.model.load_samples import SampleGroups
from pgcrisis.model.load_tables import RelationReads, RelationWrites
from pgcrisis.model.waits import CPU, SHOWN_CLASSES, is_data_file_io, is_write_wait, shown_class

#: seconds of triage's load window by default (``--sample``; 0 takes none)
DEFAULT_WINDOW_S = 1.0
#: the statement kinds that change rows (:attr:`StatementLoad.kind`)
_DATA_CHANGES = frozenset({"insert", "update", "delete", "merge"})


@dataclass(frozen=True, slots=True)
class CpuCount:
    """How many CPUs the server may use, and how that was decided (``cpus`` None: not known,
    and ``how`` says why and what would tell)."""

    cpus: int | None
    how: str

    @classmethod
    def given(cls, cpus: int, where: str) -> CpuCount:
        """A count a person gave (``where``: ``--cpus``, or the config file).

        >>> CpuCount.given(8, "--cpus").how
        '8 CPUs as given by --cpus'
        """
        return cls(cpus, f"{cpus} CPUs as given by {where}")

    @property
    def known(self) -> bool:
        return self.cpus is not None


@dataclass(frozen=True, slots=True)
class WaitLoad:
    """Average active sessions in one wait (``wait_event`` None for ``CPU``)."""

    wait_class: str
    wait_event: str | None
    sessions: float


@dataclass(frozen=True, slots=True)
class Tick:
    """One sample: active sessions, those on CPU, those waiting on data-file I/O, those
    whose state the diagnostic role may not see (other roles' sessions, without
    pg_read_all_stats), and those waiting on each kind of contention."""

    active: int
    on_cpu: int
    data_io: int
    hidden: int = 0
    #: sessions waiting on each contention kind (:mod:`pgcrisis.model.contention`): row
    #: locks, a relation's extension lock, LWLocks
    row_locks: int = 0
    extension: int = 0
    lwlock: int = 0

    def waiting(self, kind: Kind) -> int:
        """Sessions of this sample waiting on contention of ``kind``."""
        return {"row_locks": self.row_locks, "extension": self.extension,
                "lwlock": self.lwlock}[kind]


@dataclass(frozen=True, slots=True)
class StatementCounters:
    """pg_stat_statements' counters of a statement: as read (cumulative, one role's), or
    their differences over a span. Blocks are shared buffers (8 kB pages); ``wal_bytes`` is
    None before PostgreSQL 13, ``jit_ms`` before 15."""

    calls: float
    exec_ms: float
    rows: float
    shared_blks_hit: float
    shared_blks_read: float
    shared_blks_written: float
    shared_blks_dirtied: float
    temp_bytes: float
    wal_bytes: float | None
    jit_ms: float | None

    @property
    def jit_share(self) -> float:
        """JIT compilation as a share of its execution time (0 when unknown)."""
        return (self.jit_ms or 0.0) / self.exec_ms if self.exec_ms > 0 else 0.0

    @property
    def rows_per_call(self) -> float:
        """Rows returned or changed per call over the window (0 without calls)."""
        return self.rows / self.calls if self.calls > 0 else 0.0


@dataclass(frozen=True, slots=True)
class StatementLoad(StatementCounters):
    """One statement (pg_stat_statements' queryid, top-level calls, summed over roles and
    databases) over the window: its counters' differences and the sessions seen running it.

    ``query`` is its text ('' when not known); ``role`` the role that spent most time on it.
    ``on_cpu``, ``data_io`` and ``active`` are average sessions seen running it
    (``query_id`` in pg_stat_activity, PostgreSQL 14+), ``clients`` their labels, most seen
    first. ``kind`` and ``tables`` are what its text says, parsed where the profile was made
    (``select``, ``insert``, ``update``, ``delete``, ``merge``, ``utility``; '' when the text
    is unknown or does not parse) and the tables it names as written, a data change's target
    first.
    """

    queryid: int
    query: str
    role: str | None
    on_cpu: float = 0.0
    data_io: float = 0.0
    active: float = 0.0
    clients: tuple[str, ...] = ()
    kind: str = ""
    tables: tuple[str, ...] = ()
    #: average sessions seen running it while waiting on row locks, a relation's extension
    #: lock, LWLocks (:mod:`pgcrisis.model.contention`)
    row_locks: float = 0.0
    extension: float = 0.0
    lwlock: float = 0.0
    #: the table it writes (INSERT, UPDATE, DELETE, MERGE) or locks (SELECT ... FOR UPDATE),
    #: as its text names it: ``target_schema`` None when unqualified (None: not known)
    target: str | None = None
    target_schema: str | None = None

    @property
    def writes(self) -> bool:
        """Whether it changes rows: a data change (INSERT, UPDATE, DELETE, MERGE, COPY ...
        FROM), or, where its text is not known, a statement that dirtied blocks and wrote WAL.

        >>> StatementLoad(*[0.0] * 10, 1, "COPY t FROM STDIN", None, kind="utility").writes
        True
        >>> StatementLoad(1, 1, 1, 0, 0, 0, 5, 0, 900.0, None, 2, "", None).writes
        True
        """
        if self.kind in _DATA_CHANGES:
            return True
        if self.kind == "utility":
            words = self.query.upper().split()
            return bool(words) and words[0] == "COPY" and "FROM" in words
        return not self.kind and self.shared_blks_dirtied > 0 and (self.wal_bytes or 0) > 0

    @property
    def ends_transaction(self) -> bool:
        """A COMMIT (or END): where a session waits for its WAL to be flushed.

        >>> StatementLoad(*[0.0] * 10, 1, "commit", None, kind="utility").ends_transaction
        True
        """
        words = self.query.split(None, 1)
        return self.kind == "utility" and bool(words) and words[0].rstrip(";").upper() in (
            "COMMIT", "END")

    @property
    def returns_rows(self) -> bool:
        """Whether its rows are sent to the client: a query, a FETCH, a data change with
        RETURNING (not the rows a plain data change touches).

        >>> StatementLoad(*[0.0] * 10, 1, "DELETE FROM t", None, kind="delete").returns_rows
        False
        """
        words = self.query.upper().split()
        if self.kind == "select":
            return True
        if self.kind in _DATA_CHANGES:
            return "RETURNING" in words
        return self.kind == "utility" and bool(words) and words[0] == "FETCH"

    def waiting(self, kind: Kind) -> float:
        """Average sessions seen running it while waiting on contention of ``kind``."""
        return {"row_locks": self.row_locks, "extension": self.extension,
                "lwlock": self.lwlock}[kind]


@dataclass(frozen=True, slots=True)
class ClientLoad:
    """One client (application, address, role) over the window: average sessions active, on
    CPU and waiting on data-file I/O, and the statements it was seen running (most first).
    ``address`` is pg_stat_activity's ``client_addr`` (None: a unix socket)."""

    application: str
    address: str | None
    role: str
    active: float
    on_cpu: float
    data_io: float
    queryids: tuple[int, ...] = ()
    #: average sessions waiting on each contention kind
    row_locks: float = 0.0
    extension: float = 0.0
    lwlock: float = 0.0

    def waiting(self, kind: Kind) -> float:
        """Average sessions of this client waiting on contention of ``kind``."""
        return {"row_locks": self.row_locks, "extension": self.extension,
                "lwlock": self.lwlock}[kind]

    @property
    def label(self) -> str:
        """``application@address``."""
        return client_label(self.application, self.address)


@dataclass(frozen=True, slots=True)
class RoleLoad:
    """One role over the window: its sessions, and its statements' time (pg_stat_statements)."""

    role: str
    active: float
    on_cpu: float
    data_io: float
    calls: float = 0.0
    exec_ms: float = 0.0
    jit_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class Hidden:
    """Something the profile could not see: what, why, and what would let pgcrisis see it."""

    what: str
    reason: str
    remedy: str

    @property
    def line(self) -> str:
        """``what: reason (remedy)``, as a finding says it."""
        return f"{self.what}: {self.reason} ({self.remedy})"


#: a recording's frames: the profile of the last samples the recorder took
RECORDED = "recording"
#: triage's window
WINDOW = "window"


@dataclass(frozen=True, slots=True)
class LoadProfile:
    """Where the active sessions' time went over ``seconds`` (``samples`` readings of
    pg_stat_activity), against the server's CPUs, and who put it there.

    ``waits`` are by average sessions, most first (``CPU`` among them); ``ticks`` each
    sample's counts, oldest first (what "sustained" is judged on). ``statements``, ``roles``
    and ``relations`` come from counters differenced over ``statements_s`` and
    ``relations_s`` seconds (the window live; in a recording, the last minute between two
    full samples: 0 when not known yet); ``writes`` the tables' rows written over the same
    span as ``relations``. ``counters`` are the server-wide readings at the window's start
    and end (:attr:`rates`). ``source`` says which: :data:`WINDOW` or :data:`RECORDED`.
    ``frame_samples`` (a recording's frames only) are the samples' own sessions, counted,
    oldest first: what the averages were made of, and what a store keeps of them
    (:mod:`pgcrisis.model.load_samples`).
    """

    seconds: float
    samples: int
    cpus: CpuCount
    waits: tuple[WaitLoad, ...] = ()
    ticks: tuple[Tick, ...] = ()
    statements: tuple[StatementLoad, ...] = ()
    statements_s: float = 0.0
    clients: tuple[ClientLoad, ...] = ()
    roles: tuple[RoleLoad, ...] = ()
    relations: tuple[RelationReads, ...] = ()
    relations_s: float = 0.0
    counters: tuple[ServerCounters, ...] = ()
    hidden: tuple[Hidden, ...] = ()
    source: str = WINDOW
    writes: tuple[RelationWrites, ...] = ()
    frame_samples: tuple[SampleGroups, ...] = ()

    @property
    def active(self) -> float:
        """Average active sessions."""
        return sum(w.sessions for w in self.waits)

    @property
    def on_cpu(self) -> float:
        """Average sessions on CPU (active, no wait event)."""
        return self.in_class(CPU)

    @property
    def data_io(self) -> float:
        """Average sessions waiting on data-file I/O."""
        return sum(w.sessions for w in self.waits if is_data_file_io(w.wait_class, w.wait_event))

    @property
    def write_waits(self) -> float:
        """Average sessions waiting as writers do (:func:`is_write_wait`)."""
        return sum(w.sessions for w in self.waits if is_write_wait(w.wait_class, w.wait_event))

    def in_kind(self, kind: Kind) -> float:
        """Average sessions waiting on contention of ``kind`` (row locks, extension,
        LWLocks: :mod:`pgcrisis.model.contention`)."""
        return sum(w.sessions for w in self.waits if kind_of(w.wait_class, w.wait_event) == kind)

    def in_class(self, wait_class: str) -> float:
        """Average sessions in ``wait_class`` (``CPU``, ``IO``, ``Lock``, ``LWLock``...)."""
        return sum(w.sessions for w in self.waits if w.wait_class == wait_class)

    def by_class(self) -> dict[str, float]:
        """Average sessions per wait class, most first."""
        out: dict[str, float] = {}
        for w in self.waits:
            out[w.wait_class] = out.get(w.wait_class, 0.0) + w.sessions
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def shown(self) -> tuple[float, ...]:
        """Average sessions in each of :data:`SHOWN_CLASSES`, in their order (what a chart
        of the load stacks)."""
        out = dict.fromkeys(SHOWN_CLASSES, 0.0)
        for w in self.waits:
            out[shown_class(w.wait_class)] += w.sessions
        return tuple(out.values())

    def sustained(self, over: Callable[[Tick], bool]) -> float:
        """The share of the samples for which ``over`` holds (0 without samples)."""
        return sum(1 for t in self.ticks if over(t)) / len(self.ticks) if self.ticks else 0.0

    @property
    def cpu_ratio(self) -> float | None:
        """Sessions on CPU per CPU (None when the CPU count is not known)."""
        cpus = self.cpus.cpus
        return self.on_cpu / cpus if cpus else None

    @property
    def rates(self) -> ServerRates | None:
        """Server-wide rates over the window and their usual levels (None without two
        readings)."""
        if len(self.counters) < 2:
            return None
        return ServerRates.between(self.counters[0], self.counters[-1])

    @property
    def statements_known(self) -> bool:
        """Whether statements were measured (pg_stat_statements over a span)."""
        return self.statements_s > 0 and not any(h.what == "statements" for h in self.hidden)

    def statement(self, queryid: int) -> StatementLoad | None:
        """The statement with this queryid, if it is among ``statements``."""
        return next((s for s in self.statements if s.queryid == queryid), None)

    def hidden_lines(self, about: Collection[str] | None = None) -> tuple[str, ...]:
        """What could not be seen (of ``about``: :attr:`Hidden.what` names), each as a
        finding says it."""
        return tuple(h.line for h in self.hidden if about is None or h.what in about)


def with_cpus(snapshot_load: LoadProfile | None, cpus: CpuCount | None) -> LoadProfile | None:
    """A recorded profile judged against a CPU count given now (``--cpus`` on ``triage
    --store``) when the recorder did not know it; a known count is kept.

    >>> p = LoadProfile(1.0, 1, CpuCount(None, "not known"))
    >>> with_cpus(p, CpuCount(8, "given")).cpus.cpus
    8
    """
    if snapshot_load is None or cpus is None or snapshot_load.cpus.known:
        return snapshot_load
    return replace(snapshot_load, cpus=cpus)
