"""``pgcrisis explain``: stub, built by the explain work."""

from __future__ import annotations

import click


@click.command()
def explain() -> None:
    """Analyse an EXPLAIN plan (not built yet)."""
    raise click.UsageError("explain is not built yet")
