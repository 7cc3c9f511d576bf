"""``pgcrisis capacity``: flags in, the capacity service, a renderer out."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pgcrisis.cli.options import cpus_option, dsn_option, limits_from, session_options
from pgcrisis.errors import ConfigError

if TYPE_CHECKING:
    from pgcrisis.capacity.service import Ask

# numpy (the forecasts) and psycopg (a live pass) are imported by the service when it runs.


@click.command()
@click.argument("dsn_arg", metavar="[DSN]", required=False)
@dsn_option
@click.option("--store", default=None, metavar="PATH|DSN",
              help="Forecast from a recording's days (pgcrisis record) instead of one pass.")
@click.option("--name", "recording", default=None,
              help="Which recording of the store (needed when it holds several).")
@click.option("--disk-size", default=None, metavar="SIZE",
              help="The disk the databases live on, e.g. 500GB (default: a --plan's storage).")
@cpus_option
@click.option("--plan", default=None, metavar="NAME",
              help="Judge against this plan of pgcrisis.toml ([plans.NAME]) only.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, metavar="FILE",
              help="Plans from this TOML file (default: ./pgcrisis.toml when present).")
@click.option("--level", type=click.FloatRange(0.5, 0.99), default=0.8, show_default=True,
              help="The forecast intervals' level (0.8: an interval covers the true date "
                   "about 80 % of the time).")
@click.option("--all", "every", is_flag=True,
              help="Every recording of the --store (a fleet), the one that runs out first "
                   "on top.")
@click.option("--format", "fmt",
              type=click.Choice(["terminal", "markdown", "json", "html"]),
              default="terminal", show_default=True, help="Output format.")
@session_options
def capacity(dsn_arg: str | None, dsn: str | None, store: str | None, recording: str | None,
             disk_size: str | None, cpus: int | None, plan: str | None,
             config_path: Path | None, level: float, every: bool, fmt: str,
             statement_timeout_ms: int, lock_timeout_ms: int) -> None:
    """Growth and plan advice: when disk, connections, transaction IDs, sequences and CPU
    run out, with an interval, and which plan the server needs.

    With --store, from a recording's daily history (two weeks at least for a date, four
    for the weekly pattern); with a DSN, one pass says where each resource stands now.

    Plans come from [plans.NAME] tables in pgcrisis.toml (cpus, memory, connections,
    storage). Exit status: 0, or 3 when it could not run (bad input says so in one line).
    """
    from pgcrisis import sizes
    from pgcrisis.capacity.service import Ask, live_capacity, store_capacity
    from pgcrisis.config import load

    if dsn_arg and dsn and dsn_arg != dsn:
        raise ConfigError("give the DSN either as the argument or with --dsn, not both")
    if store is not None and (dsn_arg or dsn):
        raise ConfigError("--store forecasts from a recording, not a server: drop the DSN")
    if recording is not None and store is None:
        raise ConfigError("--name picks a recording of a store: give --store")
    config = load(config_path)
    ask = Ask(disk_size=None if disk_size is None else sizes.parse(disk_size),
              cpus=cpus if cpus is not None else config.cpus, plans=config.plans, plan=plan,
              level=level)
    if every:
        if store is None or recording is not None:
            raise ConfigError("--all ranks every recording of a store: give --store, not "
                              "--name")
        _fleet(store, ask, fmt)
        return
    if store is not None:
        report = store_capacity(store, recording, ask)
    else:
        report = live_capacity(dsn_arg or dsn, ask,
                               limits_from(statement_timeout_ms, lock_timeout_ms))
    if fmt == "json":
        from pgcrisis.presentation import capacity_json

        sys.stdout.write(capacity_json.render(report))
    elif fmt == "markdown":
        from pgcrisis.presentation import capacity_markdown

        sys.stdout.write(capacity_markdown.render(report))
    elif fmt == "html":
        from pgcrisis.presentation import capacity_html

        sys.stdout.write(capacity_html.render(report))
    else:
        from rich.console import Console

        from pgcrisis.presentation import capacity_terminal

        capacity_terminal.render(report, Console())


def _fleet(store: str, ask: Ask, fmt: str) -> None:
    """``--all``: every recording of ``store`` ranked by its time to exhaustion."""
    from pgcrisis.capacity import fleet
    from pgcrisis.store import open_store

    if fmt not in ("terminal", "json"):
        raise ConfigError(f"--all writes terminal or json, not {fmt}")
    opened = open_store(store, create=False)
    try:
        rows = fleet.rank(opened, ask=ask)
    finally:
        opened.close()
    if fmt == "json":
        from pgcrisis.presentation import fleet_json
        sys.stdout.write(fleet_json.fleet(rows))
    else:
        from rich.console import Console

        from pgcrisis.presentation import fleet_terminal
        fleet_terminal.fleet(Console(), rows)
