"""``pgcrisis record``: the flight recorder."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import click

from pgcrisis.cli.options import (
    cpus_given,
    cpus_option,
    dsn_option,
    limits_from,
    session_options,
)
from pgcrisis.collect.probe import ProbeOptions
from pgcrisis.config import load as load_config
from pgcrisis.dsn import resolve
from pgcrisis.durations import parse as parse_duration
from pgcrisis.errors import ConfigError
from pgcrisis.record.recorder import RecorderOptions, RecorderStats
from pgcrisis.record.service import default_store, log_follower, run_recording
from pgcrisis.sizes import parse as parse_size
from pgcrisis.store import Frame
from pgcrisis.when import shown


def _progress(every_s: float) -> Callable[[Frame, RecorderStats], None]:
    """A progress line on stderr: redrawn in place on a terminal, every minute in a log."""
    tty = sys.stderr.isatty()
    last = [0.0]

    def show(frame: Frame, stats: RecorderStats) -> None:
        now = time.monotonic()
        if now - last[0] < (1.0 if tty else every_s):
            return
        last[0] = now
        line = (f"recording: {stats.frames:,} samples, last at {shown(frame.server_time)}, "
                f"sample took {stats.last_sample_s * 1000:.0f} ms")
        sys.stderr.write(("\r" + line + "\x1b[K") if tty else line + "\n")
        sys.stderr.flush()

    return show


@click.command()
@click.argument("dsn_arg", metavar="[DSN]", required=False)
@dsn_option
@click.option("--store", default=None, metavar="PATH|DSN",
              help="Where the recording goes: a SQLite file, or a central PostgreSQL "
                   "database (postgresql://...). Default: $PGCRISIS_STORE, else "
                   "~/.local/state/pgcrisis/recordings.sqlite.")
@click.option("--name", default=None,
              help="The recording's name in the store (default: database@host:port).")
@click.option("--interval", default="1s", show_default=True,
              help="How often sessions and locks are sampled (statements, tables, views and "
                   "jobs: every minute).")
@click.option("--retention", default="14d", show_default=True,
              help="Delete what is older (detail older than 48 h is thinned to a sample a "
                   "minute, plus every sample with a warning or critical finding).")
@click.option("--max-size", default=None, metavar="SIZE",
              help="Stop with an error before the store grows past this (e.g. 2GiB).")
@click.option("--duration", default=None, metavar="DURATION",
              help="Stop after this long (default: until Ctrl-C).")
@click.option("--store-in-watched-database", "allow_watched", is_flag=True,
              help="Allow --store to be the very database being recorded (not advised: it is "
                   "the one locked, full or down when the history is needed).")
@click.option("--log", "log_dir", default=None, metavar="DIR",
              help="Also count the errors of the server's log in DIR (jsonlog or csvlog; "
                   "stderr with its log_line_prefix), per SQLSTATE, statement, application "
                   "and tag (/* view='...' */).")
@click.option("--log-format", default="auto", show_default=True,
              type=click.Choice(["auto", "jsonlog", "csvlog", "stderr"]),
              help="The log's format (auto: by the files' content).")
@click.option("--log-line-prefix", default=None, metavar="PREFIX",
              help="The log_line_prefix of a stderr log (default: the server's own).")
@click.option("--metrics-port", default=None, type=click.IntRange(1, 65535), metavar="PORT",
              help="Serve /metrics (OpenMetrics) on 127.0.0.1:PORT while recording.")
@cpus_option
@session_options
def record(dsn_arg: str | None, dsn: str | None, store: str | None, name: str | None,
           interval: str, retention: str, max_size: str | None, duration: str | None,
           allow_watched: bool, log_dir: str | None, log_format: str,
           log_line_prefix: str | None, metrics_port: int | None, cpus: int | None,
           statement_timeout_ms: int, lock_timeout_ms: int) -> None:
    """Record a server's sessions, locks, statements, cached views and jobs, to triage any
    past moment later (pgcrisis triage --store ... --at 09:14).

    Samples with triage's own probes on a read-only, time-limited session; never writes to
    the server it watches. Ctrl-C stops it.
    """
    if dsn_arg and dsn and dsn_arg != dsn:
        raise ConfigError("give the DSN either as the argument or with --dsn, not both")
    step = parse_duration(interval).total_seconds()
    if step < 0.1:
        raise ConfigError(f"--interval {interval} is too short: 100ms at least")
    config = load_config()
    count, where = cpus_given(cpus, config.cpus, config.cpus_from)
    options = RecorderOptions(interval_s=step, retention=parse_duration(retention),
                              limits=limits_from(statement_timeout_ms, lock_timeout_ms),
                              probe_options=ProbeOptions(cpus=count, cpus_from=where))
    target = resolve(dsn_arg or dsn)
    spec = store or default_store()
    seconds = parse_duration(duration).total_seconds() if duration is not None else None
    log = (log_follower(target, log_dir, log_format, log_line_prefix)
           if log_dir is not None else None)
    click.echo(f"pgcrisis record: {target.redacted} -> {spec} every {interval}; Ctrl-C stops",
               err=True)
    if log is not None and log.stderr is not None and not log.stderr.knows_sqlstate:
        click.echo(f"pgcrisis record: note: log_line_prefix {log.stderr.prefix!r} has no %e: "
                   "errors are counted without their SQLSTATE (unless log_error_verbosity "
                   "is verbose)", err=True)
    stats = run_recording(target, spec, name=name, options=options,
                          max_bytes=parse_size(max_size) if max_size else None,
                          allow_watched=allow_watched, seconds=seconds,
                          on_frame=_progress(60.0), log=log, metrics_port=metrics_port)
    last = shown(stats.last_server_time) if stats.last_server_time else "never"
    click.echo(f"\npgcrisis record: stopped after {stats.frames:,} samples (last at {last}), "
               f"{stats.events} events", err=True)
