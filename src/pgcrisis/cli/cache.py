"""``pgcrisis cache``: cached (materialized) views that never block their readers and never
pile up.

Every subcommand finds its server as triage does (``--dsn``, else ``PGCRISIS_DSN``, else
``DATABASE_URL``, else libpq's ``PG*`` variables) and takes view names schema-qualified or
by search path. Reads use a safe read-only session; every change is shown as SQL and
journaled (see ``pgcrisis.actions``).
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from pgcrisis.cache.pictures import graph_svg, timeline_svg
from pgcrisis.cache.planner import Schedule
from pgcrisis.cache_actions import connect_writer
from pgcrisis.cache_actions.refresh import (
    REFRESHED,
    RefreshOptions,
    RefreshOutcome,
    Writers,
    refresh_one,
    refresh_parallel,
)
from pgcrisis.cache_actions.runner import (
    catalog,
    check_views,
    plan_refreshes,
    prepare_views,
    refresh_views,
)
from pgcrisis.cache_actions.schedule import (
    Window,
    lane_commands,
    next_start,
    plan_for,
    priority_order,
    sleep_until,
)
from pgcrisis.cache_actions.schema import ensure_schema
from pgcrisis.cache_actions.watch import Watcher, WatchOptions
from pgcrisis.cli.options import dsn_option
from pgcrisis.collect.cache_catalog import CacheCatalog, resolve_matviews
from pgcrisis.collect.session import connect
from pgcrisis.dsn import Target, resolve
from pgcrisis.errors import ConfigError, first_line

_err = Console(stderr=True)


def _out() -> Console:
    return Console(highlight=False)


def _show(console: Console) -> Callable[[str], None]:
    return lambda statement: console.print(f"[dim]>[/dim] {statement}", soft_wrap=True)


def _human_s(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1024:
            return f"{n:.0f} {unit}"
        n //= 1024
    return f"{n:.0f} TB"


def _write_picture(svg: str, fmt: str, output: str | None) -> None:
    """SVG as is; PNG drawn from it by cairosvg (which needs the system's libcairo)."""
    if fmt == "svg":
        if output:
            Path(output).write_text(svg, encoding="utf-8")
        else:
            sys.stdout.write(svg)
        return
    if not output:
        raise ConfigError("--format png needs --output FILE")
    try:
        import cairosvg
    except (ImportError, OSError) as exc:
        raise ConfigError(f"PNG output needs the png extra (pip install 'pgcrisis[png]') and "
                          f"the cairo library ({first_line(exc)}); or use --format svg") from None
    cairosvg.svg2png(bytestring=svg.encode(), write_to=output)


def _outcome_line(console: Console) -> Callable[[RefreshOutcome], None]:
    colours = {REFRESHED: "green", "busy": "yellow", "unready": "yellow", "skipped": "yellow"}

    def line(o: RefreshOutcome) -> None:
        how = " CONCURRENTLY" if o.concurrently else ""
        colour = colours.get(o.status, "red")
        extra = f": {o.error}" if o.error else ""
        console.print(f"[{colour}]{o.status:>9}[/{colour}] {o.view}{how} "
                      f"({o.duration_s:.2f} s){extra}", soft_wrap=True)
    return line


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


# -- tree -----------------------------------------------------------------------------------


def _labels(cat: CacheCatalog) -> dict[str, str]:
    return {v.name: (f"refresh {_human_s(cat.durations[v.name].p50_s)} "
                     f"({cat.durations[v.name].source}), {v.reads:,} reads")
            for v in cat.matviews.views}


def _tree_json(cat: CacheCatalog) -> dict[str, Any]:
    g = cat.graph
    levels = g.levels
    return {
        "views": [{"name": v.name, "level": levels.get(v.name), "bases": list(g.bases[v.name]),
                   "via": {b: list(g.via.get((v.name, b), ())) for b in g.bases[v.name]},
                   "concurrent_ready": v.concurrent_ready, "reads": v.reads,
                   "refresh_p50_s": round(cat.durations[v.name].p50_s, 3),
                   "refresh_p95_s": round(cat.durations[v.name].p95_s, 3),
                   "duration_source": cat.durations[v.name].source}
                  for v in cat.matviews.views],
        "order": list(g.order()),
        "cycles": [list(c) for c in g.cycles],
    }


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
    """
    cat = catalog(resolve(dsn))
    g = cat.graph
    if fmt == "json":
        text = json.dumps(_tree_json(cat), indent=2) + "\n"
        Path(output).write_text(text) if output else sys.stdout.write(text)
        return
    if fmt in ("svg", "png"):
        unready = frozenset(v.name for v in cat.matviews.views if not v.concurrent_ready)
        _write_picture(graph_svg(g, _labels(cat), unready), fmt, output)
        return
    console = _out()
    if not g.nodes:
        console.print("No materialized views in this database.")
        return
    labels = _labels(cat)
    ready = {v.name: v.concurrent_ready for v in cat.matviews.views}
    dependents = g.dependents_of
    levels = g.levels
    root = Tree(f"[bold]{len(g.nodes)} materialized views[/bold], "
                f"{max(levels.values(), default=-1) + 1} level(s)")

    def add(node: Tree, name: str, parent: str | None, seen: frozenset[str]) -> None:
        via = g.via.get((name, parent), ()) if parent else ()
        mark = "" if ready.get(name, True) else " [yellow](cannot refresh CONCURRENTLY)[/yellow]"
        through = f" [dim]via {' -> '.join(reversed(via))}[/dim]" if via else ""
        branch = node.add(f"[bold]{name}[/bold] L{levels.get(name, '?')}{through}{mark} "
                          f"[dim]{labels.get(name, '')}[/dim]")
        for d in dependents.get(name, ()):
            if d in seen:
                branch.add(f"[red]{d} (cycle)[/red]")
            elif levels.get(d) is not None:
                add(branch, d, name, seen | {d})

    for name in g.roots():
        add(root, name, None, frozenset({name}))
    console.print(root)
    for cycle in g.cycles:
        console.print(f"[red]cycle:[/red] {' -> '.join(cycle)} -> {cycle[0]} "
                      "(these views cannot be ordered; refresh them by hand)")


# -- check ----------------------------------------------------------------------------------


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
    run = check_views(resolve(dsn), names)
    findings = run.results.findings
    severities = {f.severity.value for f in findings}
    code = 2 if "critical" in severities else 1 if "warning" in severities else 0
    if fmt == "json":
        sys.stdout.write(json.dumps({
            "views": [asdict(r) for r in run.reports],
            "findings": [{"code": f.code, "severity": f.severity.value, "title": f.title,
                          "objects": [o.name or o.id or o.pid for o in f.objects],
                          "remedy": list(f.remedy.sql) if f.remedy else []} for f in findings],
            "skipped": [{"code": s.check, "reason": s.reason} for s in run.results.skipped],
        }, indent=2, default=str) + "\n")
        sys.exit(code)
    console = _out()
    table = Table(title="materialized views", show_lines=False)
    for col in ("view", "L", "concurrent", "key (NULLs)", "size", "p50 / p95", "reads",
                "scheduled", "findings"):
        table.add_column(col)
    for r in run.reports:
        key = ", ".join(r.key_columns) or "-"
        if r.null_key_share:
            key += f" [red]({r.null_key_share:.0%} NULL)[/red]"
        jobs = "; ".join(f"job {j.jobid} {j.schedule!r}"
                         + ("" if j.concurrently else " [yellow]plain[/yellow]")
                         + (f" [yellow]{j.statements} stmts, 1 xact[/yellow]"
                            if j.statements > 1 else "") for j in r.scheduled_by) or "-"
        table.add_row(r.name, "?" if r.level is None else str(r.level),
                      "[green]yes[/green]" if r.concurrent_ready else "[red]no[/red]", key,
                      _size(r.size_bytes),
                      f"{_human_s(r.durations.p50_s)} / {_human_s(r.durations.p95_s)} "
                      f"[dim]{r.durations.source}[/dim]", f"{r.reads:,}", jobs,
                      ", ".join(r.findings) or "-")
    console.print(table)
    for f in findings:
        console.print(f"[bold]{f.severity.value}[/bold] {f.code}: {f.title}", soft_wrap=True)
        if f.remedy:
            console.print(f"  [dim]{f.remedy.summary}[/dim]", soft_wrap=True)
    for s in run.results.skipped:
        console.print(f"[dim]skipped {s.check}: {s.reason}[/dim]")
    sys.exit(code)


# -- prepare --------------------------------------------------------------------------------


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
    --apply, nothing changes.
    """
    console = _out()
    target = resolve(dsn)
    with console.status("verifying keys against the data"):
        run = prepare_views(target, names)
    for s in run.steps:
        colour = {"ready": "green", "index": "cyan", "populate": "cyan"}.get(s.status, "red")
        console.print(f"[{colour}]{s.status:>8}[/{colour}] {s.view}"
                      + (f": {s.reason}" if s.reason else ""), soft_wrap=True)
        for statement in s.sql:
            console.print(f"          {statement}", soft_wrap=True)
    if not apply_steps:
        if any(s.sql for s in run.steps):
            console.print("[dim]Nothing changed; run again with --apply.[/dim]")
        return
    run = prepare_views(target, names, apply_steps=True, show=_show(console))
    failed = [(s, e) for s, e in run.applied if e]
    for s, error in failed:
        console.print(f"[red]failed[/red] {s.view}: {error}", soft_wrap=True)
    if failed:
        sys.exit(1)


# -- refresh --------------------------------------------------------------------------------


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
    console = _out()
    if allow_plain:
        _err.print("[yellow]warning:[/yellow] --allow-plain: views without a usable unique "
                   "index get a plain REFRESH, which blocks their readers until it ends")
    options = RefreshOptions(allow_plain=allow_plain, lock_timeout_ms=lock_timeout_ms,
                             retries=retries)
    run = refresh_views(resolve(dsn), names, with_dependents=with_dependents, options=options,
                        show=_show(console), progress=_outcome_line(console))
    for name in run.stuck:
        console.print(f"[red]  skipped[/red] {name}: in (or built on) a dependency cycle")
    if run.stuck or any(o.status != REFRESHED for o in run.outcomes):
        sys.exit(1)


# -- plan and run ---------------------------------------------------------------------------


def _window_option(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--seed", type=int, default=0, show_default=True,
                        help="Seed of the jitter given to independent views.")(func)
    func = click.option("--max-concurrent", type=click.IntRange(1, 1000), default=None,
                        help="Never more refreshes at once (default: what the window needs).")(func)
    return click.option("--window", default="01:00-05:00", show_default=True,
                        metavar="HH:MM-HH:MM", help="Daily window the refreshes must fit in.")(func)


def _plan_json(plan: Schedule, window: Window, current: Schedule | None) -> dict[str, Any]:
    return {
        "window": window.label, "window_s": plan.window_s, "lanes": plan.lanes,
        "lower_bound": plan.lower_bound, "peak": plan.peak, "violations": plan.violations,
        "makespan_s": round(plan.makespan_s, 1), "fits": plan.fits, "seed": plan.seed,
        "stuck": list(plan.stuck),
        "slots": [{"view": s.view, "lane": s.lane + 1, "start_s": round(s.start_s, 1),
                   "end_s": round(s.end_s, 1), "bases": list(s.bases)} for s in plan.slots],
        "current": None if current is None else {"peak": current.peak,
                                                  "violations": current.violations},
    }


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
    With --apply it goes into pg_cron: each lane is one job whose views run one after
    another, a dependent waiting for its bases to finish (not for a clock time).
    Where pg_cron is missing, `pgcrisis cache run` executes the same plan.
    """
    target = resolve(dsn)
    win = Window.parse(window)
    result = plan_refreshes(target, window=window, max_concurrent=max_concurrent, seed=seed)
    schedule, current = result.plan, result.current
    if fmt == "json":
        text = json.dumps(_plan_json(schedule, win, current), indent=2) + "\n"
        Path(output).write_text(text) if output else sys.stdout.write(text)
    elif fmt in ("svg", "png"):
        _write_picture(timeline_svg(schedule, f"cache plan {win.label}: {schedule.lanes} lane(s)"
                                    f", peak {schedule.peak}, lower bound "
                                    f"{schedule.lower_bound}", win.label.split("-")[0]),
                       fmt, output)
    else:
        _print_plan(_out(), schedule, win, current, allow_plain)
    if not apply_plan:
        return
    console = _out()
    result = plan_refreshes(target, window=window, max_concurrent=max_concurrent, seed=seed,
                            apply_plan=True, allow_plain=allow_plain, show=_show(console))
    console.print(f"[green]installed[/green] {result.plan.lanes} lane job(s) in pg_cron")


def _print_plan(console: Console, plan: Schedule, win: Window, current: Schedule | None,
                allow_plain: bool) -> None:
    total = sum(s.end_s - s.start_s for s in plan.slots)
    console.print(f"{len(plan.slots)} views, {_human_s(total)} of refreshing in "
                  f"{win.label} ({_human_s(plan.window_s)}): lower bound "
                  f"[bold]{plan.lower_bound}[/bold] at once")
    fits = "fits" if plan.fits else "[red]overruns the window[/red]"
    console.print(f"plan: {plan.lanes} lane(s), peak [bold]{plan.peak}[/bold], "
                  f"{plan.violations} order violation(s), ends after "
                  f"{_human_s(plan.makespan_s)} ({fits})")
    if current is not None and current.slots:
        console.print(f"current pg_cron schedule: peak [bold]{current.peak}[/bold], "
                      f"{current.violations} dependent(s) refreshed before their base")
    for name in plan.stuck:
        console.print(f"[red]not planned[/red] {name}: in (or built on) a dependency cycle")
    table = Table(title="lanes (each runs its views one after another)")
    table.add_column("lane")
    table.add_column("pg_cron schedule")
    table.add_column("views (start + minutes)")
    lanes = {name: (schedule, command) for name, schedule, command
             in lane_commands(plan, win, allow_plain=allow_plain)}
    for lane in range(plan.lanes):
        slots = plan.lane_slots(lane)
        if not slots:
            continue
        cron = lanes.get(f"pgcrisis-cache-lane-{lane + 1}", ("", ""))[0]
        table.add_row(str(lane + 1), cron, ", ".join(
            f"{s.view} (+{s.start_s / 60:.0f})" for s in slots))
    console.print(table)


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
    console = _out()
    target = resolve(dsn)
    win = Window.parse(window)
    stop = threading.Event()
    first = True
    while not stop.is_set():
        if not (first and start_now):
            when = next_start(win, datetime.now())
            console.print(f"next run at {when:%Y-%m-%d %H:%M}")
            if not sleep_until(when, stop.is_set, datetime.now):
                return
        first = False
        _run_plan_once(target, win, max_concurrent, seed, allow_plain, console)
        if once:
            return


def _run_plan_once(target: Target, win: Window, max_concurrent: int | None, seed: int,
                   allow_plain: bool, console: Console) -> None:
    """Plan from fresh durations, then refresh by plan priority with the plan's lane count."""
    cat = catalog(target)
    schedule = plan_for(cat, win, max_concurrent, seed)
    views = {v.name: v for v in cat.matviews.views}
    options = RefreshOptions(allow_plain=allow_plain, source="run", reason="cache run")
    writers = Writers(target)

    def one(name: str) -> RefreshOutcome:
        conn = writers.take()
        try:
            return refresh_one(conn, views[name], options)
        finally:
            writers.give(conn)

    try:
        with connect_writer(target) as conn:
            ensure_schema(conn, _show(console))
        console.print(f"refreshing {len(schedule.slots)} views, {schedule.lanes} at a time")
        refresh_parallel(priority_order(schedule), cat.graph.bases, schedule.lanes, one,
                         _outcome_line(console))
    finally:
        writers.close()


# -- watch ----------------------------------------------------------------------------------


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
    console = _out()
    target = resolve(dsn)
    with connect(target) as safe:
        wanted = resolve_matviews(safe, names) if names else ()
    options = WatchOptions(quiet_s=quiet_s, max_staleness_s=staleness_s,
                           max_concurrent=max_concurrent, poll_s=poll_s,
                           refresh=RefreshOptions(allow_plain=allow_plain, source="watch",
                                                  reason="cache watch"))
    with Watcher(target, options, views=wanted, show=_show(console),
                 progress=_outcome_line(console)) as watcher:
        assert watcher.catalog is not None
        skipped = sorted(v.name for v in watcher.catalog.matviews.views
                         if (not wanted or v.name in wanted) and v.name not in watcher.watched)
        console.print(f"watching {len(watcher.watched)} view(s): quiet {quiet_s:g} s, max "
                      f"staleness {staleness_s:g} s, {max_concurrent} at a time (Ctrl-C stops)")
        if skipped:
            console.print("[yellow]not watched[/yellow] (cannot refresh CONCURRENTLY; run "
                          f"`pgcrisis cache prepare` or --allow-plain): {', '.join(skipped)}",
                          soft_wrap=True)
        if once:
            watcher.run(until_idle=True, timeout_s=max(60.0, staleness_s * 2))
        else:
            watcher.run()

