"""Entry points the CLI and the demo call: read the catalogue safely, then act.

>>> RefreshOptions().allow_plain
False
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pgcrisis.cache.keys import PrepareStep
from pgcrisis.cache.planner import Schedule
from pgcrisis.cache.report import ViewReport, view_reports
from pgcrisis.cache_actions import connect_writer
from pgcrisis.cache_actions.prepare import apply_prepare, plan_prepare
from pgcrisis.cache_actions.refresh import RefreshOptions, RefreshOutcome, refresh_in_order
from pgcrisis.cache_actions.schedule import (
    Window,
    current_schedule,
    install,
    install_statements,
    plan_for,
)
from pgcrisis.cache_actions.schema import STATEMENTS, ensure_schema, installed
from pgcrisis.checks.registry import CheckResults, run_checks
from pgcrisis.collect.cache_catalog import (
    CacheCatalog,
    key_nulls,
    read_catalog,
    resolve_matviews,
)
from pgcrisis.collect.collector import collect
from pgcrisis.collect.session import SessionLimits, connect
from pgcrisis.dsn import Target
from pgcrisis.errors import ConfigError

__all__ = ["RefreshOptions", "RefreshOutcome", "catalog", "check_views", "night_plan_sql",
           "plan_refreshes", "prepare_sql", "prepare_views", "refresh_views"]


def catalog(target: Target, limits: SessionLimits | None = None) -> CacheCatalog:
    """The cache catalogue, read over a safe diagnostic session."""
    with connect(target, limits) as conn:
        return read_catalog(conn)


@dataclass(frozen=True, slots=True)
class RefreshRun:
    """The views chosen (in order) and what happened to each."""

    order: tuple[str, ...]
    outcomes: tuple[RefreshOutcome, ...]
    stuck: tuple[str, ...]   # asked for but in (or behind) a dependency cycle


def refresh_views(target: Target, names: Iterable[str], *, with_dependents: bool = False,
                  options: RefreshOptions | None = None,
                  show: Callable[[str], None] | None = None,
                  progress: Callable[[RefreshOutcome], None] | None = None) -> RefreshRun:
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


#: statement_timeout for the scans that verify a key (they read whole views)
VERIFY_TIMEOUT_MS = 120_000


@dataclass(frozen=True, slots=True)
class PrepareRun:
    """Per view, what prepare found, and for each step applied, the error ('' if fine)."""

    steps: tuple[PrepareStep, ...]
    applied: tuple[tuple[PrepareStep, str], ...] = ()


def prepare_views(target: Target, names: Iterable[str] = (), *, apply_steps: bool = False,
                  show: Callable[[str], None] | None = None) -> PrepareRun:
    """``pgcrisis cache prepare``: a verified key index for each view that cannot refresh
    CONCURRENTLY (all matviews, or ``names``); with ``apply_steps`` build them."""
    limits = SessionLimits(statement_timeout_ms=VERIFY_TIMEOUT_MS)
    with connect(target, limits) as safe:
        wanted = set(resolve_matviews(safe, names)) if names else None
        cat = read_catalog(safe)
        views = [v for v in cat.matviews.views if wanted is None or v.name in wanted]
        steps = plan_prepare(safe, views)
    if not apply_steps:
        return PrepareRun(tuple(steps))
    with connect_writer(target) as conn:
        applied = apply_prepare(conn, steps, show)
    return PrepareRun(tuple(steps), tuple(applied))


#: the triage checks `cache check` runs (the very same implementation)
CACHE_CHECKS = ("matview-blocking-refresh", "matview-concurrent-unready", "refresh-spike")


@dataclass(frozen=True, slots=True)
class CheckRun:
    """Per-view reports, the findings they come from, and checks that could not run."""

    reports: tuple[ViewReport, ...]
    results: CheckResults
    catalog: CacheCatalog


def check_views(target: Target, names: Iterable[str] = (),
                limits: SessionLimits | None = None) -> CheckRun:
    """``pgcrisis cache check``: a snapshot (the triage collector), the matview checks on it,
    and per view what the cache knows. Read-only."""
    with connect(target, limits) as safe:
        wanted = set(resolve_matviews(safe, names)) if names else None
        snapshot = collect(safe)
        cat = read_catalog(safe)
        nulls = key_nulls(safe)
    results = run_checks(snapshot, only=CACHE_CHECKS)
    jobs = () if "cron" in snapshot.unavailable else snapshot.cron.jobs
    views = [v for v in cat.matviews.views if wanted is None or v.name in wanted]
    reports = view_reports(views, cat.graph, cat.durations, jobs, results.findings,
                           snapshot.server.block_size, nulls)
    return CheckRun(tuple(reports), results, cat)


@dataclass(frozen=True, slots=True)
class PlanRun:
    """The plan, the current pg_cron schedule it replaces (None without pg_cron), and the
    statements that installed it (empty when not applied)."""

    plan: Schedule
    current: Schedule | None
    installed: tuple[str, ...] = ()


def plan_refreshes(target: Target, *, window: str = "01:00-05:00",
                   max_concurrent: int | None = None, seed: int = 0, apply_plan: bool = False,
                   allow_plain: bool = False,
                   show: Callable[[str], None] | None = None) -> PlanRun:
    """``pgcrisis cache plan [--apply]``: the refresh plan for ``window``; with
    ``apply_plan`` install it in pg_cron (ConfigError where pg_cron is not installed)."""
    win = Window.parse(window)
    with connect(target) as safe:
        snapshot = collect(safe)
        cat = read_catalog(safe)
    schedule = plan_for(cat, win, max_concurrent, seed)
    jobs = () if "cron" in snapshot.unavailable else snapshot.cron.jobs
    current = current_schedule(cat, jobs) if "cron" not in snapshot.unavailable else None
    if not apply_plan:
        return PlanRun(schedule, current)
    if "cron" in snapshot.unavailable:
        raise ConfigError(f"cannot install the plan: {snapshot.unavailable['cron']}; "
                          "run `pgcrisis cache run` instead")
    statements = install_statements(schedule, win, jobs, allow_plain=allow_plain)
    with connect_writer(target) as conn:
        ensure_schema(conn, show)
        install(conn, statements, show)
    return PlanRun(schedule, current, tuple(statements))


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
    win = Window.parse(window)
    with connect(target) as safe:
        snapshot = collect(safe)
        cat = read_catalog(safe)
        have_schema = installed(safe)
    if "cron" in snapshot.unavailable:
        raise ConfigError(f"cannot install the plan: {snapshot.unavailable['cron']}")
    schedule = plan_for(cat, win, max_concurrent, seed)
    schema = () if have_schema else STATEMENTS
    return (*schema, *prepare_sql(target),
            *install_statements(schedule, win, snapshot.cron.jobs, allow_plain=allow_plain))
