"""Safe diagnostic sessions: a crisis must never be made worse by the tool diagnosing it.

Every connection pgcrisis opens to diagnose is read-only, names itself (``application_name``
``pgcrisis``), and carries a short ``statement_timeout`` and ``lock_timeout`` set at connection
start, so no probe can queue behind an ACCESS EXCLUSIVE lock for more than a moment or run
away on a server that is already on its knees. It is in autocommit mode, so it holds no
snapshot and no lock between probes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg

from pgcrisis.dsn import Target, redact
from pgcrisis.errors import ConnectError

APPLICATION_NAME = "pgcrisis"
DEFAULT_STATEMENT_TIMEOUT_MS = 5000
DEFAULT_LOCK_TIMEOUT_MS = 100
DEFAULT_CONNECT_TIMEOUT_S = 10


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


def _explain(exc: psycopg.OperationalError, target: Target) -> str:
    """One line that says what went wrong, in the words a person would search for."""
    raw = str(exc).strip()
    sqlstate = getattr(exc, "sqlstate", None)
    text = raw.lower()
    if sqlstate == "28P01" or "password authentication failed" in text:
        reason = "authentication failed (check the user and password)"
    elif "no password supplied" in text:
        reason = "the server wants a password and none was given"
    elif sqlstate == "28000" or "no pg_hba.conf entry" in text:
        reason = "the server's pg_hba.conf does not allow this connection"
    elif (sqlstate == "53300" or "too many clients" in text or "too many connections" in text
          or "remaining connection slots" in text):
        fatal = re.search(r"FATAL:\s*(.+)", raw)
        reason = "no free connection slots" + (f" ({fatal[1].strip()})" if fatal else "")
    elif sqlstate == "3D000" or ("database" in text and "does not exist" in text):
        reason = "that database does not exist"
    elif "connection refused" in text:
        reason = "connection refused (is the server running, host and port right?)"
    elif "timeout expired" in text:
        reason = "the connection timed out"
    elif "could not translate host name" in text:
        reason = "unknown host name"
    else:
        last = [line for line in raw.splitlines() if line.strip()]
        reason = last[-1].strip() if last else type(exc).__name__
    return redact(f"cannot connect to {target.redacted}: {reason}")


def connect(
    target: Target, limits: SessionLimits | None = None
) -> psycopg.Connection[tuple[object, ...]]:
    """Open a safe diagnostic session, or raise :class:`ConnectError` with one line."""
    limits = limits or SessionLimits()
    try:
        conn = psycopg.connect(
            target.conninfo,
            autocommit=True,
            application_name=APPLICATION_NAME,
            options=limits.options,
            connect_timeout=limits.connect_timeout_s,
        )
    except psycopg.OperationalError as exc:
        raise ConnectError(_explain(exc, target)) from None
    return conn
