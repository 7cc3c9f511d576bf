"""Materialized views, what they are built on, and whether they can refresh concurrently.

Owned by the matviews probe (matview-* checks, later `pgcrisis cache`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Matview:
    """One materialized view."""

    oid: int
    name: str  # schema-qualified
    populated: bool
    concurrent_ready: bool


@dataclass(frozen=True, slots=True)
class Matviews:
    """The matviews part of a snapshot."""

    views: tuple[Matview, ...] = ()
