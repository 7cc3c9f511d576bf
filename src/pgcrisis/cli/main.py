"""The ``pgcrisis`` command: a click group; every error becomes one line and exit 3."""

from __future__ import annotations

import sys
from typing import Any

import click
import psycopg

from pgcrisis import __version__
from pgcrisis.dsn import redact
from pgcrisis.errors import PgcrisisError


class Group(click.Group):
    """A group that turns pgcrisis errors (and Ctrl-C) into one line, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PgcrisisError as exc:
            click.echo(f"pgcrisis: {redact(str(exc))}", err=True)
            sys.exit(exc.exit_code)
        except psycopg.Error as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            click.echo(f"pgcrisis: database error: {redact(first)}", err=True)
            sys.exit(3)
        except KeyboardInterrupt:
            click.echo("pgcrisis: interrupted", err=True)
            sys.exit(130)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pgcrisis")
def cli() -> None:
    """Why has PostgreSQL seized up, and what do we do right now?

    Start with `pgcrisis demo`; point `pgcrisis triage` at your own server.
    The server is found by --dsn, else PGCRISIS_DSN, else DATABASE_URL, else libpq's PG*
    variables and service files.
    """


def _register() -> None:
    from pgcrisis.cli import cache, demo, explain, triage

    cli.add_command(triage.triage)
    cli.add_command(cache.cache)
    cli.add_command(demo.demo)
    cli.add_command(explain.explain)


_register()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="pgcrisis")
