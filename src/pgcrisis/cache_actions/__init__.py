"""The writing side of ``pgcrisis cache``: refreshes, indexes, schedules, watch triggers.

Every change to the server is shown as SQL and journaled through :func:`pgcrisis.actions.apply`
(or, for each refresh, recorded in ``pgcrisis.refresh_log`` as well). Reads go through
``pgcrisis.collect.cache_catalog`` on a safe session.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgcrisis.dsn import Target, redact
from pgcrisis.errors import ConnectError

#: application_name of the sessions that write (refresh, install, watch)
WRITER_APP = "pgcrisis-cache"


def connect_writer(target: Target, application_name: str = WRITER_APP) -> psycopg.Connection[Any]:
    """A read-write autocommit session for explicit actions (never used to diagnose)."""
    try:
        return psycopg.connect(target.conninfo, autocommit=True,
                               application_name=application_name, connect_timeout=10)
    except psycopg.OperationalError as exc:
        lines = [line for line in str(exc).strip().splitlines() if line.strip()]
        reason = lines[-1].strip() if lines else type(exc).__name__
        raise ConnectError(redact(f"cannot connect to {target.redacted}: {reason}")) from None
