"""Actions on sessions and what outlives them: cancel, terminate, end a client's (idle)
sessions, roll back a prepared transaction, drop a replication slot."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from pgcrisis.actions.base import Action, slug
from pgcrisis.actions.statement import Literal, Statement, Verbatim, number


def _pids(pids: tuple[int, ...]) -> str:
    if len(pids) == 1:
        return f"pid {pids[0]}"
    more = ", …" if len(pids) > 8 else ""
    return f"{len(pids)} sessions ({', '.join(map(str, pids[:8]))}{more})"


class _EachSession(Action):
    """An action run once per session, by a server function of the pid (``FUNCTION``)."""

    __slots__ = ()

    pids: tuple[int, ...]
    FUNCTION: ClassVar[str] = ""

    @property
    def statements(self) -> tuple[Statement, ...]:
        return tuple(Statement(f"SELECT {self.FUNCTION}({{}})", (number(p),))
                     for p in self.pids)

    @property
    def ident(self) -> str:
        return (f"{self.KIND}-pid-{self.pids[0]}" if len(self.pids) == 1
                else f"{self.KIND}-{len(self.pids)}-sessions")


@dataclass(frozen=True, slots=True)
class Cancel(_EachSession):
    """Cancel the running statement of each session."""

    pids: tuple[int, ...]

    KIND = "cancel"
    FUNCTION = "pg_cancel_backend"

    @classmethod
    def of(cls, pids: Iterable[int]) -> Cancel:
        """Each session once, in pid order."""
        return cls(tuple(sorted(set(pids))))

    @property
    def title(self) -> str:
        return f"cancel the running statement of {_pids(self.pids)}"

    @property
    def risk(self) -> str:
        return ("the statement fails with an error; its transaction stays open (rolled back "
                "only if the client does so)")


@dataclass(frozen=True, slots=True)
class Terminate(_EachSession):
    """End each session (its open transaction rolls back)."""

    pids: tuple[int, ...]

    KIND = "terminate"
    FUNCTION = "pg_terminate_backend"

    @classmethod
    def of(cls, pids: Iterable[int]) -> Terminate:
        """Each session once, in pid order."""
        return cls(tuple(sorted(set(pids))))

    @property
    def title(self) -> str:
        return f"terminate {_pids(self.pids)}"

    @property
    def risk(self) -> str:
        return ("the session ends and its open transaction rolls back; the client sees its "
                "connection closed")


@dataclass(frozen=True, slots=True)
class TerminateSessions(Action):
    """End the sessions ``pg_stat_activity`` matches: one client's (by ``application_name``,
    and ``role`` when given), or every client backend's; only the idle ones with
    ``idle_only``, only those idle for longer than ``idle_for`` (an interval) when given."""

    application_name: str | None = None
    role: str | None = None
    idle_only: bool = False
    idle_for: str | None = None

    @property
    def kind(self) -> str:
        return "terminate-client" if self.application_name is not None else "terminate-idle"

    def _of(self, what: str) -> Statement:
        """``SELECT what FROM pg_stat_activity`` of the sessions it ends."""
        where: list[str] = []
        parts: list[Literal | Verbatim] = []
        if self.idle_only:
            where.append("state = 'idle'")
        if self.idle_for is not None:
            where.append("state_change < now() - interval {}")
            parts.append(Literal(self.idle_for))
        if self.application_name is not None:
            where.append("application_name = {}")
            parts.append(Literal(self.application_name))
        else:
            where.append("backend_type = 'client backend'")
        if self.role is not None:
            where.append("usename = {}")
            parts.append(Literal(self.role))
        return Statement(f"SELECT {what} FROM pg_stat_activity WHERE " + " AND ".join(where),
                         tuple(parts))

    @property
    def statements(self) -> tuple[Statement, ...]:
        return (self._of("pg_terminate_backend(pid)"),)

    @property
    def matching(self) -> Statement:
        """The pids of the sessions it would end now (read just before it runs, so that what
        follows can wait for them to leave)."""
        return self._of("pid")

    @property
    def _whose(self) -> str:
        if self.application_name is None:
            return "every client"
        return f"client {self.application_name}"

    @property
    def title(self) -> str:
        if self.idle_for is not None:
            return f"terminate the sessions of {self._whose} idle for over {self.idle_for}"
        if self.idle_only:
            return f"terminate the idle sessions of {self._whose}"
        return f"terminate every session of {self._whose}"

    @property
    def risk(self) -> str:
        if self.idle_only or self.idle_for is not None:
            return ("only idle sessions end (no transaction is open in them, sessions at work "
                    "are left alone); a client that still holds one sees it closed and must "
                    "reconnect")
        return ("its sessions end and their transactions roll back; the client will reconnect "
                "unless it is stopped or braked")

    @property
    def ident(self) -> str:
        idle = "idle-" if self.idle_only or self.idle_for is not None else ""
        if self.application_name is None:
            return f"terminate-{idle}sessions"
        return f"terminate-{idle}client-{slug(self.application_name)}"


@dataclass(frozen=True, slots=True)
class RollbackPrepared(Action):
    """Roll back a prepared transaction (only possible from its own ``database``)."""

    gid: str

    KIND = "rollback-prepared"

    @property
    def statements(self) -> tuple[Statement, ...]:
        return (Statement("ROLLBACK PREPARED {}", (Literal(self.gid),)),)

    @property
    def title(self) -> str:
        return f"roll back the prepared transaction {self.gid!r}"

    @property
    def risk(self) -> str:
        return ("its changes are lost for good (a transaction manager that still means to "
                "commit it will fail)")

    @property
    def ident(self) -> str:
        return f"rollback-prepared-{slug(self.gid)}"


@dataclass(frozen=True, slots=True)
class DropSlot(Action):
    """Drop a replication slot (the WAL and rows it holds back are freed)."""

    slot_name: str

    KIND = "drop-slot"

    @property
    def statements(self) -> tuple[Statement, ...]:
        return (Statement("SELECT pg_drop_replication_slot({})", (Literal(self.slot_name),)),)

    @property
    def title(self) -> str:
        return f"drop the replication slot {self.slot_name!r}"

    @property
    def risk(self) -> str:
        return ("its consumer loses its place in the WAL for good: a subscriber or standby "
                "must then be set up again")

    @property
    def ident(self) -> str:
        return f"drop-slot-{slug(self.slot_name)}"
