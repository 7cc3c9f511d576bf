"""``pgcrisis triage``: one read-only pass, ranked findings, Nagios exit codes."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.cli.options import (
    cpus_given,
    cpus_option,
    dsn_option,
    limits_from,
    log_read_options,
    session_options,
)
from pgcrisis.config import Config, build_thresholds, load, parse_assignment
from pgcrisis.errors import ConfigError
from pgcrisis.judge import TriageReport
from pgcrisis.model.load import DEFAULT_WINDOW_S
from pgcrisis.presentation import DEFAULT_PANELS
from pgcrisis.when import MOMENT_HELP

# The live pass (psycopg, the probes) and each renderer are imported where they are used:
# triage of a recording (--store) never loads the database driver, and that is most of the
# time ``triage --at`` takes (issue 10's target: under a second).


@click.command()
@click.argument("dsn_arg", metavar="[DSN]", required=False)
@dsn_option
@click.option("--format", "fmt", type=click.Choice(["terminal", "json", "markdown"]),
              default="terminal", show_default=True, help="Output format.")
@session_options
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, metavar="FILE",
              help="Thresholds and defaults from this TOML file (default: ./pgcrisis.toml "
                   "when present).")
@click.option("--all-databases", is_flag=True, default=None,
              help="Run the per-database checks (tables, indexes, statistics, statements) in "
                   "every database the role can connect to; server-wide checks run once.")
@click.option("--sample", "sample_s", type=click.FloatRange(0, 300), default=None,
              metavar="SECONDS",
              help="The load window: watch the server this long, on a session of its own "
                   "while the other probes run, for where the active sessions' time goes "
                   "(CPU, I/O, locks...) and who puts it there (pg_stat_statements "
                   "differences), and call rates per client (runaway-client). 0: no window "
                   f"[default: {DEFAULT_WINDOW_S:g}, or [triage] sample in pgcrisis.toml].")
@cpus_option
@click.option("--threshold", "threshold_args", multiple=True, metavar="NAME=VALUE",
              help="Set any threshold (see docs/checks.md), e.g. --threshold "
                   "bloat_dead_share=0.3. Repeatable; wins over the config file.")
@click.option("--idle-threshold", type=click.FloatRange(0), default=None, metavar="SECONDS",
              help="Report a session idle in transaction that blocks nobody after this long "
                   f"[default: {Thresholds().idle_in_transaction_s:g}].")
@click.option("--long-query-threshold", type=click.FloatRange(0), default=None,
              metavar="SECONDS",
              help="Report an active statement running longer than this "
                   f"[default: {Thresholds().long_running_query_s:g}].")
@click.option("--long-transaction-threshold", type=click.FloatRange(0), default=None,
              metavar="SECONDS",
              help="Report a transaction holding the xmin horizon longer than this "
                   f"[default: {Thresholds().long_transaction_s:g}].")
@click.option("--no-verify", is_flag=True,
              help="Do not verify index advice with hypopg (fewer queries).")
@click.option("--store", default=None, metavar="PATH|DSN",
              help="Judge a recording (pgcrisis record) instead of the live server: with --at, "
                   "or --from and --to.")
@click.option("--log", "log_paths", multiple=True, metavar="PATH",
              help="Judge the server's log instead of the server: files, directories "
                   "(every log file in it), compressed or not, '-' for stdin; repeatable. "
                   "With --from/--to, only that window. Lock waits, deadlocks, refused "
                   "connections, cancels, crashes, checkpoints, temporary files, slow "
                   "statements and auto_explain plans become the same findings as live "
                   "triage's.")
@log_read_options
@click.option("--name", "recording", default=None,
              help="Which recording of the store (needed when it holds several).")
@click.option("--at", "at", default=None, metavar="TIME",
              help=f"The moment to triage: {MOMENT_HELP}.")
@click.option("--from", "start", default=None, metavar="TIME",
              help="Start of a window to judge (with --to): each finding with when it started, "
                   "ended and peaked, plus stalls, refresh waves, connection spikes, statement "
                   "regressions and what changed.")
@click.option("--to", "end", default=None, metavar="TIME", help="End of the window.")
@click.option("--all", "show_all", is_flag=True,
              help="Terminal format: print every finding in full (default: the worst root "
                   f"causes, up to {DEFAULT_PANELS}, in full, the rest one "
                   "line each).")
def triage(dsn_arg: str | None, dsn: str | None, fmt: str, statement_timeout_ms: int,
           lock_timeout_ms: int, config_path: Path | None, all_databases: bool | None,
           sample_s: float | None, cpus: int | None, threshold_args: tuple[str, ...],
           idle_threshold: float | None, long_query_threshold: float | None,
           long_transaction_threshold: float | None, no_verify: bool, store: str | None,
           log_paths: tuple[str, ...], log_format: str, log_line_prefix: str | None,
           recording: str | None, at: str | None, start: str | None, end: str | None,
           show_all: bool) -> None:
    """One read-only pass over a live server: ranked findings with evidence and remedies.

    The session is read-only, named `pgcrisis`, and carries short statement and lock
    timeouts, so it finishes even while another session holds an ACCESS EXCLUSIVE lock.

    Findings of one kind over many objects (cron jobs, views, indexes, tables) come as one
    finding listing them all. On a terminal the worst root causes are printed in full and the
    rest one line each (--all: everything in full); piped or redirected, no line is cut.

    Thresholds come from the defaults, then ./pgcrisis.toml (or --config FILE), then flags.

    With --log PATH the past is judged from the server's log alone (no server is read): lock
    waits, deadlocks, refused connections, cancels, crashes... as the same findings.

    Exit status: 0 nothing above info, 1 warning, 2 critical, 3 could not run.
    """
    if dsn_arg and dsn and dsn_arg != dsn:
        raise ConfigError("give the DSN either as the argument or with --dsn, not both")
    config = load(config_path)
    flags = dict(parse_assignment(a) for a in threshold_args)
    for name, value in (("idle_in_transaction_s", idle_threshold),
                        ("long_running_query_s", long_query_threshold),
                        ("long_transaction_s", long_transaction_threshold)):
        if value is not None:
            flags[name] = value
    thresholds = build_thresholds(config.thresholds, flags)
    if not log_paths and (log_format != "auto" or log_line_prefix is not None):
        raise ConfigError("--log-format and --log-line-prefix say how to read --log PATH: "
                          "give --log")
    if log_paths:
        report = _log(log_paths, dsn_arg or dsn, store, at, start, end, log_format,
                      log_line_prefix)
    elif store is not None or at is not None or start is not None or end is not None:
        from pgcrisis.history.service import triage_past

        if dsn_arg or dsn:
            raise ConfigError("--store judges a recording, not a server: drop the DSN")
        from pgcrisis.model.load import CpuCount

        count, where = cpus_given(cpus, config.cpus, config.cpus_from)
        report = triage_past(store, recording, at=at, start=start, end=end,
                             thresholds=thresholds,
                             cpus=None if count is None else CpuCount.given(count, where))
    else:
        report = _live(dsn_arg or dsn, statement_timeout_ms, lock_timeout_ms, thresholds,
                       config, all_databases, sample_s, cpus, no_verify)
        from pgcrisis.incident.store import record_triage

        record_triage(report, by="triage")  # an open incident collects its root findings
    if fmt == "json":
        from pgcrisis.presentation import triage_json

        sys.stdout.write(triage_json.render(report))
    elif fmt == "markdown":
        from pgcrisis.presentation import triage_markdown

        sys.stdout.write(triage_markdown.render(report))
    else:
        from rich.console import Console

        from pgcrisis.presentation import triage_terminal

        triage_terminal.render(report, Console(), panels=None if show_all else DEFAULT_PANELS)
    sys.exit(report.exit_code)


def _log(paths: tuple[str, ...], dsn: str | None, store: str | None, at: str | None,
         start: str | None, end: str | None, fmt: str, prefix: str | None) -> TriageReport:
    """The report on the log alone (no server is read: a DSN or a store is refused, so the
    report never mixes the log's past with a server's present)."""
    from pgcrisis.logs.service import triage_log

    if dsn:
        raise ConfigError("--log judges the log alone, not a server: drop the DSN")
    if store is not None:
        raise ConfigError("--log judges the log alone, not a recording: drop --store")
    if at is not None:
        raise ConfigError("--log judges a window: give --from and/or --to, not --at")
    return triage_log(paths, start=start, end=end, fmt=fmt, prefix=prefix)


def _live(dsn: str | None, statement_timeout_ms: int, lock_timeout_ms: int,
          thresholds: Thresholds, config: Config, all_databases: bool | None,
          sample_s: float | None, cpus: int | None, no_verify: bool) -> TriageReport:
    """One pass over the live server."""
    from pgcrisis.collect.probe import ProbeOptions
    from pgcrisis.dsn import resolve
    from pgcrisis.triage import run_triage

    target = resolve(dsn)
    count, where = cpus_given(cpus, config.cpus, config.cpus_from)
    window = sample_s if sample_s is not None else config.sample_s
    return run_triage(target, limits=limits_from(statement_timeout_ms, lock_timeout_ms),
                      thresholds=thresholds,
                      options=ProbeOptions(verify_index_advice=not no_verify, cpus=count,
                                           cpus_from=where),
                      all_databases=(config.all_databases if all_databases is None
                                     else all_databases),
                      sample_s=DEFAULT_WINDOW_S if window is None else window)
