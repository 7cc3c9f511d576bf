"""``pgcrisis top``: the live view of a server in trouble, or the same view of a recording.

Flags in, a source out (a live sampler or a recording's replay), then the Textual app (imported
only here, when ``top`` runs). Everything that can go wrong before the first screen (a refused
connection, a recording that does not cover the moment, no terminal, a terminal too small) is
one line and exit 3.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from pgcrisis.cli.options import (
    cpus_given,
    cpus_option,
    dsn_option,
    limits_from,
    session_options,
)
from pgcrisis.dsn import Target, resolve
from pgcrisis.durations import parse as parse_duration
from pgcrisis.errors import ConfigError
from pgcrisis.when import MOMENT_HELP, parse_moment

if TYPE_CHECKING:
    from pgcrisis.presentation.top.app import Source

#: the smallest terminal the screens are laid out for
MIN_COLUMNS, MIN_LINES = 80, 24


def _terminal() -> None:
    """Refuse to start without a terminal big enough for the screens."""
    if not (sys.stdout.isatty() and sys.stdin.isatty()):
        raise ConfigError("top needs a terminal (stdin and stdout are not one); for a report "
                          "use pgcrisis triage")
    columns, lines = os.get_terminal_size(sys.stdout.fileno())
    if columns < MIN_COLUMNS or lines < MIN_LINES:
        raise ConfigError(f"the terminal is {columns}×{lines}; top needs at least "
                          f"{MIN_COLUMNS}×{MIN_LINES}")


@click.command()
@click.argument("dsn_arg", metavar="[DSN]", required=False)
@dsn_option
@click.option("--interval", default="1s", show_default=True,
              help="How often sessions and locks are sampled (a slow sample skips ticks).")
@click.option("--read-only", is_flag=True,
              help="Offer no action (no cancel, terminate, rollback or job keys).")
@click.option("--store", default=None, metavar="PATH|DSN",
              help="Replay a recording (pgcrisis record) instead of watching a server.")
@click.option("--name", "recording", default=None,
              help="Which recording of the store (needed when it holds several).")
@click.option("--at", "at", default=None, metavar="TIME",
              help=f"The moment to open the replay at: {MOMENT_HELP}.")
@cpus_option
@session_options
def top(dsn_arg: str | None, dsn: str | None, interval: str, read_only: bool,
        store: str | None, recording: str | None, at: str | None, cpus: int | None,
        statement_timeout_ms: int, lock_timeout_ms: int) -> None:
    """The live view: header, the load by wait class against the CPUs, sessions, blocking
    tree, findings, details; cancel or terminate sessions, roll back a prepared transaction,
    pause a pg_cron job, and on a saturation cancel its statement, end its client, cap its
    role or turn JIT off for it (each confirmed, with its SQL shown, and journaled).

    With --store and --at it replays a recording: [ and ] step by sample, n and N jump to the
    next and previous moment with a finding; actions are off.
    """
    if dsn_arg and dsn and dsn_arg != dsn:
        raise ConfigError("give the DSN either as the argument or with --dsn, not both")
    if store is not None or at is not None:
        _replay(dsn_arg or dsn, store, recording, at)
        return
    step = parse_duration(interval).total_seconds()
    if step < 0.1:
        raise ConfigError(f"--interval {interval} is too short: 100ms at least")
    from pgcrisis.collect.probe import ProbeOptions
    from pgcrisis.config import load as load_config
    from pgcrisis.record.recorder import RecorderOptions
    from pgcrisis.top.live.sampling import LiveSource

    config = load_config()
    count, where = cpus_given(cpus, config.cpus, config.cpus_from)
    target = resolve(dsn_arg or dsn)
    source = LiveSource(target, interval_s=step, options=RecorderOptions(
        limits=limits_from(statement_timeout_ms, lock_timeout_ms),
        probe_options=ProbeOptions(cpus=count, cpus_from=where)))
    source.start()  # a refused connection raises ConnectError here, before any screen
    try:
        _terminal()
        _run(source, target, read_only)
    finally:
        source.stop()


def _replay(dsn: str | None, store: str | None, recording: str | None, at: str | None) -> None:
    from pgcrisis.store import open_store
    from pgcrisis.top.replay import ReplaySource

    if dsn:
        raise ConfigError("--store replays a recording, not a server: drop the DSN")
    if store is None or at is None:
        raise ConfigError("a replay needs both --store PATH|DSN and --at TIME")
    when = parse_moment(at)
    opened = open_store(store, create=False)
    try:
        source = ReplaySource(opened, recording, when)
        _terminal()
        _run(source, Target("", f"recording {source.name}", label=f"recording {source.name}"),
             True)
    finally:
        opened.close()


def _run(source: Source, target: Target, read_only: bool) -> None:
    from pgcrisis.presentation.top.app import TopApp

    TopApp(source, target=target, read_only=read_only).run()
