"""The snapshot: everything one triage pass saw, immutable, the only input of every check."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from pgcrisis.model.activity import (
    Backend,
    HeldLock,
    LockCount,
    LockWait,
    PreparedXact,
    SessionGroup,
    Transactions,
)
from pgcrisis.model.health import IndexDef, Sample, SequenceUse, ServerHealth, TableHealth
from pgcrisis.model.jobs import Cron
from pgcrisis.model.load import LoadProfile
from pgcrisis.model.matviews import Matviews
from pgcrisis.model.plans import StatementPlans
from pgcrisis.model.relations import Relations
from pgcrisis.model.server import ServerInfo
from pgcrisis.model.statements import IndexAdviceSet, Statements


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the probes collected. A part that could not be read is named in ``unavailable``.

    Which probe fills which fields, how often and for what scope is declared once, in
    :mod:`pgcrisis.model.parts`.
    """

    server: ServerInfo
    taken_at: datetime
    activity: tuple[Backend, ...] = ()
    transactions: Transactions | None = None
    lock_counts: tuple[LockCount, ...] = ()
    lock_waits: tuple[LockWait, ...] = ()
    strong_locks: tuple[HeldLock, ...] = ()
    prepared: tuple[PreparedXact, ...] = ()
    statements: Statements = field(default_factory=Statements)
    relations: Relations = field(default_factory=Relations)
    index_advice: IndexAdviceSet = field(default_factory=IndexAdviceSet)
    matviews: Matviews = field(default_factory=Matviews)
    cron: Cron = field(default_factory=Cron)
    server_health: ServerHealth = field(default_factory=ServerHealth)
    table_health: tuple[TableHealth, ...] = ()
    index_defs: tuple[IndexDef, ...] = ()
    sequences: tuple[SequenceUse, ...] = ()
    sample: Sample | None = None
    #: where the active sessions' time went over triage's window (or, in a recording, the
    #: frame's last samples); None when no window was taken
    load: LoadProfile | None = None
    #: the generic plans of the statements that carry the load, summarised with their tips
    plans: StatementPlans = field(default_factory=StatementPlans)
    #: False for the other databases of ``--all-databases``: server-wide facts (database ages,
    #: connections) are judged in the first snapshot only, so they are reported once
    primary: bool = True
    unavailable: Mapping[str, str] = field(default_factory=dict)
    query_count: int = 0
    #: the server's clock when the sample was read, and when the server started (a recording
    #: times frames by the former and sees a restart in the latter)
    server_time: datetime | None = None
    server_started_at: datetime | None = None
    #: sessions a recording counted instead of keeping their rows (never live: see
    #: :class:`~pgcrisis.model.activity.SessionGroup`); a count of sessions goes over
    #: :meth:`all_sessions`
    counted_sessions: tuple[SessionGroup, ...] = ()

    def all_sessions(self) -> tuple[Backend | SessionGroup, ...]:
        """Every session, to count: the rows of ``activity``, then the groups a recording
        counted (each stands for ``sessions`` of them)."""
        if not self.counted_sessions:
            return self.activity
        return (*self.activity, *self.counted_sessions)

    def backend(self, pid: int) -> Backend | None:
        """The session with this pid, if it was seen (checks ask this for every session they
        name: with a thousand sessions, an index of the last snapshot asked pays for itself)."""
        global _LAST_INDEX
        index = _LAST_INDEX
        if index is None or index[0] is not self.activity:
            index = (self.activity, {b.pid: b for b in reversed(self.activity)})
            _LAST_INDEX = index  # one assignment: safe to race, it is only a cache
        return index[1].get(pid)


#: the pid index of the last ``activity`` tuple :meth:`Snapshot.backend` was asked about
_LAST_INDEX: tuple[tuple[Backend, ...], dict[int, Backend]] | None = None
