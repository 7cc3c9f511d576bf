"""Write and fetch faults: writes the server cannot absorb, results it should not send (issue 20).

- :class:`InsertStorm`: many clients (pgbench, a script of short transactions) each inserting
  one row and committing, into one table: sessions pile up on the table's last pages, its
  index's rightmost page and the WAL. The test cluster turns ``fsync`` and
  ``synchronous_commit`` off for speed, which makes a COMMIT free; a real server has them on,
  so the scenario turns them on while it runs (``fsync`` for the cluster, back off after;
  ``synchronous_commit`` for its database): each COMMIT waits for its WAL to be flushed.
- :class:`MassDelete`: one DELETE of nine rows in ten of a million-row table, as a purge job
  runs it. The test cluster turns ``full_page_writes`` off for speed; a real server has it on,
  so the scenario turns it on for the delete (and back off after): the first change to each
  page after a checkpoint writes the whole page to the WAL, as it would in production.
- :class:`IndexedUpdates`: clients (pgbench) updating an indexed column of random rows of a
  table with twelve indexes, eleven of which nothing reads: every update adds an entry to all
  twelve.
- :class:`LargeFetch`: several clients (pgbench) each fetching nine rows in ten of a table of
  200,000 rows (``SELECT *``), call after call.

Each proves its fault in ``self_check`` from the server (pg_stat_activity, the WAL position,
pg_stat_user_tables), polled with a deadline, never by sleeping.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

import psycopg
from psycopg import sql

from pgcrisis.errors import ScenarioError
from pgcrisis.lab.scenario import Scenario, admin_connect, wait_until
from pgcrisis.server_binaries import find_binaries

#: the statements each scenario drives the load with (what triage must name)
INSERT = "INSERT INTO events (kind, payload) VALUES (:k, repeat('x', 100));"
DELETE = "DELETE FROM purged WHERE id % 10 <> 0"
UPDATE = "UPDATE items SET c1 = c1 + 1 WHERE id = :id;"
FETCH = "SELECT * FROM catalog WHERE NOT discontinued;"


def active(dsn: str, application_name: str, samples: int = 10) -> list[int]:
    """Sessions of ``application_name`` active, in ``samples`` readings 0.1 s apart."""
    out = []
    with admin_connect(dsn) as conn:
        for _ in range(samples):
            row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name"
                               " = %s AND state = 'active'", (application_name,)).fetchone()
            out.append(int(row[0]) if row else 0)
            time.sleep(0.1)
    return out


class _Pgbench(Scenario):
    """pgbench running ``script`` with ``clients`` clients until stopped."""

    application_name: ClassVar[str] = "load"

    #: pgbench's query mode (a pipeline needs extended or prepared)
    mode: ClassVar[str] = "simple"
    #: pgbench's threads: a client starved of CPU cannot load a server
    threads: ClassVar[int] = 2

    def __init__(self, dsn: str, pgbench: Path | None, clients: int) -> None:
        super().__init__(dsn)
        binaries = find_binaries() if pgbench is None else None
        self.pgbench = pgbench or (binaries.tool("pgbench") if binaries else Path("pgbench"))
        self.clients = clients
        self.bench: subprocess.Popen[bytes] | None = None
        self._script = ""

    def script(self) -> str:
        raise NotImplementedError

    def inject(self) -> None:
        fd, self._script = tempfile.mkstemp(suffix=".sql", prefix="pgcrisis-")
        with os.fdopen(fd, "w") as fh:
            fh.write(self.script() + "\n")
        env = {**os.environ, "PGAPPNAME": self.application_name}
        self.bench = subprocess.Popen(
            [str(self.pgbench), "-n", "-f", self._script, "-M", self.mode,
             "-c", str(self.clients), "-j", str(self.threads),
             "-T", "120", self.dsn], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wait_until(lambda: self._connected() >= self.clients or self.bench is None
                   or self.bench.poll() is not None, what="pgbench's clients")
        if self.bench.poll() is not None:
            raise ScenarioError(f"pgbench stopped: {self.bench.communicate()[1].decode()}")

    def _connected(self) -> int:
        with admin_connect(self.dsn) as conn:
            row = conn.execute("SELECT count(*) FROM pg_stat_activity"
                               " WHERE application_name = %s", (self.application_name,)).fetchone()
        return int(row[0]) if row else 0

    def proven(self, holds: Any, what: str) -> None:
        """Wait (with a deadline) until ``holds()``: the load really runs."""
        wait_until(holds, timeout=20, what=what)

    def stop(self) -> None:
        if self.bench is not None and self.bench.poll() is None:
            self.bench.terminate()
            self.bench.communicate(timeout=30)
        if self._script:
            Path(self._script).unlink(missing_ok=True)
        super().stop()


class InsertStorm(_Pgbench):
    """Many clients inserting one row per transaction into one table."""

    code: ClassVar[str] = "write-storm"
    title: ClassVar[str] = "many clients insert one row per transaction into one table"
    application_name = "event-writer"
    mode = "extended"
    threads = 8

    def __init__(self, dsn: str, pgbench: Path | None = None, clients: int = 32) -> None:
        super().__init__(dsn, pgbench, clients)

    def setup(self) -> None:
        with admin_connect(self.dsn) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.execute("CREATE TABLE events (id bigserial PRIMARY KEY,"
                         " at timestamptz NOT NULL DEFAULT now(), kind int, payload text)")
            conn.execute("CREATE INDEX ON events (at)")
            conn.execute("CREATE INDEX ON events (kind, at)")
            row = conn.execute("SELECT current_setting('fsync'), current_database()").fetchone()
            assert row is not None
            self._fsync, database = str(row[0]), str(row[1])
            # every COMMIT waits for its WAL to reach the disk, as on a real server
            conn.execute(sql.SQL("ALTER DATABASE {} SET synchronous_commit = on").format(
                sql.Identifier(database)))
            if self._fsync != "on":
                conn.execute("ALTER SYSTEM SET fsync = on")
                conn.execute("SELECT pg_reload_conf()")
                wait_until(lambda: self._setting("fsync") == "on", what="fsync on")

    def _setting(self, name: str) -> str:
        with admin_connect(self.dsn) as conn:
            row = conn.execute("SELECT current_setting(%s)", (name,)).fetchone()
        return str(row[0]) if row else ""

    def stop(self) -> None:
        super().stop()
        if getattr(self, "_fsync", "on") != "on":
            with admin_connect(self.dsn) as conn:
                conn.execute("ALTER SYSTEM RESET fsync")
                conn.execute("SELECT pg_reload_conf()")

    def script(self) -> str:
        # one round trip per transaction (a pipeline): the server, not pgbench, is the bottleneck
        return (f"\\set k random(1, 1000)\n\\startpipeline\nBEGIN;\n{INSERT}\nCOMMIT;\n"
                "\\endpipeline")

    def self_check(self) -> None:
        seen = active(self.dsn, self.application_name)
        if sum(n >= 4 for n in seen) < 6:
            raise ScenarioError(f"the inserts do not keep four sessions busy (active sessions "
                                f"in 10 samples: {seen}): pgbench cannot drive the server "
                                "on this machine now")


class IndexedUpdates(_Pgbench):
    """Clients updating an indexed column of random rows of a table with twelve indexes,
    eleven of which nothing reads."""

    code: ClassVar[str] = "index-overhead"
    title: ClassVar[str] = "updates of a table with twelve indexes, eleven never read"
    application_name = "stock-sync"
    indexes = 12

    def __init__(self, dsn: str, pgbench: Path | None = None, clients: int = 8,
                 rows: int = 20_000) -> None:
        super().__init__(dsn, pgbench, clients)
        self.rows = rows

    def setup(self) -> None:
        columns = [f"c{i}" for i in range(1, self.indexes)]
        with admin_connect(self.dsn) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.execute("CREATE TABLE items (id int PRIMARY KEY, "
                         + ", ".join(f"{c} int NOT NULL" for c in columns) + ")")
            conn.execute("INSERT INTO items SELECT g, " + ", ".join(
                f"g %% {97 + i}" for i in range(len(columns))) + " FROM generate_series(1, %s) g",
                (self.rows,))
            for c in columns:
                conn.execute(f"CREATE INDEX items_{c} ON items ({c})".encode())
            conn.execute("VACUUM ANALYZE items")

    def script(self) -> str:
        return f"\\set id random(1, {self.rows})\n{UPDATE}"

    def written(self) -> int:
        """Rows updated in the table so far (pg_stat_user_tables)."""
        with admin_connect(self.dsn) as conn:
            row = conn.execute("SELECT n_tup_upd - n_tup_hot_upd FROM pg_stat_user_tables"
                               " WHERE relname = 'items'").fetchone()
        return int(row[0]) if row else 0

    def self_check(self) -> None:
        before = self.written()
        self.proven(lambda: self.written() >= before + 2000, "2,000 updates adding index entries")


class LargeFetch(_Pgbench):
    """Clients each fetching nine rows in ten of a 200,000-row table, call after call."""

    code: ClassVar[str] = "large-result"
    title: ClassVar[str] = "several clients fetch most of a large table, call after call"
    application_name = "catalog-export"

    def __init__(self, dsn: str, pgbench: Path | None = None, clients: int = 4,
                 rows: int = 200_000) -> None:
        super().__init__(dsn, pgbench, clients)
        self.rows = rows

    def setup(self) -> None:
        with admin_connect(self.dsn) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.execute("CREATE TABLE catalog (id int PRIMARY KEY, name text, price numeric,"
                         " discontinued bool NOT NULL)")
            conn.execute("INSERT INTO catalog SELECT g, 'item ' || g, g %% 1000 / 10.0,"
                         " g %% 10 = 0 FROM generate_series(1, %s) g", (self.rows,))
            conn.execute("VACUUM ANALYZE catalog")

    def script(self) -> str:
        return FETCH

    def calls(self) -> int:
        with admin_connect(self.dsn) as conn:
            row = conn.execute("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements"
                               " WHERE query LIKE 'SELECT * FROM catalog%'").fetchone()
        return int(row[0]) if row else 0

    def self_check(self) -> None:
        self.proven(lambda: self.calls() >= 2 * self.clients, "every client's calls completed")


class MassDelete(Scenario):
    """One DELETE of nine rows in ten of a million-row table (``full_page_writes`` on)."""

    code: ClassVar[str] = "write-storm"
    title: ClassVar[str] = "a purge deletes nine rows in ten of a million-row table"
    application_name = "purge-job"

    def __init__(self, dsn: str, rows: int = 1_000_000) -> None:
        super().__init__(dsn)
        self.rows = rows
        self.done = threading.Event()
        self.full_page_writes = "on"

    def setup(self) -> None:
        with admin_connect(self.dsn) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.execute("CREATE TABLE purged (id bigint, at timestamptz, pad text)")
            conn.execute("INSERT INTO purged SELECT g, now() - g * interval '1 second',"
                         " repeat('x', 60) FROM generate_series(1, %s) g", (self.rows,))
            conn.execute("VACUUM ANALYZE purged")
            row = conn.execute("SHOW full_page_writes").fetchone()
            self.full_page_writes = str(row[0]) if row else "on"
            if self.full_page_writes != "on":
                conn.execute("ALTER SYSTEM SET full_page_writes = on")
                conn.execute("SELECT pg_reload_conf()")
            # the checkpointer reads the reload before it checkpoints: from here on, the first
            # change to each page writes it whole to the WAL
            conn.execute("CHECKPOINT")

    def _delete(self, conn: psycopg.Connection[Any]) -> None:
        try:
            conn.execute(DELETE)
        finally:
            self.done.set()

    def inject(self) -> None:
        self.spawn(self._delete, name="purge", application_name=self.application_name)

    def running(self) -> bool:
        """Whether the DELETE runs now."""
        with admin_connect(self.dsn) as conn:
            row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name"
                               " = %s AND state = 'active' AND query LIKE 'DELETE%%'",
                               (self.application_name,)).fetchone()
        return bool(row and row[0])

    def self_check(self) -> None:
        wait_until(lambda: self.running() or self.done.is_set(), what="the DELETE to start")
        if self.done.is_set():
            raise ScenarioError("the DELETE ended before it could be watched")

    def wait_done(self, timeout: float = 60) -> None:
        """Until the DELETE has ended."""
        wait_until(self.done.is_set, timeout=timeout, what="the DELETE to end")

    def stop(self) -> None:
        super().stop()
        if self.full_page_writes != "on":
            with admin_connect(self.dsn) as conn:
                conn.execute("ALTER SYSTEM RESET full_page_writes")
                conn.execute("SELECT pg_reload_conf()")
