"""Opening a connection, and the one line that says why it could not be opened.

Every session pgcrisis opens (the safe diagnostic one, the writer of ``pgcrisis cache``, the
EXPLAIN capture) goes through :func:`open_connection`, so a refused connection, a bad
password, an unknown database or a full server reads the same whichever command met it.
psycopg is loaded by the first connection, not by importing this module (every command's
options import the session defaults; judging a recording opens no connection).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pgcrisis.dsn import Target, redact
from pgcrisis.errors import ConnectError

if TYPE_CHECKING:
    import psycopg

DEFAULT_CONNECT_TIMEOUT_S = 10


def connect_failure(exc: psycopg.OperationalError, target: Target) -> str:
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


def open_connection(target: Target, *, application_name: str, autocommit: bool = True,
                    options: str | None = None,
                    connect_timeout_s: int = DEFAULT_CONNECT_TIMEOUT_S,
                    ) -> psycopg.Connection[tuple[Any, ...]]:
    """A connection to ``target``, or :class:`ConnectError` with :func:`connect_failure`'s
    line (never a traceback, never the password)."""
    import psycopg

    extra: dict[str, Any] = {} if options is None else {"options": options}
    try:
        return psycopg.connect(target.conninfo, autocommit=autocommit,
                               application_name=application_name,
                               connect_timeout=connect_timeout_s, **extra)
    except psycopg.OperationalError as exc:
        raise ConnectError(connect_failure(exc, target)) from None
