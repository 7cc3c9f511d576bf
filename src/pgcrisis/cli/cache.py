"""``pgcrisis cache``: cached (materialized) views that never block their readers and never
pile up.

Flags in, one :mod:`pgcrisis.cache.service` call, a renderer out
(:mod:`pgcrisis.presentation.cache_terminal`, ``cache_json``, ``cache_pictures``). Every
subcommand finds its server as triage does (``--dsn``, else ``PGCRISIS_DSN``, else
``DATABASE_URL``, else libpq's ``PG*`` variables) and takes view names schema-qualified or
by search path. Reads use a safe read-only session; every change is shown as SQL and
journaled (see ``pgcrisis.journal``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from pgcrisis.cache import service
from pgcrisis.cache.apply.refresh import RefreshOptions
from pgcrisis.cache.apply.watch import WatchOptions
from pgcrisis.cache.schedule import Window
from pgcrisis.cli.options import dsn_option
from pgcrisis.dsn import resolve
from pgcrisis.presentation import cache_json, cache_pictures, cache_terminal

_err = Console(stderr=True)


def _render(fmt: str, output: str | None, *, json: Callable[[], str], svg: Callable[[], str],
            terminal: Callable[[Console], None]) -> None:
    """``--format`` and ``--output`` of the commands that draw: JSON to ``output`` (else
    stdout), a picture through :func:`cache_pictures.write_picture`, else the terminal."""
    if fmt == "json":
        text = json()
        if output:
            Path(output).write_text(text)
        else:
            sys.stdout.write(text)
    elif fmt in ("svg", "png"):
        cache_pictures.write_picture(svg(), fmt, output)
    else:
        terminal(cache_terminal.console())


_format_picture = click.option(
    "--format", "fmt", type=click.Choice(["terminal", "json", "svg", "png"]),
    default="terminal", show_default=True,
    help="terminal text, JSON, or a picture (svg to stdout or --output; png needs --output).")
_output = click.option("--output", "-o", metavar="FILE", default=None,
                       help="Write the picture (or JSON) to FILE.")


@click.group()
def cache() -> None:
    """Cached (materialized) views that never block their readers and never pile up.

    \b
      tree     the dependency graph (through plain views), levels, cycles
      check    per view: concurrent-ready?, key NULLs, size, durations, reads, schedule
      prepare  add the unique index CONCURRENTLY needs (verified first)
      refresh  refresh views bases-first, CONCURRENTLY, one refresher per view
      plan     a night schedule at the lower-bound peak, bases first; --apply for pg_cron
      run      execute that plan yourself where pg_cron is not installed
      watch    refresh on change: dirty marks, quiet period, no storms

    The server is found by --dsn, else PGCRISIS_DSN, else DATABASE_URL, else libpq's PG*
    variables. Changes are shown as SQL first and journaled.
    """


@cache.command()
@dsn_option
@_format_picture
@_output
def tree(dsn: str | None, fmt: str, output: str | None) -> None:
    """The dependency graph of materialized views, with levels.

    A matview built on another one through plain views (matview -> view -> view ->
    matview) depends on it: refresh the base first. Level 0 views read no other matview.
    Cycles are reported, not looped on. Each node shows its refresh duration (measured:
    pgcrisis log, pg_cron runs or pg_stat_statements; else estimated from size) and reads.
    A duration source that cannot be read (a missing privilege) is named with the reason.
    """
    cat = service.catalog(resolve(dsn))
    _render(fmt, output, json=lambda: cache_json.tree(cat),
            svg=lambda: cache_pictures.tree_svg(cat),
            terminal=lambda out: cache_terminal.tree(out, cat))


@cache.command()
@click.argument("names", nargs=-1, metavar="[NAME]...")
@dsn_option
@click.option("--format", "fmt", type=click.Choice(["terminal", "json"]), default="terminal",
              show_default=True, help="Output format.")
def check(names: tuple[str, ...], dsn: str | None, fmt: str) -> None:
    """Per materialized view: can it refresh CONCURRENTLY, and what threatens its readers.

    Reports the usable unique index (or its absence), NULLs in the key (such rows are
    rewritten on every concurrent refresh), size, measured refresh p50/p95, reads, the
    pg_cron jobs that refresh it (a multi-statement job holds every lock until it ends)
    and the findings of triage's own matview-* and refresh-spike checks.

    Exit status: 0 nothing above info, 1 warning, 2 critical (as triage).
    """
    run = service.check_views(resolve(dsn), names)
    if fmt == "json":
        sys.stdout.write(cache_json.check(run))
    else:
        cache_terminal.check(cache_terminal.console(), run)
    sys.exit(run.exit_code)


@cache.command()
@click.argument("names", nargs=-1, metavar="[NAME]...")
@dsn_option
@click.option("--apply", "apply_steps", is_flag=True,
              help="Build the indexes (CREATE UNIQUE INDEX CONCURRENTLY); default: only show.")
def prepare(names: tuple[str, ...], dsn: str | None, apply_steps: bool) -> None:
    """Make views refreshable CONCURRENTLY: a verified unique index on each one's key.

    The key is declared in the view's comment ('pgcrisis key: a, b'), else the view's own
    GROUP BY / DISTINCT columns, else a column unique and never NULL in the data. The data
    is checked first: a key with duplicates or NULLs is refused, with the counts. Without
    --apply, nothing changes; with it, exactly the steps shown are run.
    """
    out = cache_terminal.console()
    target = resolve(dsn)
    with out.status("verifying keys against the data"):
        run = service.prepare_views(target, names)
    cache_terminal.prepare(out, run, will_apply=apply_steps)
    if not apply_steps:
        return
    run = service.apply_prepare_run(target, run, cache_terminal.statements(out))
    cache_terminal.prepare_failures(out, run)
    sys.exit(run.exit_code)


@cache.command()
@click.argument("names", nargs=-1, required=True, metavar="NAME...")
@dsn_option
@click.option("--with-dependents", is_flag=True,
              help="Also refresh every matview built on these (through plain views too).")
@click.option("--allow-plain", is_flag=True,
              help="Refresh views that cannot go CONCURRENTLY with a plain REFRESH, which "
                   "locks every reader out while it runs.")
@click.option("--lock-timeout", "lock_timeout_ms", type=click.IntRange(10, 600_000),
              default=5000, show_default=True, metavar="MS",
              help="lock_timeout of each attempt.")
@click.option("--retries", type=click.IntRange(0, 20), default=3, show_default=True,
              help="Attempts after a lock timeout (with a random pause between).")
def refresh(names: tuple[str, ...], dsn: str | None, with_dependents: bool, allow_plain: bool,
            lock_timeout_ms: int, retries: int) -> None:
    """Refresh views: bases first, each once, each in its own transaction.

    CONCURRENTLY whenever the view allows it (readers keep reading). A view another
    session is refreshing right now is skipped, not queued (advisory lock). Durations
    are recorded in the pgcrisis schema for `cache plan`.

    Exit status: 0 all refreshed, 1 some skipped or failed.
    """
    out = cache_terminal.console()
    if allow_plain:
        cache_terminal.plain_warning(_err)
    options = RefreshOptions(allow_plain=allow_plain, lock_timeout_ms=lock_timeout_ms,
                             retries=retries)
    run = service.refresh_views(resolve(dsn), names, with_dependents=with_dependents,
                                options=options, show=cache_terminal.statements(out),
                                progress=cache_terminal.outcomes(out))
    cache_terminal.refresh_stuck(out, run)
    sys.exit(run.exit_code)


def _window_option(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--seed", type=int, default=0, show_default=True,
                        help="Seed of the jitter given to independent views.")(func)
    func = click.option("--max-concurrent", type=click.IntRange(1, 1000), default=None,
                        help="Never more refreshes at once (default: what the window needs).")(func)
    return click.option("--window", default="01:00-05:00", show_default=True,
                        metavar="HH:MM-HH:MM", help="Daily window the refreshes must fit in.")(func)


@cache.command()
@dsn_option
@_window_option
@_format_picture
@_output
@click.option("--apply", "apply_plan", is_flag=True,
              help="Install the plan in pg_cron (one chained job per lane).")
@click.option("--allow-plain", is_flag=True,
              help="Let the installed jobs refresh unready views plainly (blocks readers).")
def plan(dsn: str | None, window: str, max_concurrent: int | None, seed: int, fmt: str,
         output: str | None, apply_plan: bool, allow_plain: bool) -> None:
    """A refresh schedule: bases before dependents, the fewest refreshes at once.

    From measured durations (p95), the plan needs at least ceil(sum of durations /
    window) refreshes at a time; it reaches that bound unless a dependency chain is too
    long for the window, never runs more than --max-concurrent, and never refreshes a
    view before its bases. It is compared with the current pg_cron schedule's peak.
    With --apply the plan shown goes into pg_cron: each lane is one job whose views run
    one after another, a dependent waiting for its bases to finish (not for a clock time).
    Where pg_cron is missing, `pgcrisis cache run` executes the same plan.
    """
    target = resolve(dsn)
    run = service.plan_refreshes(target, window=window, max_concurrent=max_concurrent,
                                 seed=seed, allow_plain=allow_plain)
    _render(fmt, output, json=lambda: cache_json.plan(run),
            svg=lambda: cache_pictures.plan_svg(run),
            terminal=lambda out: cache_terminal.plan(out, run))
    if apply_plan:
        out = cache_terminal.console()
        run = service.install_plan(target, run, cache_terminal.statements(out))
        cache_terminal.installed(out, run)


@cache.command()
@dsn_option
@_window_option
@click.option("--now", "start_now", is_flag=True, help="Start the first run now, not at the "
              "window's start.")
@click.option("--once", is_flag=True, help="Run the plan once and exit.")
@click.option("--allow-plain", is_flag=True,
              help="Refresh unready views plainly (blocks their readers).")
def run(dsn: str | None, window: str, max_concurrent: int | None, seed: int, start_now: bool,
        once: bool, allow_plain: bool) -> None:
    """Execute the refresh plan as a long-running worker (where pg_cron is not installed).

    Each day at the window's start: the plan's views by priority, bases first, at most
    as many at once as the plan has lanes, CONCURRENTLY, one refresher per view. Ctrl-C
    stops it after the refreshes in progress.
    """
    out = cache_terminal.console()
    service.run_daily(resolve(dsn), Window.parse(window), max_concurrent=max_concurrent,
                      seed=seed, allow_plain=allow_plain, start_now=start_now, once=once,
                      show=cache_terminal.statements(out),
                      progress=cache_terminal.outcomes(out),
                      planned=cache_terminal.planned(out), waiting=cache_terminal.waiting(out))


@cache.command()
@click.argument("names", nargs=-1, metavar="[NAME]...")
@dsn_option
@click.option("--quiet", "quiet_s", type=click.FloatRange(0), default=5.0, show_default=True,
              metavar="SECONDS", help="Refresh once writes to a view's tables pause this long.")
@click.option("--max-staleness", "staleness_s", type=click.FloatRange(0), default=300.0,
              show_default=True, metavar="SECONDS",
              help="...but never leave a change unrefreshed longer than this.")
@click.option("--max-concurrent", type=click.IntRange(1, 100), default=2, show_default=True,
              help="Refreshes at once, across all views.")
@click.option("--poll", "poll_s", type=click.FloatRange(0.05), default=1.0, show_default=True,
              metavar="SECONDS", help="Look at the dirty marks at least this often.")
@click.option("--allow-plain", is_flag=True,
              help="Also watch views that can only refresh plainly (blocks their readers).")
@click.option("--once", is_flag=True, help="Refresh what is marked now, then exit.")
def watch(names: tuple[str, ...], dsn: str | None, quiet_s: float, staleness_s: float,
          max_concurrent: int, poll_s: float, allow_plain: bool, once: bool) -> None:
    """Refresh views when their data changes, without refresh storms.

    Installs statement-level triggers on the tables the views read: each writing
    statement leaves a dirty mark in pgcrisis.dirty (the source of truth) and a NOTIFY
    that wakes this worker. After a quiet period (at most --max-staleness after the first
    mark) the marked views and everything built on them are refreshed once, bases first,
    CONCURRENTLY. Marks are removed only after their refresh committed: a worker that is
    killed loses nothing, the next one picks the marks up. One worker per database.
    """
    out = cache_terminal.console()
    options = WatchOptions(quiet_s=quiet_s, max_staleness_s=staleness_s,
                           max_concurrent=max_concurrent, poll_s=poll_s,
                           refresh=RefreshOptions(allow_plain=allow_plain, source="watch",
                                                  reason="cache watch"))
    service.watch_views(resolve(dsn), names, options, once=once,
                        show=cache_terminal.statements(out),
                        progress=cache_terminal.outcomes(out),
                        started=cache_terminal.watch_started(out))
