"""``pgcrisis explain``: analyse a plan file (any size) or capture one from a server."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from pgcrisis.errors import ConfigError, InputError
from pgcrisis.plan import Input, PlanAnalysis, analyse, analyse_bytes, compact, open_input

#: Inputs bigger than this get a progress bar (when stderr is a terminal).
PROGRESS_THRESHOLD = 50 << 20


def _wants_progress(source: Input) -> bool:
    return bool(source.size and source.size > PROGRESS_THRESHOLD and sys.stderr.isatty())


@contextmanager
def _progress(source: Input) -> Iterator[None]:
    """A progress bar on stderr fed by the reader's position in the (compressed) file."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                  TimeRemainingColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(f"reading {source.name}", total=source.size)
        source.progress = lambda done: bar.update(task, completed=done)
        yield


def _analyse_file(path: str) -> PlanAnalysis:
    source = open_input(path)
    try:
        if _wants_progress(source):
            return _with_progress(source)
        return analyse(source)
    finally:
        source.close()


def _with_progress(source: Input) -> PlanAnalysis:
    with _progress(source):
        return analyse(source)


#: Compaction chunks: small enough that numpy's temporaries stay in the CPU caches.
COMPACT_CHUNK = 1 << 18


def _write_compact(path: str, output: str | None) -> None:
    source = open_input(path, chunk_size=COMPACT_CHUNK)
    out = open(output, "wb") if output else sys.stdout.buffer  # noqa: SIM115
    try:
        with _progress(source) if _wants_progress(source) else nullcontext():
            for chunk in compact(source):
                out.write(chunk)
        out.write(b"\n")
        out.flush()
    finally:
        source.close()
        if output:
            out.close()


def _parse_compare(value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    name, sep, setting = value.partition("=")
    if not sep or not name.strip():
        raise ConfigError(f"--compare wants SETTING=VALUE (like jit=off), got {value!r}")
    return name.strip(), setting.strip()


def _emit(analysis: PlanAnalysis, fmt: str, output: str | None, *,
          compare: tuple[str, PlanAnalysis] | None = None, title: str) -> None:
    from pgcrisis.presentation import explain_html, explain_json, explain_terminal

    if fmt == "json":
        extra: dict[str, Any] | None = None
        if compare is not None:
            extra = explain_json.compare_json(compare[0], analysis, compare[1])
        text = explain_json.render(analysis, compare=extra) + "\n"
    elif fmt == "html":
        text = explain_html.render(analysis, title=title)
    else:
        if output:
            console = Console(file=open(output, "w", encoding="utf-8"),  # noqa: SIM115
                              width=160, force_terminal=False)
        else:
            console = Console()
        explain_terminal.render(analysis, console, title=title)
        if compare is not None:
            explain_terminal.render_compare(compare[0], analysis, compare[1], console)
        if output:
            console.file.close()
        return
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@click.command()
@click.argument("plan_file", required=False, metavar="PLAN_FILE|-")
@click.option("--format", "fmt", type=click.Choice(["terminal", "json", "html"]),
              default="terminal", show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file.")
@click.option("--compact", "compact_only", is_flag=True,
              help="Write the JSON plan with whitespace removed (streamed) and stop.")
@click.option("--dsn", help="Capture from this server (else PGCRISIS_DSN, DATABASE_URL, PG*).")
@click.option("--query", help="Capture the plan of this SQL statement.")
@click.option("--file", "query_file", type=click.Path(exists=True, dir_okay=False),
              help="Capture the plan of the statement in this file.")
@click.option("--view", help="Capture the plan of SELECT * FROM this view.")
@click.option("--no-analyze", is_flag=True, help="Plan only: do not run the statement.")
@click.option("--timeout", type=float, default=60.0, show_default=True,
              help="statement_timeout for the capture, seconds.")
@click.option("--compare", "compare_setting", metavar="SETTING=VALUE",
              help="Capture twice, the second time with this setting (e.g. jit=off).")
@click.option("--save-plan", type=click.Path(dir_okay=False),
              help="Also save the captured JSON plan to this file.")
def explain(plan_file: str | None, fmt: str, output: str | None, compact_only: bool,
            dsn: str | None, query: str | None, query_file: str | None, view: str | None,
            no_analyze: bool, timeout: float, compare_setting: str | None,
            save_plan: str | None) -> None:
    """Why is this query slow? Analyse an EXPLAIN plan, or capture one with --query.

    PLAN_FILE is EXPLAIN output in JSON (one plan, psql's array, pasted with psql's
    decorations) or text format, gzip or not, of any size; `-` reads stdin. With --query,
    --file or --view the statement is run under EXPLAIN (ANALYZE, BUFFERS, VERBOSE,
    SETTINGS) in a transaction that is always rolled back.
    """
    sources = [s for s in (query, query_file, view) if s]
    if len(sources) > 1:
        raise ConfigError("give one of --query, --file, --view")
    if plan_file and sources:
        raise ConfigError("give a plan file or a query to capture, not both")
    if not plan_file and not sources:
        raise InputError("nothing to explain: give a plan file (or - for stdin), or --query")
    compare = _parse_compare(compare_setting)
    if compare is not None and not sources:
        raise ConfigError("--compare needs a query to capture (--query, --file or --view)")
    if compact_only:
        if not plan_file:
            raise ConfigError("--compact works on a plan file")
        _write_compact(plan_file, output)
        return
    if plan_file:
        analysis = _analyse_file(plan_file)
        title = f"pgcrisis explain {'stdin' if plan_file == '-' else Path(plan_file).name}"
        _emit(analysis, fmt, output, title=title)
        return

    from pgcrisis.dsn import resolve
    from pgcrisis.plan.capture import capture, view_statement

    target = resolve(dsn)
    statement: Any
    if view:
        statement = view_statement(view)
    elif query_file:
        statement = Path(query_file).read_text(encoding="utf-8")
    else:
        statement = query
    captured = capture(target, statement, analyze=not no_analyze, timeout_s=timeout)
    if save_plan:
        Path(save_plan).write_text(captured.plan_json, encoding="utf-8")
    analysis = analyse_bytes(captured.plan_json.encode(), name="captured plan",
                             foreign_keys=captured.foreign_keys)
    changed: tuple[str, PlanAnalysis] | None = None
    if compare is not None:
        again = capture(target, statement, analyze=not no_analyze, timeout_s=timeout,
                        settings={compare[0]: compare[1]})
        changed = (f"{compare[0]}={compare[1]}",
                   analyse_bytes(again.plan_json.encode(), name="captured plan",
                                 foreign_keys=again.foreign_keys))
    _emit(analysis, fmt, output, compare=changed, title="pgcrisis explain (captured)")
