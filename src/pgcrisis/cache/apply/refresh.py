"""Refreshing materialized views without blocking their readers and without piling up.

One view at a time, each in its own transaction (autocommit), in topological order:

* CONCURRENTLY whenever the view can (populated, usable unique index); a plain refresh only
  when the caller allows it (it locks every reader out for its whole duration);
* under a session advisory lock keyed on the view's oid: a second refresher of the same view
  (another ``cache refresh``, ``watch``, a pg_cron chain) *skips* it rather than queue behind
  it, since the refresh in progress gives readers the same data;
* without parallel workers by default, so the refresh takes one core and leaves the rest to
  the readers it must not slow down;
* with a ``lock_timeout`` and a few retries after a random pause (jitter), so a refresh never
  waits long behind DDL and never makes a queue of its own;
* recorded in ``pgcrisis.refresh_log`` (durations for ``cache plan``) and journaled.
"""

from __future__ import annotations

import queue
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql

from pgcrisis.cache.apply import connect_writer, statement
from pgcrisis.cache.apply.schema import LOCK_CLASS
from pgcrisis.cache.graph import CacheGraph
from pgcrisis.dsn import Target
from pgcrisis.journal import apply
from pgcrisis.model.matviews import Matview

REFRESHED = "refreshed"
BUSY = "busy"          # another session is refreshing it: skipped
UNREADY = "unready"    # cannot refresh concurrently and plain was not allowed: skipped
FAILED = "failed"
WAITED = "skipped"     # a base it is built on was not refreshed: left for next time


@dataclass(frozen=True, slots=True)
class RefreshOptions:
    """How to refresh: plain allowed?, lock_timeout per attempt, retries, who asks."""

    allow_plain: bool = False
    lock_timeout_ms: int = 5000
    retries: int = 3
    source: str = "cli"
    reason: str = "cache refresh"
    #: max_parallel_workers_per_gather for the refresh: 0 leaves the other cores to the
    #: readers (a background refresh should be slower, not make readers slower)
    parallel_workers: int = 0


@dataclass(frozen=True, slots=True)
class RefreshOutcome:
    """What happened to one view."""

    view: str
    status: str
    concurrently: bool
    duration_s: float
    attempts: int = 0
    error: str = ""
    started_at: float = 0.0   # time.time() when the refresh began
    finished_at: float = 0.0


def refresh_statement(view: str, concurrently: bool) -> str:
    """The REFRESH for ``view`` (a canonical, quoted name)."""
    return sql.SQL("REFRESH MATERIALIZED VIEW {}{}").format(
        sql.SQL("CONCURRENTLY " if concurrently else ""),
        sql.SQL(view)).as_string(None)


def _log(conn: psycopg.Connection[Any], o: RefreshOutcome, source: str) -> None:
    conn.execute(
        statement("log_refresh"),
        (o.view, datetime.fromtimestamp(o.started_at, UTC),
         datetime.fromtimestamp(o.finished_at, UTC), o.duration_s, o.status, o.concurrently,
         source, o.error))


def refresh_one(conn: psycopg.Connection[Any], view: Matview, options: RefreshOptions,
                show: Callable[[str], None] | None = None,
                rng: random.Random | None = None) -> RefreshOutcome:
    """Refresh ``view`` once on ``conn`` (autocommit), or say why not."""
    rng = rng or random.Random()
    concurrently = view.concurrent_ready
    t0 = time.time()

    def done(status: str, attempts: int = 0, error: str = "") -> RefreshOutcome:
        t1 = time.time()
        outcome = RefreshOutcome(view.name, status, concurrently, t1 - t0, attempts, error, t0, t1)
        _log(conn, outcome, options.source)
        return outcome

    if not concurrently and not options.allow_plain:
        return done(UNREADY, error="no usable unique index (or not populated): run "
                                   "`pgcrisis cache prepare`, or allow a plain refresh")
    conn.autocommit = True
    row = conn.execute(statement("view_try_lock"), (LOCK_CLASS, view.oid)).fetchone()
    if not (row and row[0]):
        return done(BUSY)
    try:
        conn.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(options.lock_timeout_ms)))
        conn.execute(sql.SQL("SET max_parallel_workers_per_gather = {}").format(
            sql.Literal(options.parallel_workers)))
        refresh_sql = refresh_statement(view.name, concurrently)
        attempts = 0
        while True:
            attempts += 1
            t0 = time.time()
            result = apply(conn, [refresh_sql], reason=options.reason, show=show)[0]
            if result.ok:
                return done(REFRESHED, attempts)
            if "lock timeout" not in result.error or attempts > options.retries:
                return done(FAILED, attempts, result.error)
            time.sleep(rng.uniform(0, 0.5 * attempts))
    finally:
        conn.execute(statement("view_unlock"), (LOCK_CLASS, view.oid))
        conn.execute(statement("reset_lock_timeout"))
        conn.execute(statement("reset_parallel_workers"))


def refresh_in_order(conn: psycopg.Connection[Any], graph: CacheGraph,
                     views: Mapping[str, Matview], names: Iterable[str],
                     options: RefreshOptions, *, show: Callable[[str], None] | None = None,
                     progress: Callable[[RefreshOutcome], None] | None = None,
                     ) -> list[RefreshOutcome]:
    """Refresh ``names`` once each, bases first; a view whose base (in this set) was not
    refreshed is skipped, since refreshing it would cache stale data."""
    wanted = set(names)
    outcomes: list[RefreshOutcome] = []
    not_done: set[str] = set()
    for name in graph.order(within=wanted):
        held_back = [b for b in graph.bases.get(name, ()) if b in not_done]
        if held_back:
            outcome = RefreshOutcome(name, WAITED, False, 0.0,
                                     error=f"its base {held_back[0]} was not refreshed")
        else:
            outcome = refresh_one(conn, views[name], options, show)
        if outcome.status != REFRESHED:
            not_done.add(name)
        outcomes.append(outcome)
        if progress is not None:
            progress(outcome)
    return outcomes


class Writers:
    """Writer sessions shared by refresh threads: taken, given back, closed at the end."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._free: queue.Queue[psycopg.Connection[Any]] = queue.Queue()
        self._all: list[psycopg.Connection[Any]] = []

    def take(self) -> psycopg.Connection[Any]:
        """A free session (a new one when all are busy)."""
        try:
            return self._free.get_nowait()
        except queue.Empty:
            conn = connect_writer(self.target)
            self._all.append(conn)
            return conn

    def give(self, conn: psycopg.Connection[Any]) -> None:
        """Give a session back."""
        self._free.put(conn)

    @contextmanager
    def session(self) -> Iterator[psycopg.Connection[Any]]:
        """A session for one refresh, given back afterwards even when the refresh raised."""
        conn = self.take()
        try:
            yield conn
        finally:
            self.give(conn)

    def close(self) -> None:
        """Close every session."""
        for conn in self._all:
            conn.close()
        self._all.clear()


def refresh_parallel(order: Iterable[str], bases: Mapping[str, Iterable[str]], cap: int,
                     refresh: Callable[[str], RefreshOutcome],
                     progress: Callable[[RefreshOutcome], None] | None = None,
                     ) -> list[RefreshOutcome]:
    """Refresh views in ``order`` (topological, by priority) with at most ``cap`` at once;
    each starts once all its bases in the set are done, and is skipped if one of them was
    not refreshed. Outcomes in finishing order."""
    pending = list(order)
    members = set(pending)
    done: dict[str, RefreshOutcome] = {}
    outcomes: list[RefreshOutcome] = []
    running: dict[Future[RefreshOutcome], str] = {}
    cap = max(1, cap)

    def finish(outcome: RefreshOutcome) -> None:
        done[outcome.view] = outcome
        outcomes.append(outcome)
        if progress is not None:
            progress(outcome)

    with ThreadPoolExecutor(cap, thread_name_prefix="pgcrisis-refresh") as pool:
        while pending or running:
            progressed = True
            while progressed and len(running) < cap:
                progressed = False
                for name in list(pending):
                    if len(running) >= cap:
                        break
                    mine = [b for b in bases.get(name, ()) if b in members]
                    if not all(b in done for b in mine):
                        continue
                    pending.remove(name)
                    progressed = True
                    failed = [b for b in mine if done[b].status != REFRESHED]
                    if failed:
                        finish(RefreshOutcome(name, WAITED, False, 0.0,
                                              error=f"its base {failed[0]} was not refreshed"))
                    else:
                        running[pool.submit(refresh, name)] = name
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                running.pop(future)
                finish(future.result())
    return outcomes
