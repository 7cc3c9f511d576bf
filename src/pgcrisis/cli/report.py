"""``pgcrisis report``: an incident's timeline for a window of a recording."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pgcrisis.history.service import recording_name, triage_window
from pgcrisis.history.timeline import per_minute
from pgcrisis.presentation import record_report
from pgcrisis.store import open_store
from pgcrisis.when import MOMENT_HELP, parse_moment


@click.command()
@click.option("--store", required=True, metavar="PATH|DSN", help="The recording's store.")
@click.option("--name", "recording", default=None,
              help="Which recording (needed when the store holds several).")
@click.option("--from", "start", required=True, metavar="TIME",
              help=f"Start: {MOMENT_HELP}.")
@click.option("--to", "end", required=True, metavar="TIME", help="End of the window.")
@click.option("--format", "fmt", type=click.Choice(["markdown", "html"]), default="markdown",
              show_default=True, help="Markdown pastes into an incident channel; HTML is one "
                                      "self-contained page.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (default: standard output).")
def report(store: str, recording: str | None, start: str, end: str, fmt: str,
           output: Path | None) -> None:
    """The incident's timeline: a per-minute picture of active sessions, lock waiters,
    refreshes running, job runs and statement time; the window's findings with when each
    started and ended; what changed."""
    opened = open_store(store, create=False)
    try:
        name = recording_name(opened, recording)
        first, last = parse_moment(start), parse_moment(end)
        window = triage_window(opened, name, first, last)
        minutes = per_minute(list(opened.snapshots(name, first, last)))
    finally:
        opened.close()
    text = (record_report.html if fmt == "html" else record_report.markdown)(window, minutes)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"pgcrisis report: wrote {output}", err=True)
