"""``pgcrisis triage``: one read-only pass, ranked findings, Nagios exit codes."""

from __future__ import annotations

import sys

import click
from rich.console import Console

from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.cli.options import dsn_option, limits_from, session_options
from pgcrisis.collect.probe import ProbeOptions
from pgcrisis.dsn import resolve
from pgcrisis.errors import ConfigError
from pgcrisis.presentation import triage_json, triage_markdown, triage_terminal
from pgcrisis.triage import run_triage


@click.command()
@click.argument("dsn_arg", metavar="[DSN]", required=False)
@dsn_option
@click.option("--format", "fmt", type=click.Choice(["terminal", "json", "markdown"]),
              default="terminal", show_default=True, help="Output format.")
@session_options
@click.option("--idle-threshold", type=click.FloatRange(0),
              default=Thresholds().idle_in_transaction_s,
              show_default=True, metavar="SECONDS",
              help="Report a session idle in transaction that blocks nobody after this long.")
@click.option("--long-query-threshold", type=click.FloatRange(0),
              default=Thresholds().long_running_query_s, show_default=True, metavar="SECONDS",
              help="Report an active statement running longer than this.")
@click.option("--no-verify", is_flag=True,
              help="Do not verify index advice with hypopg (fewer queries).")
def triage(dsn_arg: str | None, dsn: str | None, fmt: str, statement_timeout_ms: int,
           lock_timeout_ms: int, idle_threshold: float, long_query_threshold: float,
           no_verify: bool) -> None:
    """One read-only pass over a live server: ranked findings with evidence and remedies.

    The session is read-only, named `pgcrisis`, and carries short statement and lock
    timeouts, so it finishes even while another session holds an ACCESS EXCLUSIVE lock.

    Exit status: 0 nothing above info, 1 warning, 2 critical, 3 could not run.
    """
    if dsn_arg and dsn and dsn_arg != dsn:
        raise ConfigError("give the DSN either as the argument or with --dsn, not both")
    target = resolve(dsn_arg or dsn)
    thresholds = Thresholds(idle_in_transaction_s=idle_threshold,
                            long_running_query_s=long_query_threshold)
    report = run_triage(target, limits=limits_from(statement_timeout_ms, lock_timeout_ms),
                        thresholds=thresholds,
                        options=ProbeOptions(verify_index_advice=not no_verify))
    if fmt == "json":
        sys.stdout.write(triage_json.render(report))
    elif fmt == "markdown":
        sys.stdout.write(triage_markdown.render(report))
    else:
        triage_terminal.render(report, Console())
    sys.exit(report.exit_code)
