"""Materialized views and the views built on them (matview-* checks).

Three queries when there are matviews (one when there are none): the matviews with what a
concurrent refresh needs, their definitions (for the row key a unique index should cover),
and the view-on-view dependency edges.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from psycopg import errors as pgerrors

from pgcrisis.collect.probe import ProbeContext, probe
from pgcrisis.model.activity import HeldLock
from pgcrisis.model.matviews import Matview, Matviews, ViewEdge
from pgcrisis.model.parts import MATVIEWS
from pgcrisis.sqlparse.matview_key import group_key


def _definitions(ctx: ProbeContext) -> dict[int, str]:
    """Each matview's definition, where reading it cannot wait for a lock.

    ``pg_get_viewdef`` locks what the view reads; views reading a relation under an ACCESS
    EXCLUSIVE lock (seen by the locks probe) are skipped, and a lock taken since then only
    costs the definitions (keys then come from statistics alone).
    """
    held: tuple[HeldLock, ...] = ctx.collected.get("locks", {}).get("strong_locks", ())
    skip = sorted({lock.relation for lock in held if lock.mode == "AccessExclusiveLock"})
    try:
        rows = ctx.dicts("matview_definitions", {"skip": skip})
    except pgerrors.LockNotAvailable:
        return {}
    return {row["oid"]: row["definition"] for row in rows if row["definition"]}


@probe(MATVIEWS)
def matviews(ctx: ProbeContext) -> Mapping[str, Any]:
    """Every matview, its likely row key, and the plain views / matviews reading one another."""
    rows = ctx.dicts("matviews")
    if not rows:
        return {"matviews": Matviews()}
    definitions = _definitions(ctx)
    views = []
    for row in rows:
        distinct = tuple(row.pop("distinct_columns"))
        key = group_key(definitions[row["oid"]]) if row["oid"] in definitions else ()
        if key:
            source = "definition"
        elif distinct:
            key, source = distinct[:1], "statistics"
        else:
            source = ""
        views.append(Matview(**row, key_columns=key, key_from=source))
    edges = tuple(ctx.rows("matview_edges", ViewEdge))
    return {"matviews": Matviews(views=tuple(views), edges=edges)}
