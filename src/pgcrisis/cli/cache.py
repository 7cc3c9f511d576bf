"""``pgcrisis cache``: cached views that never block their readers (stub)."""

from __future__ import annotations

import click


@click.group()
def cache() -> None:
    """Materialized views: dependency tree, readiness, concurrent refresh, schedules."""
