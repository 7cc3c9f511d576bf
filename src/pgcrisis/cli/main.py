"""The ``pgcrisis`` command: a click group; every error becomes one line and exit 3.

Subcommands are imported only when they run (``pgcrisis explain`` on a 1 GiB plan should not
pay for the triage, cache or demo modules' imports in time or memory).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from pgcrisis import __version__
from pgcrisis.dsn import redact
from pgcrisis.errors import PgcrisisError, first_line

#: command name -> "module:attribute" of its click command
COMMANDS = {
    "triage": "pgcrisis.cli.triage:triage",
    "explain": "pgcrisis.cli.explain:explain",
    "cache": "pgcrisis.cli.cache:cache",
    "demo": "pgcrisis.cli.demo:demo",
    "record": "pgcrisis.cli.record:record",
    "report": "pgcrisis.cli.report:report",
    "mitigate": "pgcrisis.cli.mitigate:mitigate",
    "incident": "pgcrisis.cli.incident:incident",
    "top": "pgcrisis.cli.top:top",
    "serve": "pgcrisis.cli.serve:serve",
    "logs": "pgcrisis.cli.logs:logs",
}


class Group(click.Group):
    """Lazily loaded subcommands; pgcrisis errors (and Ctrl-C) become one line, never a
    traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PgcrisisError as exc:
            click.echo(f"pgcrisis: {redact(str(exc))}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("pgcrisis: interrupted", err=True)
            sys.exit(130)
        except Exception as exc:
            if not _is_database_error(exc):
                raise
            click.echo(f"pgcrisis: database error: {redact(first_line(exc))}", err=True)
            sys.exit(3)


def _is_database_error(exc: Exception) -> bool:
    """A psycopg error, without importing psycopg: a command that never loaded the driver
    (triage of a recording, explain) cannot have raised one, and importing it costs a third
    of a second."""
    psycopg = sys.modules.get("psycopg")
    return psycopg is not None and isinstance(exc, psycopg.Error)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pgcrisis")
def cli() -> None:
    """Why has PostgreSQL seized up, and what do we do right now?

    Start with `pgcrisis demo`; point `pgcrisis triage` at your own server.
    The server is found by --dsn, else PGCRISIS_DSN, else DATABASE_URL, else libpq's PG*
    variables and service files.
    """


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="pgcrisis")
