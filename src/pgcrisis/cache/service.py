"""One entry per ``pgcrisis cache`` command: connect, read, compute, apply when asked, return.

The CLI, the demo and tests call these and nothing below them, so every caller gets the
same order of events: names resolved and the catalogue read over a safe diagnostic session,
the decision made by the pure domain (:mod:`pgcrisis.cache`), changes made by
:mod:`pgcrisis.cache.apply` on a writer session. Results are typed and carry their exit
status; renderers only print them. ``show`` receives each statement before it runs,
``progress`` each refresh as it ends.

>>> RefreshOptions().allow_plain
False
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime

import psycopg

from pgcrisis.cache.apply import connect_writer
from pgcrisis.cache.apply.cron import install
from pgcrisis.cache.apply.prepare import apply_prepare, plan_prepare
from pgcrisis.cache.apply.refresh import (
    REFRESHED,
    RefreshOptions,
    RefreshOutcome,
    Writers,
    refresh_in_order,
    refresh_one,
    refresh_parallel,
)
from pgcrisis.cache.apply.schema import STATEMENTS, ensure_schema, installed
from pgcrisis.cache.apply.watch import Watcher, WatchOptions
from pgcrisis.cache.catalog import CacheCatalog, key_nulls, read_catalog, resolve_matviews
from pgcrisis.cache.keys import PrepareStep
from pgcrisis.cache.planner import Schedule
from pgcrisis.cache.report import ViewReport, view_reports
from pgcrisis.cache.schedule import (
    LaneJob,
    Window,
    current_schedule,
    install_statements,
    lane_commands,
    next_start,
    plan_for,
    priority_order,
    sleep_until,
)
from pgcrisis.checks.registry import CheckResults, run_checks
from pgcrisis.collect.collector import collect
from pgcrisis.collect.session import SessionLimits, connect
from pgcrisis.dsn import Target
from pgcrisis.errors import ConfigError
from pgcrisis.model.findings import exit_code

__all__ = ["RefreshOptions", "RefreshOutcome", "catalog", "check_views", "install_plan",
           "night_plan_sql", "plan_refreshes", "prepare_sql", "prepare_views",
           "refresh_views", "run_daily", "run_plan", "watch_views"]

Show = Callable[[str], None]
Progress = Callable[[RefreshOutcome], None]


def catalog(target: Target, limits: SessionLimits | None = None) -> CacheCatalog:
    """``pgcrisis cache tree``: the cache catalogue, read over a safe diagnostic session."""
    with connect(target, limits) as conn:
        return read_catalog(conn)


def _wanted(safe: psycopg.Connection[tuple[object, ...]],
            names: Iterable[str]) -> set[str] | None:
    """The canonical names asked for; None for "every matview" (no name given)."""
    names = tuple(names)
    return set(resolve_matviews(safe, names)) if names else None


# -- check --------------------------------------------------------------------------------

#: the triage checks `cache check` runs (the very same implementation)
CACHE_CHECKS = ("matview-blocking-refresh", "matview-concurrent-unready", "refresh-spike")


@dataclass(frozen=True, slots=True)
class CheckRun:
    """Per-view reports, the findings they come from, and checks that could not run."""

    reports: tuple[ViewReport, ...]
    results: CheckResults
    catalog: CacheCatalog

    @property
    def exit_code(self) -> int:
        """As triage's: 0 nothing above info, 1 warning, 2 critical."""
        return exit_code(self.results.findings)


def check_views(target: Target, names: Iterable[str] = (),
                limits: SessionLimits | None = None) -> CheckRun:
    """``pgcrisis cache check``: a snapshot (the triage collector), the matview checks on it,
    and per view what the cache knows. Read-only."""
    with connect(target, limits) as safe:
        wanted = _wanted(safe, names)
        snapshot = collect(safe)
        cat = read_catalog(safe)
        nulls = key_nulls(safe)
    results = run_checks(snapshot, only=CACHE_CHECKS)
    jobs = () if "cron" in snapshot.unavailable else snapshot.cron.jobs
    views = [v for v in cat.matviews.views if wanted is None or v.name in wanted]
    reports = view_reports(views, cat.graph, cat.durations, jobs, results.findings,
                           snapshot.server.block_size, nulls)
    return CheckRun(tuple(reports), results, cat)


# -- prepare ------------------------------------------------------------------------------

#: statement_timeout for the scans that verify a key (they read whole views)
VERIFY_TIMEOUT_MS = 120_000


@dataclass(frozen=True, slots=True)
class PrepareRun:
    """Per view, what prepare found, and for each step applied, the error ('' if fine)."""

    steps: tuple[PrepareStep, ...]
    applied: tuple[tuple[PrepareStep, str], ...] = ()

    @property
    def failed(self) -> tuple[tuple[PrepareStep, str], ...]:
        """The steps applied that failed, with their error."""
        return tuple((step, error) for step, error in self.applied if error)

    @property
    def exit_code(self) -> int:
        """1 when a step applied failed, else 0."""
        return 1 if self.failed else 0


def prepare_views(target: Target, names: Iterable[str] = (), *, apply_steps: bool = False,
                  show: Show | None = None) -> PrepareRun:
    """``pgcrisis cache prepare``: a verified key index for each view that cannot refresh
    CONCURRENTLY (all matviews, or ``names``); with ``apply_steps`` build exactly those."""
    limits = SessionLimits(statement_timeout_ms=VERIFY_TIMEOUT_MS)
    with connect(target, limits) as safe:
        wanted = _wanted(safe, names)
        cat = read_catalog(safe)
        views = [v for v in cat.matviews.views if wanted is None or v.name in wanted]
        steps = plan_prepare(safe, views)
    if not apply_steps:
        return PrepareRun(tuple(steps))
    return apply_prepare_run(target, PrepareRun(tuple(steps)), show)


def apply_prepare_run(target: Target, run: PrepareRun, show: Show | None = None) -> PrepareRun:
    """Apply the steps of a dry run, as they were shown (nothing is read or decided again)."""
    with connect_writer(target) as conn:
        applied = apply_prepare(conn, run.steps, show)
    return PrepareRun(run.steps, tuple(applied))


# -- refresh ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RefreshRun:
    """The views chosen (in order) and what happened to each."""

    order: tuple[str, ...]
    outcomes: tuple[RefreshOutcome, ...]
    stuck: tuple[str, ...]   # asked for but in (or behind) a dependency cycle

    @property
    def exit_code(self) -> int:
        """0 when every view chosen was refreshed, else 1."""
        return 1 if self.stuck or any(o.status != REFRESHED for o in self.outcomes) else 0


def refresh_views(target: Target, names: Iterable[str], *, with_dependents: bool = False,
                  options: RefreshOptions | None = None, show: Show | None = None,
                  progress: Progress | None = None) -> RefreshRun:
    """``pgcrisis cache refresh NAME...``: each named view (and, with ``with_dependents``,
    every matview built on them) once, bases first, CONCURRENTLY when possible."""
    options = options or RefreshOptions()
    with connect(target) as safe:
        wanted = resolve_matviews(safe, names)
        cat = read_catalog(safe)
    if not wanted:
        raise ConfigError("name at least one materialized view")
    chosen = set(cat.graph.downstream(wanted) if with_dependents else wanted)
    order = cat.graph.order(within=chosen)
    stuck = tuple(sorted(chosen - set(order)))
    views = {v.name: v for v in cat.matviews.views}
    with connect_writer(target) as conn:
        ensure_schema(conn, show)
        outcomes = refresh_in_order(conn, cat.graph, views, order, options, show=show,
                                    progress=progress)
    return RefreshRun(order, tuple(outcomes), stuck)


# -- plan ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanRun:
    """A plan and everything about installing it, computed once from one read.

    ``current`` is the pg_cron schedule it replaces (None without pg_cron, and then
    ``cron_unavailable`` says why); ``lanes`` and ``statements`` are the jobs and the SQL
    that install it; ``installed`` the statements run (empty until :func:`install_plan`).
    """

    window: Window
    plan: Schedule
    current: Schedule | None
    lanes: tuple[LaneJob, ...]
    statements: tuple[str, ...]
    cron_unavailable: str | None = None
    installed: tuple[str, ...] = ()


def _plan(safe: psycopg.Connection[tuple[object, ...]], win: Window,
          max_concurrent: int | None, seed: int, allow_plain: bool) -> PlanRun:
    snapshot = collect(safe)
    cat = read_catalog(safe)
    schedule = plan_for(cat, win, max_concurrent, seed)
    lanes = tuple(lane_commands(schedule, win, allow_plain=allow_plain))
    why = snapshot.unavailable.get("cron")
    if why is not None:
        return PlanRun(win, schedule, None, lanes, (), why)
    jobs = snapshot.cron.jobs
    return PlanRun(win, schedule, current_schedule(cat, jobs), lanes,
                   tuple(install_statements(schedule, win, jobs, allow_plain=allow_plain)))


def plan_refreshes(target: Target, *, window: str = "01:00-05:00",
                   max_concurrent: int | None = None, seed: int = 0, apply_plan: bool = False,
                   allow_plain: bool = False, show: Show | None = None) -> PlanRun:
    """``pgcrisis cache plan [--apply]``: the refresh plan for ``window``; with
    ``apply_plan`` install it in pg_cron (ConfigError where pg_cron is not installed)."""
    win = Window.parse(window)
    with connect(target) as safe:
        run = _plan(safe, win, max_concurrent, seed, allow_plain)
    return install_plan(target, run, show) if apply_plan else run


def install_plan(target: Target, run: PlanRun, show: Show | None = None) -> PlanRun:
    """Install exactly the plan ``run`` holds (the one shown), nothing read or planned again."""
    if run.cron_unavailable is not None:
        raise ConfigError(f"cannot install the plan: {run.cron_unavailable}; "
                          "run `pgcrisis cache run` instead")
    with connect_writer(target) as conn:
        ensure_schema(conn, show)
        install(conn, run.statements, show)
    return replace(run, installed=run.statements)


# -- run ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunResult:
    """One execution of the plan: the plan, and each refresh in finishing order."""

    plan: Schedule
    outcomes: tuple[RefreshOutcome, ...]


def run_plan(target: Target, window: Window, *, max_concurrent: int | None = None,
             seed: int = 0, allow_plain: bool = False, show: Show | None = None,
             progress: Progress | None = None,
             planned: Callable[[Schedule], None] | None = None) -> RunResult:
    """Plan from fresh durations, then refresh by plan priority with the plan's lane count
    (``planned`` hears the plan before the first refresh)."""
    cat = catalog(target)
    schedule = plan_for(cat, window, max_concurrent, seed)
    views = {v.name: v for v in cat.matviews.views}
    options = RefreshOptions(allow_plain=allow_plain, source="run", reason="cache run")
    writers = Writers(target)

    def one(name: str) -> RefreshOutcome:
        with writers.session() as conn:
            return refresh_one(conn, views[name], options)

    try:
        with connect_writer(target) as conn:
            ensure_schema(conn, show)
        if planned is not None:
            planned(schedule)
        outcomes = refresh_parallel(priority_order(schedule), cat.graph.bases, schedule.lanes,
                                    one, progress)
    finally:
        writers.close()
    return RunResult(schedule, tuple(outcomes))


def run_daily(target: Target, window: Window, *, max_concurrent: int | None = None,
              seed: int = 0, allow_plain: bool = False, start_now: bool = False,
              once: bool = False, show: Show | None = None, progress: Progress | None = None,
              planned: Callable[[Schedule], None] | None = None,
              waiting: Callable[[datetime], None] | None = None,
              stop: threading.Event | None = None) -> None:
    """``pgcrisis cache run``: :func:`run_plan` at each opening of ``window`` (the first one
    at once with ``start_now``; only one with ``once``) until ``stop`` is set."""
    stop = stop or threading.Event()
    first = True
    while not stop.is_set():
        if not (first and start_now):
            when = next_start(window, datetime.now())
            if waiting is not None:
                waiting(when)
            if not sleep_until(when, stop.is_set, datetime.now):
                return
        first = False
        run_plan(target, window, max_concurrent=max_concurrent, seed=seed,
                 allow_plain=allow_plain, show=show, progress=progress, planned=planned)
        if once:
            return


# -- watch --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WatchStart:
    """What a watch worker took on: the views it watches, and those it cannot (they cannot
    refresh CONCURRENTLY and plain refreshes were not allowed)."""

    watched: tuple[str, ...]
    unwatched: tuple[str, ...]
    options: WatchOptions


def watch_views(target: Target, names: Iterable[str] = (), options: WatchOptions | None = None,
                *, once: bool = False, show: Show | None = None,
                progress: Progress | None = None,
                started: Callable[[WatchStart], None] | None = None) -> None:
    """``pgcrisis cache watch``: refresh the views (all, or ``names``) as their data changes,
    until interrupted; with ``once``, only what is marked now."""
    options = options or WatchOptions()
    with connect(target) as safe:
        wanted = resolve_matviews(safe, names) if names else ()
    with Watcher(target, options, views=wanted, show=show, progress=progress) as watcher:
        assert watcher.catalog is not None
        unwatched = tuple(sorted(v.name for v in watcher.catalog.matviews.views
                                 if (not wanted or v.name in wanted)
                                 and v.name not in watcher.watched))
        if started is not None:
            started(WatchStart(tuple(sorted(watcher.watched)), unwatched, options))
        if once:
            watcher.run(until_idle=True, timeout_s=max(60.0, options.max_staleness_s * 2))
        else:
            watcher.run()


# -- SQL-only remedies (for callers that show, apply and journal statements themselves) -----


def prepare_sql(target: Target, names: Iterable[str] = ()) -> tuple[str, ...]:
    """The statements ``cache prepare --apply`` would run now (verified key indexes, and the
    one plain refresh an unpopulated view with its index needs)."""
    return tuple(s for step in prepare_views(target, names).steps for s in step.sql)


def night_plan_sql(target: Target, *, window: str = "01:00-05:00",
                   max_concurrent: int | None = None, seed: int = 0,
                   allow_plain: bool = False) -> tuple[str, ...]:
    """Everything that replaces a refresh spike with ``cache plan``'s schedule, as SQL to run
    in order in autocommit mode: the pgcrisis schema (when missing), the verified key
    indexes (so the chains can refresh CONCURRENTLY), then the pg_cron lane jobs (the old
    jobs that only refreshed planned views are deactivated). ConfigError without pg_cron."""
    with connect(target) as safe:
        run = _plan(safe, Window.parse(window), max_concurrent, seed, allow_plain)
        have_schema = installed(safe)
    if run.cron_unavailable is not None:
        raise ConfigError(f"cannot install the plan: {run.cron_unavailable}")
    schema = () if have_schema else STATEMENTS
    return (*schema, *prepare_sql(target), *run.statements)
