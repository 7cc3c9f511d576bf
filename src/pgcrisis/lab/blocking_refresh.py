"""A plain ``REFRESH MATERIALIZED VIEW`` of the calculations view (:mod:`.cache`'s
tree) that locks its readers out, and what a reader waits during a real refresh."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar

import psycopg

from pgcrisis.errors import ScenarioError, first_line
from pgcrisis.lab.app import create_app
from pgcrisis.lab.cache import CALCULATIONS, build_tree
from pgcrisis.lab.scenario import Metric, Scenario, Worker, admin_connect, wait_until


class PlainRefreshBlocksReaders(Scenario):
    """A plain REFRESH of the calculations view holds its lock while readers queue.

    ``inject`` starts a session that runs ``REFRESH MATERIALIZED VIEW mv_customer_totals``
    inside a transaction it keeps open (as an app refreshing "on demand" inside its own
    transaction does), then ``readers`` threads that read the view or ``v_customer_report``
    (a plain view joined to it) every 50 ms: they all wait. With ``awaiting=True`` a long
    report first holds a read lock, so the refresh itself waits for its lock and the readers
    queue behind the refresh.

    ``measure()``: how long (ms) a reader of ``v_customer_report`` waits while the app
    really refreshes the view (its real duration, nothing held artificially), the median of
    three. The app refreshes CONCURRENTLY once the view has a unique index (the seed's code
    change). A refresh or reader that fails makes the figure an error, never an improvement.
    """

    code: ClassVar[str] = "matview-blocking-refresh"
    title: ClassVar[str] = "A plain REFRESH locks readers out of the calculations view"
    refresh_app: ClassVar[str] = "cache-refresher"
    reader_app: ClassVar[str] = "report-reader"

    def __init__(self, dsn: str, scale: float = 1.0, readers: int = 3,
                 awaiting: bool = False) -> None:
        super().__init__(dsn)
        self.scale = scale
        self.readers = readers
        self.awaiting = awaiting
        self._release = threading.Event()
        self._refreshed = threading.Event()
        self.refresher: Worker | None = None
        self.reader_pids: list[int] = []

    def setup(self) -> None:
        with admin_connect(self.dsn) as conn:
            create_app(conn, self.scale)
            build_tree(conn)

    def _hold(self, conn: psycopg.Connection[Any]) -> None:
        conn.execute(f"SELECT count(*) FROM {CALCULATIONS}")
        self._release.wait()
        conn.close()  # ends the transaction; also fine if the remedy ended the session

    def _refresh(self, conn: psycopg.Connection[Any]) -> None:
        conn.execute(f"REFRESH MATERIALIZED VIEW {CALCULATIONS}")
        self._refreshed.set()
        self._release.wait()  # the transaction stays open: so does the lock
        # closing rolls back; committing would fail (and leak the connection) if the remedy
        # terminated this session
        conn.close()

    def _reader(self, query: str) -> Callable[[psycopg.Connection[Any]], None]:
        def read(conn: psycopg.Connection[Any]) -> None:
            while not self._release.is_set():
                conn.execute(query.encode())
                self._release.wait(0.05)
        return read

    def _locks(self) -> list[tuple[int, str, bool]]:
        with admin_connect(self.dsn) as conn:
            return [(int(pid), str(mode), bool(granted)) for pid, mode, granted in conn.execute(
                "SELECT pid, mode, granted FROM pg_locks"
                " WHERE locktype = 'relation' AND relation = to_regclass(%s)",
                (CALCULATIONS,)).fetchall()]

    def inject(self) -> None:
        self._release.clear()
        self._refreshed.clear()
        if self.awaiting:
            self.spawn(self._hold, name="long-report", application_name="long-report",
                       autocommit=False)
        self.refresher = self.spawn(self._refresh, name="refresher",
                                    application_name=self.refresh_app, autocommit=False)
        refresher_pid = self.refresher.pid
        if self.awaiting:
            wait_until(lambda: any(pid == refresher_pid and mode == "AccessExclusiveLock"
                                   and not granted for pid, mode, granted in self._locks()),
                       what="the refresh to queue for its lock")
        elif not self._refreshed.wait(60):
            raise ScenarioError("the refresh did not finish within 60 s")
        queries = (f"SELECT count(*) FROM {CALCULATIONS}",
                   "SELECT count(*) FROM v_customer_report")
        self.reader_pids = [
            self.spawn(self._reader(queries[i % 2]), name=f"reader-{i}",
                       application_name=self.reader_app).pid or 0
            for i in range(self.readers)]

    def self_check(self) -> None:
        assert self.refresher is not None
        refresher_pid = self.refresher.pid

        def readers_wait() -> bool:
            locks = self._locks()
            waiting = {pid for pid, _, granted in locks if not granted}
            holds = any(pid == refresher_pid and mode == "AccessExclusiveLock"
                        for pid, mode, _ in locks)
            return holds and set(self.reader_pids) <= waiting

        wait_until(readers_wait, what=f"{self.readers} readers to wait behind the refresh")

    def stop(self) -> None:
        for worker in self.workers:  # released first: a session the remedy ended is no error
            worker.release.set()
        self._release.set()
        super().stop()

    def measure(self) -> Metric:
        """The median of three waits of a reader while the app really refreshes the view
        (one is enough when the reader waits out its whole timeout: the view is locked)."""
        waits: list[float] = []
        for _ in range(3):
            waited_ms, error = self._reader_wait_once()
            if error is not None:
                return Metric(self.metric_label, "ms", waited_ms, self.metric_source,
                              error=error)
            waits.append(waited_ms)
            if waited_ms >= self.reader_timeout_s * 1000:
                break
        return Metric(self.metric_label, "ms", statistics.median(waits), self.metric_source)

    metric_label: ClassVar[str] = "reader wait during a refresh of the calculations view"
    metric_source: ClassVar[str] = "measured: median of 3 real refreshes"
    #: a reader waiting this long is cancelled; the wait is then this long (the view is locked)
    reader_timeout_s: ClassVar[float] = 5.0

    def _refresh_lock(self, watch: psycopg.Connection[Any], pid: int | None) -> bool | None:
        """Whether session ``pid`` holds (True) or waits for (False) its lock on the view."""
        row = watch.execute(
            "SELECT bool_or(granted) FROM pg_locks WHERE pid = %s AND locktype = 'relation'"
            " AND relation = to_regclass(%s)"
            " AND mode IN ('AccessExclusiveLock', 'ExclusiveLock')",
            (pid, CALCULATIONS)).fetchone()
        return None if row is None else row[0]

    def _reader_wait_once(self) -> tuple[float, str | None]:
        """One real refresh as the app runs it (CONCURRENTLY once the view has a unique index,
        as the seed's code change did), and a reader of ``v_customer_report`` started once the
        refresh holds or awaits its lock: (the reader's wait in ms, the refresh's or reader's
        error). A reader cancelled by its timeout is the symptom, not an error."""
        with admin_connect(self.dsn) as conn:
            row = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_index WHERE indrelid = to_regclass(%s)"
                " AND indisunique)", (CALCULATIONS,)).fetchone()
        concurrent = bool(row and row[0])
        verb = "REFRESH MATERIALIZED VIEW CONCURRENTLY" if concurrent else \
            "REFRESH MATERIALIZED VIEW"

        def refresh(conn: psycopg.Connection[Any]) -> None:
            conn.execute(f"{verb} {CALCULATIONS}".encode())

        worker = Worker(self.dsn, refresh, name="measure-refresh",
                        application_name=self.refresh_app)
        worker.start_and_wait()
        error: str | None = None
        with admin_connect(self.dsn) as watch:
            deadline = time.monotonic() + 10
            while worker.is_alive() and time.monotonic() < deadline:
                if self._refresh_lock(watch, worker.pid) is not None:
                    break
            with admin_connect(self.dsn, application_name=self.reader_app) as reader:
                reader.execute(f"SET statement_timeout = {int(self.reader_timeout_s * 1000)}"
                               .encode())
                t0 = time.perf_counter()
                try:
                    reader.execute("SELECT count(*) FROM v_customer_report")
                except psycopg.errors.QueryCanceled:
                    pass  # waited the whole timeout: that is the measurement
                except psycopg.Error as exc:
                    error = f"the reader failed: {first_line(exc)}"
                waited_ms = (time.perf_counter() - t0) * 1000
            if self._refresh_lock(watch, worker.pid) is False:
                worker.cancel()  # queued behind another session's lock: not ours to wait out
        worker.join(60)
        if worker.is_alive():
            worker.cancel()
            worker.join(10)
            error = error or "the refresh did not finish within 60 s"
        if worker.error is not None:
            error = f"the refresh failed: {first_line(worker.error)}"
        return waited_ms, error
