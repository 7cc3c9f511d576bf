"""``cache plan --apply``: install a plan's lanes in pg_cron.

The statements come from :func:`pgcrisis.cache.schedule.install_statements` (the previous
plan's lanes unscheduled, the jobs the plan replaces deactivated, one job per lane); this
runs them, shown and journaled, and stops at the first that fails.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import psycopg

from pgcrisis.errors import PgcrisisError
from pgcrisis.journal import apply


def install(conn: psycopg.Connection[Any], statements: Sequence[str],
            show: Callable[[str], None] | None = None) -> None:
    """Run the install statements (journaled); raise on the first failure."""
    results = apply(conn, statements, reason="cache plan --apply", show=show)
    failed = next((r for r in results if not r.ok), None)
    if failed is not None:
        raise PgcrisisError(f"installing the plan failed at {failed.sql[:60]!r}: {failed.error}")
