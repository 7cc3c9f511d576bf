"""Bad plans carrying the load (issue 20): statements whose plans spend the server's time in
one shape, run by several pgbench clients (``pgbench -f``) over tables of hundreds of
thousands to a million rows.

:func:`shop` builds the tables once (about 5 s): 300,000 customers, 1,200,000 orders
(indexed by id and by customer), 60 price bands. The statements:

- :data:`SUBQUERY`: a correlated subquery, the sum of each customer's orders compared with
  its credit: a SubPlan run per row of the 300,000-row scan of customers (each run an index
  lookup), about 2 s a call;
- :data:`BAND_JOIN`: orders joined to price bands by a range (no equality: no hash or merge
  join), a Nested Loop checking every pair, about 2 s a call;
- :data:`LOOKUP`, :data:`CUSTOMER_ORDERS`: an order by id, a customer's orders by its key
  (index scans: good plans);
- :data:`BY_REF`: orders by a column no index leads with (a Seq Scan of 1.2M rows keeping
  one: the missing index).

:class:`Pgbench` runs one script with several clients until stopped, and proves it: the
statement's calls completed in pg_stat_statements.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import psycopg

from pgcrisis.errors import ScenarioError
from pgcrisis.lab.scenario import admin_connect, wait_until

CUSTOMERS, ORDERS, BANDS = 300_000, 1_200_000, 60

SUBQUERY = ("\\set k random(1, 3)\n"
            "SELECT count(*) FROM customers c WHERE (SELECT sum(o.amount) FROM orders o"
            " WHERE o.customer_id = c.id) > c.credit * :k;\n")
BAND_JOIN = ("\\set t random(1, 3)\n"
             "SELECT count(*) FROM orders o JOIN price_bands b ON o.amount >= b.low"
             " AND o.amount < b.high WHERE b.tier = :t;\n")
LOOKUP = ("\\set id random(1, 1200000)\n"
          "SELECT amount FROM orders WHERE id = :id;\n")
CUSTOMER_ORDERS = ("\\set c random(1, 300000)\n"
                   "SELECT c.credit, sum(o.amount) FROM customers c JOIN orders o"
                   " ON o.customer_id = c.id WHERE c.id = :c GROUP BY c.credit;\n")
BY_REF = ("\\set r random(1, 8400000)\n"
          "SELECT id, amount FROM orders WHERE ref = :r;\n")


def shop(dsn: str) -> None:
    """The tables (with pg_stat_statements and, where installed, hypopg), analysed."""
    with admin_connect(dsn) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        if conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg'"
                        ).fetchone():
            conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
        conn.execute("CREATE TABLE customers (id int PRIMARY KEY, region int NOT NULL,"
                     " credit numeric NOT NULL)")
        conn.execute("INSERT INTO customers SELECT g, g %% 40, 100 + g %% 900"
                     " FROM generate_series(1, %s) g", (CUSTOMERS,))
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL,"
                     " amount numeric NOT NULL, ref int NOT NULL)")
        conn.execute("INSERT INTO orders SELECT g, 1 + (g::bigint * 7919) %% %s, g %% 1000,"
                     " g * 7 FROM generate_series(1, %s) g", (CUSTOMERS, ORDERS))
        conn.execute("CREATE INDEX ON orders (customer_id)")
        conn.execute("CREATE TABLE price_bands (id int PRIMARY KEY, tier int NOT NULL,"
                     " low numeric NOT NULL, high numeric NOT NULL)")
        conn.execute("INSERT INTO price_bands SELECT g, 1 + g %% 3, (g / 3) * 50,"
                     " (g / 3) * 50 + 50 FROM generate_series(0, %s) g", (BANDS - 1,))
        conn.execute("VACUUM ANALYZE customers, orders, price_bands")


def queryid(dsn: str, like: str) -> int | None:
    """pg_stat_statements' queryid of the statement whose text starts like ``like``."""
    with admin_connect(dsn) as conn:
        row = conn.execute("SELECT queryid FROM pg_stat_statements WHERE query LIKE %s"
                           " AND dbid = (SELECT oid FROM pg_database"
                           "             WHERE datname = current_database())"
                           " ORDER BY calls DESC LIMIT 1", (like + "%",)).fetchone()
    return None if row is None else int(row[0])


def calls(dsn: str, like: str) -> tuple[int, float]:
    """Calls completed and their total time (ms) of the statements whose text starts like
    ``like``."""
    with admin_connect(dsn) as conn:
        row = conn.execute("SELECT coalesce(sum(calls), 0), coalesce(sum(total_exec_time), 0)"
                           " FROM pg_stat_statements WHERE query LIKE %s", (like + "%",)
                           ).fetchone()
    return (0, 0.0) if row is None else (int(row[0]), float(row[1]))


class Pgbench:
    """``pgbench -f script`` with ``clients`` clients (application ``application_name``) until
    stopped; entering waits until the statement whose text starts like ``like`` has
    ``min_calls`` calls completed and ``min_ms`` of time in pg_stat_statements."""

    def __init__(self, pgbench: Path, dsn: str, script: str, like: str, *, clients: int = 3,
                 min_calls: int = 1, min_ms: float = 1500.0, timeout: float = 40.0,
                 application_name: str = "shop-report") -> None:
        self.pgbench, self.dsn, self.script, self.like = pgbench, dsn, script, like
        self.clients, self.min_calls, self.min_ms = clients, min_calls, min_ms
        self.timeout, self.application_name = timeout, application_name
        self._dir = tempfile.TemporaryDirectory(prefix="pgcrisis-pgbench-")
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        path = Path(self._dir.name) / "script.sql"
        path.write_text(self.script)
        env = {**os.environ, "PGAPPNAME": self.application_name}
        self._process = subprocess.Popen(
            [str(self.pgbench), "-n", "-f", str(path), "-c", str(self.clients), "-j",
             str(self.clients), "-T", "600", self.dsn],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            wait_until(self._ran, timeout=self.timeout,
                       what=f"{self.min_calls} calls of {self.like!r} by pgbench")
        except BaseException:
            self.stop()
            raise
        return self

    def _ran(self) -> bool:
        assert self._process is not None
        if self._process.poll() is not None:
            _, err = self._process.communicate()
            raise ScenarioError(f"pgbench stopped: {err.decode(errors='replace')[-500:]}")
        done, ms = calls(self.dsn, self.like)
        return done >= self.min_calls and ms >= self.min_ms

    def stop(self) -> None:
        """End pgbench, and cancel what its sessions still run."""
        if self._process is not None:
            if self._process.poll() is None:
                self._process.terminate()
            self._process.communicate(timeout=10)  # its output read, its pipes closed
        with admin_connect(self.dsn) as conn:
            conn.execute("SELECT pg_cancel_backend(pid) FROM pg_stat_activity"
                         " WHERE application_name = %s", (self.application_name,))
        self._dir.cleanup()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def reset_statements(conn: psycopg.Connection[Any]) -> None:
    """pg_stat_statements emptied: each test's statements are its own."""
    conn.execute("SELECT pg_stat_statements_reset()")
