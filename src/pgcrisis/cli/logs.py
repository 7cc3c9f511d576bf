"""``pgcrisis logs``: the log's own report; flags in, :func:`read_report`, a renderer out."""

from __future__ import annotations

import sys
import time
from datetime import UTC

import click

from pgcrisis import sizes
from pgcrisis.logs.read import Progress
from pgcrisis.when import MOMENT_HELP, local_zone, parse_moment

#: reading shorter than this draws no progress line (a small log is read before it matters)
PROGRESS_AFTER_S = 1.0


def _progress() -> Progress | None:
    """A progress line on stderr, redrawn in place, when stderr is a terminal and the read
    takes more than :data:`PROGRESS_AFTER_S`; nothing otherwise (a pipe, a benchmark)."""
    if not sys.stderr.isatty():
        return None
    started = time.monotonic()
    last = [started]

    def show(done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - started < PROGRESS_AFTER_S or now - last[0] < 0.2:
            return
        last[0] = now
        of = f" of {sizes.words(total)} ({100 * done / total:.0f} %)" if total else ""
        sys.stderr.write(f"\rreading the log: {sizes.words(done)}{of}\x1b[K")
        sys.stderr.flush()

    return show


@click.command()
@click.argument("paths", metavar="PATH…", nargs=-1, required=True)
@click.option("--from", "start", default=None, metavar="TIME",
              help=f"Only records from this moment: {MOMENT_HELP}.")
@click.option("--to", "end", default=None, metavar="TIME",
              help="Only records up to this moment.")
@click.option("--format", "fmt", type=click.Choice(["terminal", "markdown", "html", "json"]),
              default="terminal", show_default=True,
              help="Output format (html: one self-contained page with charts; json: "
                   "schemas/logs.schema.json).")
@click.option("--log-format", default="auto", show_default=True,
              type=click.Choice(["auto", "jsonlog", "csvlog", "stderr"]),
              help="The log's format (auto: recognised from the content).")
@click.option("--log-line-prefix", default=None, metavar="PREFIX",
              help="The log_line_prefix of a stderr log (default: the server's, else "
                   "inferred from the lines, and said).")
@click.option("--utc", is_flag=True, help="Show times in UTC (default: this machine's zone).")
def logs(paths: tuple[str, ...], start: str | None, end: str | None, fmt: str,
         log_format: str, log_line_prefix: str | None, utc: bool) -> None:
    """What the server's log shows minute by minute: errors by SQLSTATE, refused
    connections, lock waits, cancellations, crashes, checkpoints, slow statements, with the
    findings the log alone shows on top.

    PATH is a log file, a directory of them, or - for standard input (compressed files
    are read as they are). Lines that cannot be read are counted and reported, never
    dropped silently.

    Exit status: 0 nothing above info, 1 warning, 2 critical, 3 could not run (a file
    that is not a PostgreSQL log, a prefix that fits no line, nothing in the window).
    """
    from pgcrisis.logs.report import read_report

    zone = UTC if utc else local_zone()
    report = read_report(list(paths), fmt=log_format, prefix=log_line_prefix,
                         start=parse_moment(start) if start else None,
                         end=parse_moment(end) if end else None,
                         progress=_progress(), zone=zone)
    if sys.stderr.isatty():
        sys.stderr.write("\r\x1b[K")
    if fmt == "json":
        from pgcrisis.presentation import logs_json

        sys.stdout.write(logs_json.render(report))
    elif fmt == "markdown":
        from pgcrisis.presentation import logs_markdown

        sys.stdout.write(logs_markdown.render(report))
    elif fmt == "html":
        from pgcrisis.presentation import logs_html

        sys.stdout.write(logs_html.render(report))
    else:
        from rich.console import Console

        from pgcrisis.presentation import logs_terminal

        logs_terminal.render(report, Console())
    sys.exit(report.exit_code)
