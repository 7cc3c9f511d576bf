"""``pgcrisis triage``: stub."""

from __future__ import annotations

import click


@click.command()
def triage() -> None:
    """One read-only pass over a live server: ranked findings with evidence and remedies."""
