"""Safe diagnostic sessions: a crisis must never be made worse by the tool diagnosing it.

Every connection pgcrisis opens to diagnose is read-only, names itself (``application_name``
``pgcrisis``), and carries a short ``statement_timeout`` and ``lock_timeout`` set at connection
start, so no probe can queue behind an ACCESS EXCLUSIVE lock for more than a moment or run
away on a server that is already on its knees. It is in autocommit mode, so it holds no
snapshot and no lock between probes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pgcrisis.connection import DEFAULT_CONNECT_TIMEOUT_S, open_connection
from pgcrisis.dsn import Target

if TYPE_CHECKING:
    import psycopg

APPLICATION_NAME = "pgcrisis"
DEFAULT_STATEMENT_TIMEOUT_MS = 5000
DEFAULT_LOCK_TIMEOUT_MS = 100


@dataclass(frozen=True, slots=True)
class SessionLimits:
    """Timeouts applied to every diagnostic session."""

    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS
    lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS
    connect_timeout_s: int = DEFAULT_CONNECT_TIMEOUT_S

    @property
    def options(self) -> str:
        """The libpq ``options`` string that sets them at connection start."""
        return (
            f"-c statement_timeout={self.statement_timeout_ms}"
            f" -c lock_timeout={self.lock_timeout_ms}"
            " -c default_transaction_read_only=on"
            " -c idle_in_transaction_session_timeout=60000"
        )


def connect(
    target: Target, limits: SessionLimits | None = None
) -> psycopg.Connection[tuple[object, ...]]:
    """Open a safe diagnostic session, or raise :class:`ConnectError` with one line."""
    limits = limits or SessionLimits()
    return open_connection(target, application_name=APPLICATION_NAME, options=limits.options,
                           connect_timeout_s=limits.connect_timeout_s)
