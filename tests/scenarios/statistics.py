"""Tables the planner has no statistics for (issue 20, point 5).

- :class:`UnanalyzedTableScanned`: the missing index on a table nobody analyzed. A table
  filled just now (as after a bulk load or a migration; autovacuum off for it, so nothing
  analyzes or vacuums it while the test runs) is read by a few pgbench clients on a selective
  ``id = $1``: every call a sequential scan of the whole table. Its ``relpages`` is 0 and its
  ``reltuples`` -1: only its counters know it holds rows.
- :class:`StatisticsLost`: tables whose planner statistics are gone, as ``pg_upgrade``
  (before PostgreSQL 18) leaves them. pg_upgrade creates each table and its indexes empty
  (``relpages`` 0, ``reltuples`` -1; an index built on an empty table leaves them so), moves
  the data files in without measuring them, and starts a cluster whose statistics counters
  are empty. The scenario does the same on one server: tables and indexes created empty,
  filled by ``COPY ... FROM STDIN`` streamed from ``COPY ... TO STDOUT`` (a dump piped into a
  restore, without its ANALYZE), then ``pg_stat_reset()``, so the counters start from zero as
  in the new cluster (``n_mod_since_analyze`` 0: autovacuum counts no change, and stays on
  for them as after an upgrade). Then an application's report joins them, and the counters
  show rows read.

Each proves its state in ``self_check`` from the catalogs and ``pg_stat_user_tables``.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any, ClassVar

import psycopg

from pgcrisis.errors import ScenarioError
from pgcrisis.lab.scenario import Scenario, admin_connect, wait_until
from pgcrisis.server_binaries import find_binaries

#: what the pgbench clients run (``-M prepared``: pg_stat_statements keeps it with ``$1``)
LOOKUP = "select * from table1 where id = $1"
#: the report the application runs over the tables without statistics
REPORT = ("SELECT c.region, count(*), sum(o.amount) FROM orders o"
          " JOIN customers c ON c.id = o.customer_id"
          " WHERE o.status = 'open' GROUP BY c.region")


def _catalog(dsn: str, table: str) -> tuple[int, float, int, int, int, int]:
    """relpages, reltuples, n_live_tup, seq_scan, seq_tup_read, n_mod_since_analyze."""
    with admin_connect(dsn) as conn:
        row = conn.execute(
            "SELECT c.relpages, c.reltuples, coalesce(s.n_live_tup, 0),"
            " coalesce(s.seq_scan, 0), coalesce(s.seq_tup_read, 0),"
            " coalesce(s.n_mod_since_analyze, 0)"
            " FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid"
            " WHERE c.oid = %s::regclass", (table,)).fetchone()
    if row is None:
        raise ScenarioError(f"{table} does not exist")
    return int(row[0]), float(row[1]), int(row[2]), int(row[3]), int(row[4]), int(row[5])


def _never_measured(dsn: str, table: str) -> bool:
    relpages, reltuples, *_ = _catalog(dsn, table)
    return relpages == 0 and reltuples <= 0


class UnanalyzedTableScanned(Scenario):
    """A table of ``rows`` rows filled just now, never vacuumed or analyzed, scanned by
    ``clients`` pgbench clients for ``seconds`` on ``id = $1`` (no index on id); hypopg
    installed in the database with ``hypopg``."""

    code: ClassVar[str] = "missing-index"
    title: ClassVar[str] = "a table filled just now is scanned for one row at a time"

    def __init__(self, dsn: str, *, rows: int = 300_000, clients: int = 5,
                 seconds: int = 3, pgbench: Path | None = None, hypopg: bool = False) -> None:
        super().__init__(dsn)
        self.rows, self.clients, self.seconds = rows, clients, seconds
        self.hypopg = hypopg
        binaries = find_binaries() if pgbench is None else None
        self.pgbench = pgbench or (binaries.tool("pgbench") if binaries else Path("pgbench"))
        self.transactions = 0

    def setup(self) -> None:
        with admin_connect(self.dsn) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            if self.hypopg:
                conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
            conn.execute("CREATE TABLE table1 (id int, name text, payload text)"
                         " WITH (autovacuum_enabled = false)")
            conn.execute("INSERT INTO table1 SELECT g, 'name ' || g, repeat('x', 150)"
                         " FROM generate_series(1, %s) g", (self.rows,))

    def inject(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "lookup.sql"
            script.write_text(f"\\set id random(1, {self.rows})\n"
                              "select * from table1 where id = :id;\n")
            done = subprocess.run(
                [str(self.pgbench), "-n", "-M", "prepared", "-f", str(script),
                 "-c", str(self.clients), "-j", "2", "-T", str(self.seconds), self.dsn],
                check=False, capture_output=True, text=True, timeout=120,
                env={**os.environ, "PGAPPNAME": "orders-api"})
        if done.returncode != 0:
            raise ScenarioError(f"pgbench failed: {done.stderr.strip()}")
        for line in done.stdout.splitlines():
            if line.startswith("number of transactions actually processed:"):
                self.transactions = int(line.split(":")[1].split("/")[0])

    def self_check(self) -> None:
        if self.transactions < self.clients:
            raise ScenarioError(f"pgbench ran {self.transactions} lookups")
        wait_until(lambda: _catalog(self.dsn, "table1")[2] >= self.rows
                   and _catalog(self.dsn, "table1")[3] >= self.transactions,
                   what="the load and the scans to show in pg_stat_user_tables")
        if not _never_measured(self.dsn, "table1"):
            raise ScenarioError("table1 was measured (vacuumed or analyzed) after all")


class StatisticsLost(Scenario):
    """``orders`` (``rows``) and ``customers`` (a tenth of it) as pg_upgrade leaves them:
    indexed, full, never measured, counters reset; then read by a report, ``reports``
    times."""

    code: ClassVar[str] = "missing-statistics"
    title: ClassVar[str] = "tables restored without their planner statistics"

    def __init__(self, dsn: str, *, rows: int = 200_000, reports: int = 3) -> None:
        super().__init__(dsn)
        self.rows, self.reports = rows, reports

    def setup(self) -> None:
        with admin_connect(self.dsn) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            # the source: the tables as they were before the upgrade (analyzed, in use)
            conn.execute("CREATE SCHEMA before_upgrade")
            conn.execute("CREATE TABLE before_upgrade.customers AS SELECT g::bigint AS id,"
                         " g %% 20 AS region, 'customer ' || g AS name"
                         " FROM generate_series(1, %s) g", (self.rows // 10,))
            conn.execute("CREATE TABLE before_upgrade.orders AS SELECT g::bigint AS id,"
                         " 1 + g %% %s AS customer_id,"
                         " (ARRAY['open', 'paid', 'shipped'])[1 + g %% 3] AS status,"
                         " (g %% 97)::numeric AS amount FROM generate_series(1, %s) g",
                         (self.rows // 10, self.rows))
            # the new cluster's tables: created with their indexes, empty, never measured
            for ddl in ("CREATE TABLE customers (id bigint PRIMARY KEY, region int, name text)"
                        " WITH (autovacuum_enabled = false)",
                        "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint,"
                        " status text, amount numeric) WITH (autovacuum_enabled = false)",
                        "CREATE INDEX ON orders (customer_id)"):
                conn.execute(ddl.encode())

    def inject(self) -> None:
        for table in ("customers", "orders"):
            self._restore(table)
        # the restore's counts reach the statistics as its sessions end: reset after them
        wait_until(lambda: _catalog(self.dsn, "orders")[2] >= self.rows
                   and _catalog(self.dsn, "customers")[2] >= self.rows // 10,
                   what="the restored rows to show in pg_stat_user_tables")
        with admin_connect(self.dsn) as conn:
            conn.execute("DROP SCHEMA before_upgrade CASCADE")
            # autovacuum as after the upgrade (on); off only while the data came in
            conn.execute("ALTER TABLE customers RESET (autovacuum_enabled)")
            conn.execute("ALTER TABLE orders RESET (autovacuum_enabled)")
            conn.execute("SELECT pg_stat_reset()")  # the new cluster's empty counters
            conn.execute("SELECT pg_stat_statements_reset()")
        readers = [threading.Thread(target=self._report, name=f"report-{i}")
                   for i in range(self.reports)]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join(60)

    def _restore(self, table: str) -> None:
        """``pg_dump | pg_restore`` of one table's data: COPY out of the old, into the new."""
        with (admin_connect(self.dsn) as source, admin_connect(self.dsn) as target,
              source.cursor().copy(f"COPY before_upgrade.{table} TO STDOUT".encode()) as out,
              target.cursor().copy(f"COPY {table} FROM STDIN".encode()) as into):
            for block in out:
                into.write(block)

    def _report(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True,
                             application_name="monthly-report") as conn:
            conn.execute(REPORT.encode()).fetchall()

    def self_check(self) -> None:
        for table in ("orders", "customers"):
            if not _never_measured(self.dsn, table):
                raise ScenarioError(f"{table} was measured (vacuumed or analyzed) after all")
        wait_until(lambda: _catalog(self.dsn, "orders")[4] >= self.rows
                   and _catalog(self.dsn, "customers")[4] >= self.rows // 10,
                   what="the report's scans to show in pg_stat_user_tables")
        if _catalog(self.dsn, "orders")[5] != 0:
            raise ScenarioError("orders counts changes since the counters were reset")


def counters(dsn: str, table: str) -> dict[str, Any]:
    """The catalog's and the counters' view of ``table`` (for a test's messages)."""
    names = ("relpages", "reltuples", "n_live_tup", "seq_scan", "seq_tup_read",
             "n_mod_since_analyze")
    return dict(zip(names, _catalog(dsn, table), strict=True))
