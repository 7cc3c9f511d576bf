"""What changes a server for ``pgcrisis cache``: key indexes, refreshes, the pgcrisis schema,
the pg_cron lanes of a plan, the watch triggers.

Every change is shown as SQL and journaled through :func:`pgcrisis.journal.apply` (each
refresh is also recorded in ``pgcrisis.refresh_log``). Nothing here decides what to change:
the pure domain (:mod:`pgcrisis.cache`) does, from what :mod:`pgcrisis.cache.catalog` read
over a safe session; :mod:`pgcrisis.cache.service` puts the two together. Their fixed
statements are ``.sql`` files in ``cache/sql/`` (:func:`statement`); those naming a view or a
table are composed with :mod:`psycopg.sql`.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgcrisis import sqlfiles
from pgcrisis.connection import open_connection
from pgcrisis.dsn import Target

#: application_name of the sessions that write (refresh, install, watch)
WRITER_APP = "pgcrisis-cache"


def connect_writer(target: Target, application_name: str = WRITER_APP) -> psycopg.Connection[Any]:
    """A read-write autocommit session for explicit actions (never used to diagnose)."""
    return open_connection(target, application_name=application_name)


def statement(name: str) -> str:
    """The fixed statement ``cache/sql/<name>.sql``, as written."""
    return sqlfiles.query("pgcrisis.cache", name)
