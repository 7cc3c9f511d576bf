"""``pgcrisis cache watch``: refresh on change, without refresh storms.

Writers never talk to the worker directly. A statement-level trigger on every table a
matview reads appends a *dirty mark* to ``pgcrisis.dirty`` (the source of truth) and sends
a NOTIFY that only wakes the worker up. The worker:

1. waits for a *quiet period* after a view's last mark (a burst of writes becomes one
   refresh), but never longer than the *maximum staleness* after its first mark;
2. expands the due views to every matview built on them, and marks those dirty too, so a
   worker that dies mid-wave leaves every unfinished view marked;
3. *claims* the marks (``wave`` = this wave): only marks already committed, so every claimed
   write is visible to the refresh that follows;
4. refreshes each view of the wave once, bases first, at most ``max_concurrent`` at a time,
   CONCURRENTLY, under the same advisory lock as ``cache refresh`` (skip when busy);
5. deletes a view's claimed marks only after its refresh committed. Marks written meanwhile
   stay for the next wave. A restarted worker claims what the dead one left.

Only one worker runs per database (an advisory lock). A listener that dies never makes a
writer's commit fail: the trigger only NOTIFYs while the notification queue is under half
full, and a dead session's LISTEN goes away with it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from pgcrisis.cache.apply import connect_writer, statement
from pgcrisis.cache.apply.refresh import (
    REFRESHED,
    UNREADY,
    RefreshOptions,
    RefreshOutcome,
    Writers,
    refresh_one,
    refresh_parallel,
)
from pgcrisis.cache.apply.schema import CHANNEL, LOCK_CLASS, WATCH_LOCK, ensure_schema
from pgcrisis.cache.catalog import CacheCatalog, base_tables, read_catalog
from pgcrisis.collect.session import connect
from pgcrisis.dsn import Target
from pgcrisis.errors import ConfigError, PgcrisisError
from pgcrisis.journal import apply

#: name of the trigger put on each base table
TRIGGER = "pgcrisis_cache_dirty"
#: lock_timeout for installing a trigger (it briefly locks writers of the table out)
TRIGGER_LOCK_TIMEOUT_MS = 2000
#: how often the worker re-reads the matviews (new views get their triggers)
RELOAD_S = 60.0


@dataclass(frozen=True, slots=True)
class WatchOptions:
    """Quiet period, maximum staleness (seconds), concurrency cap, polling interval."""

    quiet_s: float = 5.0
    max_staleness_s: float = 300.0
    max_concurrent: int = 2
    poll_s: float = 1.0
    refresh: RefreshOptions = field(default_factory=lambda: RefreshOptions(
        source="watch", reason="cache watch"))


@dataclass(frozen=True, slots=True)
class Wave:
    """One wave: the views that were due, and every refresh done (in finishing order)."""

    due: tuple[str, ...]
    outcomes: tuple[RefreshOutcome, ...]


def trigger_statements(conn: psycopg.Connection[Any], tables: Mapping[str, Iterable[str]],
                       watched: set[str]) -> list[str]:
    """The CREATE OR REPLACE TRIGGER / DROP TRIGGER statements that make the base tables'
    triggers name exactly the watched views reading them (none for tables already right)."""
    existing = {str(rel): tuple(args) for rel, args in conn.execute(
        statement("watch_triggers"), (TRIGGER,)).fetchall()}
    wanted = {t: tuple(sorted(v for v in views if v in watched)) for t, views in tables.items()}
    out: list[str] = []
    for table, views in sorted(wanted.items()):
        if not views or existing.get(table) == views:
            continue
        args = sql.SQL(", ").join(sql.Literal(v) for v in views)
        out.append(sql.SQL(
            "CREATE OR REPLACE TRIGGER {} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {} "
            "FOR EACH STATEMENT EXECUTE FUNCTION pgcrisis.mark_dirty({})").format(
            sql.Identifier(TRIGGER), sql.SQL(table), args).as_string(conn))
    for table in sorted(existing):
        if not wanted.get(table):
            out.append(sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(
                sql.Identifier(TRIGGER), sql.SQL(table)).as_string(conn))
    return out


class Watcher:
    """The watch worker. ``start`` (lock, schema, triggers, LISTEN), then ``wave`` or
    ``run``; ``close`` at the end (also as a context manager)."""

    def __init__(self, target: Target, options: WatchOptions | None = None, *,
                 views: Iterable[str] = (), show: Callable[[str], None] | None = None,
                 progress: Callable[[RefreshOutcome], None] | None = None) -> None:
        self.target = target
        self.options = options or WatchOptions()
        self.only = set(views)
        self.show = show
        self.progress = progress
        self.conn: psycopg.Connection[Any] | None = None
        self.catalog: CacheCatalog | None = None
        self.writers = Writers(target)
        self.waves = 0
        self.watched: frozenset[str] = frozenset()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Watcher:
        conn = connect_writer(self.target, application_name="pgcrisis-cache-watch")
        self.conn = conn
        row = conn.execute(statement("advisory_try_lock"), (LOCK_CLASS, WATCH_LOCK)).fetchone()
        if not (row and row[0]):
            conn.close()
            raise ConfigError("another `pgcrisis cache watch` is already running on this "
                              "database")
        ensure_schema(conn, self.show)
        self.reload()
        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
        return self

    def reload(self) -> None:
        """Re-read the matviews and put the triggers right (only what changed)."""
        assert self.conn is not None
        with connect(self.target) as safe:
            self.catalog = read_catalog(safe)
            tables = base_tables(safe)
        watched = {v.name for v in self.catalog.matviews.views
                   if (not self.only or v.name in self.only)
                   and (v.concurrent_ready or self.options.refresh.allow_plain)}
        self.watched = frozenset(watched)
        statements = trigger_statements(self.conn, tables, watched)
        if statements:
            self.conn.execute(sql.SQL("SET lock_timeout = {}").format(
                sql.Literal(TRIGGER_LOCK_TIMEOUT_MS)))
            results = apply(self.conn, statements, reason="cache watch: dirty-mark triggers",
                            show=self.show)
            self.conn.execute(statement("reset_lock_timeout"))
            failed = next((r for r in results if not r.ok), None)
            if failed is not None:
                raise PgcrisisError(f"could not install the watch triggers: {failed.error}")

    def close(self) -> None:
        self.writers.close()
        if self.conn is not None:
            self.conn.close()  # ends the session: its advisory lock and LISTEN go with it
            self.conn = None

    def __enter__(self) -> Watcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one wave --------------------------------------------------------------------------

    def _state(self) -> tuple[list[str], float | None, int]:
        """Due views, seconds until the next view falls due (None: none marked), marks."""
        assert self.conn is not None
        rows = self.conn.execute(statement("dirty_views")).fetchall()
        due: list[str] = []
        wait_s: float | None = None
        for view, since_first, since_last, _ in rows:
            left = min(self.options.quiet_s - since_last,
                       self.options.max_staleness_s - since_first)
            if left <= 0:
                due.append(str(view))
            else:
                wait_s = left if wait_s is None else min(wait_s, left)
        return due, wait_s, sum(int(r[3]) for r in rows)

    def _claim(self, views: list[str], wave_id: int) -> None:
        assert self.conn is not None
        with self.conn.transaction():
            self.conn.execute(statement("mark_unmarked"), (views,))
            self.conn.execute(statement("claim_marks"), (wave_id, views, wave_id))

    def _refresh(self, name: str, wave_id: int) -> RefreshOutcome:
        assert self.catalog is not None
        view = next(v for v in self.catalog.matviews.views if v.name == name)
        with self.writers.session() as conn:
            outcome = refresh_one(conn, view, self.options.refresh, self.show)
            if outcome.status in (REFRESHED, UNREADY):  # unready views are not watched
                conn.execute(statement("delete_claimed"), (name, wave_id))
            return outcome

    def wave(self) -> Wave | None:
        """Refresh what is due now, once each, bases first; None when nothing is due."""
        assert self.conn is not None and self.catalog is not None
        due, _, _ = self._state()
        if not due:
            return None
        if any(v not in self.catalog.graph.nodes for v in due):
            self.reload()  # a view created since the last look, or one dropped
        graph = self.catalog.graph
        known = set(graph.nodes)
        gone = [v for v in due if v not in known]
        if gone:  # dropped views: their marks mean nothing
            self.conn.execute(statement("delete_marks"), (gone,))
        due = [v for v in due if v in known]
        order = graph.order(within=graph.downstream(due))
        if not order:
            return Wave(tuple(due), ())
        wave_id = time.time_ns()
        self._claim(list(order), wave_id)
        outcomes = refresh_parallel(order, graph.bases, self.options.max_concurrent,
                                    lambda name: self._refresh(name, wave_id), self.progress)
        self.waves += 1
        return Wave(tuple(due), tuple(outcomes))

    # -- the loop ----------------------------------------------------------------------------

    def run(self, stop: threading.Event | None = None, *, until_idle: bool = False,
            timeout_s: float | None = None) -> None:
        """Run waves until ``stop`` is set (or, with ``until_idle``, no mark is left)."""
        assert self.conn is not None
        stop = stop or threading.Event()
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        reloaded = time.monotonic()
        while not stop.is_set():
            if time.monotonic() - reloaded > RELOAD_S:
                self.reload()
                reloaded = time.monotonic()
            if deadline is not None and time.monotonic() > deadline:
                raise PgcrisisError(f"cache watch: marks still pending after {timeout_s:.0f} s")
            self.wave()
            _, wait_s, marks = self._state()
            if until_idle and marks == 0:
                return
            pause = self.options.poll_s if wait_s is None else min(self.options.poll_s,
                                                                    max(wait_s, 0.05))
            t0 = time.monotonic()
            with contextlib.suppress(psycopg.errors.QueryCanceled):
                for _ in self.conn.notifies(timeout=pause, stop_after=1):
                    pass
            # a burst sends a NOTIFY per statement: look at most every 50 ms
            time.sleep(max(0.0, 0.05 - (time.monotonic() - t0)))
