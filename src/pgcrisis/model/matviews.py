"""Materialized views, what they are built on, and whether they can refresh concurrently.

Filled by the matviews probe (``collect/probe_matviews.py``); read by the matview-* checks
(and later ``pgcrisis cache``). Names are schema-qualified in ``quote_ident`` style, the same
form the lock probe uses, so a lock on a matview and the matview itself compare equal.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Matview:
    """One materialized view.

    ``has_key_index``: it has a unique, valid index on plain columns with no WHERE clause,
    which ``REFRESH ... CONCURRENTLY`` needs. ``concurrent_ready`` also needs the view to be
    populated (the first refresh of an unpopulated view cannot be concurrent).
    ``key_columns`` is a likely row key for that unique index, ``key_from`` says where it
    comes from: ``"definition"`` (the view's GROUP BY or DISTINCT columns: a key by
    construction), ``"statistics"`` (a column whose sampled values were all distinct and never
    null: to be verified), or ``""`` (none found).
    """

    oid: int
    name: str
    populated: bool
    concurrent_ready: bool
    relname: str = ""                 # unquoted, for naming an index after it
    has_key_index: bool = False
    unique_indexes: int = 0           # unique indexes of any kind, usable or not
    relpages: int = 0
    reltuples: float = 0.0
    reads: int = 0                    # seq_scan + idx_scan since the statistics were reset
    key_columns: tuple[str, ...] = ()
    key_from: str = ""
    schema: str = ""                  # unquoted, where an index on it is created


@dataclass(frozen=True, slots=True)
class ViewEdge:
    """``view`` (a plain view or a matview) reads ``reads`` (a plain view or a matview)."""

    view: str
    view_kind: str   # 'v' plain view, 'm' materialized view
    reads: str
    reads_kind: str


@dataclass(frozen=True, slots=True)
class Matviews:
    """The matviews part of a snapshot: the views and the view-on-view dependency edges."""

    views: tuple[Matview, ...] = ()
    edges: tuple[ViewEdge, ...] = ()

    def get(self, name: str | None) -> Matview | None:
        """The matview called ``name``, if there is one."""
        for v in self.views:
            if v.name == name:
                return v
        return None

    def _readers(self, name: str) -> list[ViewEdge]:
        return [e for e in self.edges if e.reads == name]

    def blocked_views(self, name: str) -> tuple[str, ...]:
        """Plain views whose readers wait while ``name`` is locked by a plain REFRESH.

        A query on a plain view locks everything the view is built on, so the walk goes up
        through plain views only; a matview built on ``name`` keeps serving its own copy.
        """
        found: list[str] = []
        todo = [name]
        while todo:
            current = todo.pop()
            for edge in self._readers(current):
                if edge.view_kind == "v" and edge.view not in found:
                    found.append(edge.view)
                    todo.append(edge.view)
        return tuple(found)

    def dependents(self, name: str) -> tuple[str, ...]:
        """Every view and matview built on ``name``, directly or through others."""
        found: list[str] = []
        todo = [name]
        while todo:
            current = todo.pop()
            for edge in self._readers(current):
                if edge.view not in found and edge.view != name:
                    found.append(edge.view)
                    todo.append(edge.view)
        return tuple(found)
