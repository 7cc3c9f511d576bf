"""Load faults: more work than the server has cores or disk for (issue 20).

- :class:`CpuSaturation`: more clients than cores (four times as many), each running a join
  of generated rows in a loop, without parallel workers: no table, no lock, no I/O, only the
  CPUs. Next to it, an ordinary client making a lookup now and then.
- :class:`IoSaturation`: a working set far beyond ``shared_buffers`` (a table of about 300 MB,
  the test cluster has 128 MB of buffers), read by more clients than cores through an index
  whose order is unrelated to the table's (every row fetched is another page). This machine
  has far more memory than the table, so the kernel's page cache would serve every read from
  memory and a read would rarely block: the scenario therefore evicts the table's files from
  the page cache every 0.2 s (``posix_fadvise(DONTNEED)``), as a server whose memory cannot
  hold its working set would. The reads then go to the disk, and the sessions wait on
  ``DataFileRead`` (PostgreSQL 18: ``AioIoCompletion``). It needs the cluster's data files on
  this machine (the test suite's own cluster).

Each proves its fault in ``self_check`` from pg_stat_activity samples: sessions on CPU beyond
the cores, or waiting on data-file I/O. :func:`recorded_window` records a few seconds of a load
(this one or another) and judges the window, as the load tests do besides judging it live.
"""

from __future__ import annotations

import glob
import os
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar

import psycopg
from psycopg import sql

from pgcrisis.errors import ScenarioError
from pgcrisis.history.service import triage_window
from pgcrisis.judge import TriageReport
from pgcrisis.lab.scenario import Scenario, admin_connect, wait_until
from pgcrisis.model.waits import is_data_file_io
from pgcrisis.store import open_store
from tests.record_helpers import Background, server_now

#: the CPU-heavy statement: a hash join of generated rows (about 0.1 s of one core)
CRUNCH = ("SELECT count(*) FROM generate_series(1, 400000) a"
          " JOIN generate_series(1, 4000) b ON a.a = b.b * 7")
#: the I/O-heavy statement: a hundred random rows of a table far larger than shared_buffers
#: (its bounds written as literals: parameters bound as int2 or int4, as the value allows,
#: would make two statements of it in pg_stat_statements)
READ = sql.SQL("SELECT count(pad) FROM reading WHERE k BETWEEN {start} AND {start} + 100")


def cores() -> int:
    """This machine's CPUs (the test cluster's)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


def recorded_window(dsn: str, path: str, frames: int, *, after: int = 0) -> TriageReport:
    """What ``triage --from/--to`` says of a recording made now while the load runs: a
    recorder (at 0.25 s, :class:`tests.record_helpers.Background`) writes to the store at
    ``path``; the window starts once it has taken ``after`` frames (its first is a full one,
    every part read: a check that needs the minute's parts, as bad-plan, starts at 0; one
    judging the load lets the profile fill first) and ends ``frames`` frames later, both
    bounds on the server's clock, as a person would type them."""
    with Background(dsn, path) as rec:
        if after:
            rec.wait_frames(after)
        start = server_now(dsn)
        rec.wait_frames(frames)
        end = server_now(dsn)
    store = open_store(path, create=False)
    try:
        return triage_window(store, None, start, end)
    finally:
        store.close()


def waits(dsn: str, application_name: str, samples: int = 10) -> list[list[tuple[Any, ...]]]:
    """``samples`` readings, 0.1 s apart, of the active sessions of ``application_name``:
    (wait_event_type, wait_event) each."""
    out = []
    with admin_connect(dsn) as conn:
        for _ in range(samples):
            out.append(conn.execute(
                "SELECT wait_event_type, wait_event FROM pg_stat_activity"
                " WHERE application_name = %s AND state = 'active'",
                (application_name,)).fetchall())
            time.sleep(0.1)
    return out


class _Loop(Scenario):
    """Clients running ``statement(conn, i)`` in a loop until stopped."""

    application_name: str = "load"

    def __init__(self, dsn: str, clients: int) -> None:
        super().__init__(dsn)
        self.clients = clients
        self.calls = 0
        self.stopping = threading.Event()
        self._lock = threading.Lock()

    def statement(self, conn: psycopg.Connection[Any], i: int) -> None:
        raise NotImplementedError

    def _loop(self, conn: psycopg.Connection[Any]) -> None:
        conn.execute("SET max_parallel_workers_per_gather = 0")
        i = 0
        while not self.stopping.is_set():
            self.statement(conn, i)
            i += 1
            with self._lock:
                self.calls += 1

    def start_clients(self) -> None:
        for n in range(self.clients):
            self.spawn(self._loop, name=f"{self.application_name}-{n}",
                       application_name=self.application_name)
        wait_until(lambda: self.calls >= self.clients, what="every client's first call")

    def stop(self) -> None:
        self.stopping.set()
        super().stop()

    def proven(self, holds: Callable[[list[tuple[Any, ...]]], bool], what: str) -> None:
        """Raise unless most of ten samples of the clients' sessions show ``holds``."""
        seen = waits(self.dsn, self.application_name)
        hits = sum(1 for sample in seen if holds(sample))
        if hits < 6:
            raise ScenarioError(f"only {hits} of 10 samples show {what}: {seen[-1]}")


class CpuSaturation(_Loop):
    """Four clients per core, each running a CPU-bound join in a loop."""

    code: ClassVar[str] = "cpu-saturation"
    title: ClassVar[str] = "more clients than cores run a CPU-heavy join"
    application_name = "report-crunch"

    def __init__(self, dsn: str, clients: int | None = None) -> None:
        super().__init__(dsn, clients or 4 * cores())

    def setup(self) -> None:
        with admin_connect(self.dsn) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")

    def statement(self, conn: psycopg.Connection[Any], i: int) -> None:
        conn.execute(CRUNCH)

    def inject(self) -> None:
        self.start_clients()

    def self_check(self) -> None:
        self.proven(lambda s: sum(1 for t, _ in s if t is None) > cores(),
                    f"more than {cores()} sessions on CPU")


class IoSaturation(_Loop):
    """More clients than cores read random rows of a table four times larger than
    ``shared_buffers``, its files evicted from the kernel's page cache all along."""

    code: ClassVar[str] = "io-saturation"
    title: ClassVar[str] = "a working set far beyond shared_buffers, read by many clients"
    application_name = "catalog-reader"

    def __init__(self, dsn: str, clients: int = 16, rows: int = 600_000) -> None:
        super().__init__(dsn, clients)
        self.rows = rows
        self.files = ""
        self._evicting = threading.Event()
        self._evictor: threading.Thread | None = None

    def setup(self) -> None:
        with admin_connect(self.dsn) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.execute("CREATE TABLE reading (id bigint, k int, pad text)"
                         " WITH (fillfactor = 50)")
            # k is a hash of id: an index on k visits the table's pages in no order
            conn.execute("INSERT INTO reading SELECT g, (hashint4(g::int) & 2147483647) %% %s,"
                         " repeat('x', 200) FROM generate_series(1, %s) g",
                         (self.rows, self.rows))
            conn.execute("CREATE INDEX ON reading (k)")
            conn.execute("VACUUM ANALYZE reading")
            conn.execute("CHECKPOINT")  # clean pages: the kernel may drop them
            row = conn.execute("SELECT current_setting('data_directory') || '/'"
                               " || pg_relation_filepath('reading')").fetchone()
        self.files = str(row[0]) if row else ""
        if not glob.glob(self.files + "*"):
            raise ScenarioError(f"the table's files are not on this machine ({self.files})")

    def evict(self) -> None:
        """Drop the table's files from the kernel's page cache (reads then go to the disk)."""
        for path in glob.glob(self.files + "*"):
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)

    def _evict_all_along(self) -> None:
        while not self._evicting.wait(0.2):
            self.evict()

    def statement(self, conn: psycopg.Connection[Any], i: int) -> None:
        start = (i * 7919 + id(conn) % 100_003) % self.rows
        conn.execute(READ.format(start=sql.Literal(start)))

    def inject(self) -> None:
        self.evict()
        self._evictor = threading.Thread(target=self._evict_all_along, daemon=True)
        self._evictor.start()
        self.start_clients()

    def self_check(self) -> None:
        self.proven(lambda s: sum(1 for t, e in s if is_data_file_io(t, e)) >= 2,
                    "at least two sessions waiting on data-file I/O")

    def stop(self) -> None:
        self._evicting.set()
        if self._evictor is not None:
            self._evictor.join(5)
        super().stop()
