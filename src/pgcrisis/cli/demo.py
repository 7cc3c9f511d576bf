"""``pgcrisis demo``: stub."""

from __future__ import annotations

import click


@click.command()
def demo() -> None:
    """Replay the seed incident on an embedded server, diagnose it and fix it."""
