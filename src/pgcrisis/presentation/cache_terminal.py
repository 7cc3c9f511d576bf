"""``pgcrisis cache`` on a terminal: the tree, the check table, prepare steps, refresh
outcomes as they come, the plan's lanes, the run and watch banners.

Renderers only: they print the typed results of :mod:`pgcrisis.cache.service` (or hand the
service a callback that prints each statement, outcome or event as it happens) and
compute nothing the service did not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from pgcrisis import durations, sizes
from pgcrisis.cache.apply.refresh import REFRESHED, RefreshOutcome
from pgcrisis.cache.catalog import CacheCatalog
from pgcrisis.cache.keys import PrepareStep
from pgcrisis.cache.planner import Schedule
from pgcrisis.cache.schedule import lane_job_name
from pgcrisis.cache.service import CheckRun, PlanRun, PrepareRun, RefreshRun, WatchStart
from pgcrisis.presentation.cache_pictures import node_labels

_OUTCOME_COLOURS = {REFRESHED: "green", "busy": "yellow", "unready": "yellow",
                    "skipped": "yellow"}
_STEP_COLOURS = {"ready": "green", "index": "cyan", "populate": "cyan"}


def console() -> Console:
    """The console every ``cache`` command prints to (no guessed highlighting of names)."""
    return Console(highlight=False)


def statements(out: Console) -> Callable[[str], None]:
    """Prints each statement as it is about to run (the ``show`` of every change)."""
    return lambda statement: out.print(f"[dim]>[/dim] {statement}", soft_wrap=True)


def outcomes(out: Console) -> Callable[[RefreshOutcome], None]:
    """Prints each refresh as it ends."""
    def line(o: RefreshOutcome) -> None:
        how = " CONCURRENTLY" if o.concurrently else ""
        colour = _OUTCOME_COLOURS.get(o.status, "red")
        extra = f": {o.error}" if o.error else ""
        out.print(f"[{colour}]{o.status:>9}[/{colour}] {o.view}{how} "
                  f"({o.duration_s:.2f} s){extra}", soft_wrap=True)
    return line


def _unavailable(out: Console, unavailable: Mapping[str, str]) -> None:
    """The duration sources that could not be read, as triage prints its skipped checks."""
    for source, reason in unavailable.items():
        out.print(f"[dim]skipped durations from {source}: {reason}[/dim]", soft_wrap=True)


# -- tree ---------------------------------------------------------------------------------


def tree(out: Console, cat: CacheCatalog) -> None:
    """The graph as an indented tree from the roots, with levels, the plain views each edge
    goes through, durations and reads; then the cycles."""
    g = cat.graph
    if not g.nodes:
        out.print("No materialized views in this database.")
        _unavailable(out, cat.unavailable)
        return
    labels = node_labels(cat)
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
    out.print(root)
    for cycle in g.cycles:
        out.print(f"[red]cycle:[/red] {' -> '.join(cycle)} -> {cycle[0]} "
                  "(these views cannot be ordered; refresh them by hand)")
    _unavailable(out, cat.unavailable)


# -- check --------------------------------------------------------------------------------


def check(out: Console, run: CheckRun) -> None:
    """A row per view, then the findings with their remedies, then what could not be read."""
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
                      sizes.whole(r.size_bytes),
                      f"{durations.decimal(r.durations.p50_s)} / "
                      f"{durations.decimal(r.durations.p95_s)} "
                      f"[dim]{r.durations.source}[/dim]", f"{r.reads:,}", jobs,
                      ", ".join(r.findings) or "-")
    out.print(table)
    for f in run.results.findings:
        out.print(f"[bold]{f.severity.value}[/bold] {f.code}: {f.title}", soft_wrap=True)
        if f.remedy:
            out.print(f"  [dim]{f.remedy.summary}[/dim]", soft_wrap=True)
    for s in run.results.skipped:
        out.print(f"[dim]skipped {s.check}: {s.reason}[/dim]")
    _unavailable(out, run.catalog.unavailable)


# -- prepare ------------------------------------------------------------------------------


def _step(out: Console, s: PrepareStep) -> None:
    colour = _STEP_COLOURS.get(s.status, "red")
    out.print(f"[{colour}]{s.status:>8}[/{colour}] {s.view}"
              + (f": {s.reason}" if s.reason else ""), soft_wrap=True)
    for statement in s.sql:
        out.print(f"          {statement}", soft_wrap=True)


def prepare(out: Console, run: PrepareRun, *, will_apply: bool) -> None:
    """Each view's step and its SQL; without ``will_apply``, that nothing changed."""
    for s in run.steps:
        _step(out, s)
    if not will_apply and any(s.sql for s in run.steps):
        out.print("[dim]Nothing changed; run again with --apply.[/dim]")


def prepare_failures(out: Console, run: PrepareRun) -> None:
    """The steps applied that failed."""
    for s, error in run.failed:
        out.print(f"[red]failed[/red] {s.view}: {error}", soft_wrap=True)


# -- refresh ------------------------------------------------------------------------------


def plain_warning(err: Console) -> None:
    """What --allow-plain costs, said before anything runs."""
    err.print("[yellow]warning:[/yellow] --allow-plain: views without a usable unique "
              "index get a plain REFRESH, which blocks their readers until it ends")


def refresh_stuck(out: Console, run: RefreshRun) -> None:
    """The views left out because of a dependency cycle (outcomes were printed as they came)."""
    for name in run.stuck:
        out.print(f"[red]  skipped[/red] {name}: in (or built on) a dependency cycle")


# -- plan and run -------------------------------------------------------------------------


def plan(out: Console, run: PlanRun) -> None:
    """The plan's figures against the window and the current schedule, then its lanes."""
    p, win, current = run.plan, run.window, run.current
    total = sum(s.end_s - s.start_s for s in p.slots)
    out.print(f"{len(p.slots)} views, {durations.decimal(total)} of refreshing in "
              f"{win.label} ({durations.decimal(p.window_s)}): lower bound "
              f"[bold]{p.lower_bound}[/bold] at once")
    fits = "fits" if p.fits else "[red]overruns the window[/red]"
    out.print(f"plan: {p.lanes} lane(s), peak [bold]{p.peak}[/bold], "
              f"{p.violations} order violation(s), ends after "
              f"{durations.decimal(p.makespan_s)} ({fits})")
    if current is not None and current.slots:
        out.print(f"current pg_cron schedule: peak [bold]{current.peak}[/bold], "
                  f"{current.violations} dependent(s) refreshed before their base")
    for name in p.stuck:
        out.print(f"[red]not planned[/red] {name}: in (or built on) a dependency cycle")
    table = Table(title="lanes (each runs its views one after another)")
    table.add_column("lane")
    table.add_column("pg_cron schedule")
    table.add_column("views (start + minutes)")
    jobs = {job.name: job for job in run.lanes}
    for lane in range(p.lanes):
        slots = p.lane_slots(lane)
        if not slots:
            continue
        job = jobs.get(lane_job_name(lane + 1))
        table.add_row(str(lane + 1), job.schedule if job else "", ", ".join(
            f"{s.view} (+{s.start_s / 60:.0f})" for s in slots))
    out.print(table)


def installed(out: Console, run: PlanRun) -> None:
    """Once the plan is in pg_cron."""
    out.print(f"[green]installed[/green] {run.plan.lanes} lane job(s) in pg_cron")


def waiting(out: Console) -> Callable[[datetime], None]:
    """Prints when ``cache run`` will run next."""
    return lambda when: out.print(f"next run at {when:%Y-%m-%d %H:%M}")


def planned(out: Console) -> Callable[[Schedule], None]:
    """Prints what one ``cache run`` is about to do."""
    return lambda schedule: out.print(
        f"refreshing {len(schedule.slots)} views, {schedule.lanes} at a time")


# -- watch --------------------------------------------------------------------------------


def watch_started(out: Console) -> Callable[[WatchStart], None]:
    """Prints what the watch worker took on, and the views it cannot watch."""
    def banner(start: WatchStart) -> None:
        o = start.options
        out.print(f"watching {len(start.watched)} view(s): quiet {o.quiet_s:g} s, max "
                  f"staleness {o.max_staleness_s:g} s, {o.max_concurrent} at a time "
                  "(Ctrl-C stops)")
        if start.unwatched:
            out.print("[yellow]not watched[/yellow] (cannot refresh CONCURRENTLY; run "
                      f"`pgcrisis cache prepare` or --allow-plain): "
                      f"{', '.join(start.unwatched)}", soft_wrap=True)
    return banner
