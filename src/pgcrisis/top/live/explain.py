"""EXPLAIN (never ANALYZE) of a session's query, on a session of its own.

The session is read-only, named ``pgcrisis top (explain)``, with a short statement timeout
and a shorter lock timeout: planning takes a light lock on every table of the query, and in a
crisis the table may be the very one a queued ``ALTER TABLE`` guards.
"""

from __future__ import annotations

import psycopg

from pgcrisis.connection import open_connection
from pgcrisis.dsn import Target, with_overrides
from pgcrisis.errors import ConnectError, first_line

APPLICATION_NAME = "pgcrisis top (explain)"
OPTIONS = ("-c statement_timeout=3000 -c lock_timeout=200"
           " -c default_transaction_read_only=on")


def explain(target: Target, database: str, statement: str) -> str:
    """The plan's text, or one line saying why there is none (never raises for the server's
    refusals: a timeout, a lock, a missing table are answers too)."""
    conninfo = with_overrides(target.conninfo, dbname=database) if database else target.conninfo
    try:
        with open_connection(Target(conninfo, target.source), application_name=APPLICATION_NAME,
                             options=OPTIONS, connect_timeout_s=5) as conn:
            rows = conn.execute(statement.encode()).fetchall()
    except ConnectError as exc:
        return f"EXPLAIN failed: {exc}"
    except psycopg.Error as exc:
        return f"EXPLAIN failed: {first_line(exc)}"
    return "\n".join(str(r[0]) for r in rows)
