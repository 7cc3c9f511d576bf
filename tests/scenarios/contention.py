"""Contention faults: many clients on the same table or the same rows, each wait short and
changing hands (issue 20, points 3 and 4).

Both run pgbench with a custom script (``-f``), each client in a loop:

- :class:`InsertContention`: 53 clients inserting eight rows a statement into one table,
  autocommit (a ``bigserial`` key, a 1,800-byte payload: four rows a page, kept inline and
  uncompressed, so every insert adds two pages; with one row of 200 bytes, PostgreSQL 18 on
  a loaded 2-core machine outran pgbench's threads and no queue formed), as the anomaly
  benchmarks' "highly concurrent inserts and commits". Every insert goes to the table's
  last page and its key index's right-most leaf: the sessions queue on those buffers
  (``LWLock``/``BufferContent``) and, whenever the table grows by a page, all at once on its
  extension lock (``Lock``/``extend``), behind whichever inserter is extending it for a
  millisecond.
- :class:`HotRowUpdates`: 40 clients each running ``UPDATE hot SET n = n + 1 WHERE id = $1``
  for a random id of 1 to 5 in a transaction that does 2 ms of other work before it commits
  (as an application does between its statements): every update queues behind the one
  updating the same row (``Lock``/``transactionid``, and ``Lock``/``tuple`` for those behind
  the first waiter), the holder changing every few milliseconds, active or idle in its
  transaction for a client's round trip. (An autocommit update alone is held for so short a
  time that on a loaded 2-core machine pgbench's own threads, not the rows, are the limit:
  PostgreSQL 18 showed no queue in most samples.)

Each proves its fault in ``self_check`` from pg_stat_activity samples of its clients' sessions
(most samples show them waiting on what the fault is about), and stops pgbench on exit.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from psycopg.conninfo import conninfo_to_dict

from pgcrisis.errors import ScenarioError
from pgcrisis.lab.scenario import Scenario, admin_connect, wait_until

#: how long pgbench runs at most (it is stopped when the scenario is left)
MAX_SECONDS = 300

Sample = list[tuple[Any, ...]]


class _Bench(Scenario):
    """pgbench running ``SCRIPT`` with ``clients`` clients until stopped."""

    application_name: ClassVar[str] = "bench"
    script: ClassVar[str] = ""

    def __init__(self, dsn: str, pgbench: Path, clients: int) -> None:
        super().__init__(dsn)
        self.pgbench = pgbench
        self.clients = clients
        self.process: subprocess.Popen[bytes] | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="pgcrisis-bench-")

    def _env(self) -> tuple[dict[str, str], str]:
        params = conninfo_to_dict(self.dsn)
        env = {**os.environ, "PGAPPNAME": self.application_name}
        for key, var in (("host", "PGHOST"), ("port", "PGPORT"), ("user", "PGUSER"),
                         ("password", "PGPASSWORD")):
            if params.get(key):
                env[var] = str(params[key])
        return env, str(params["dbname"])

    def sessions(self) -> int:
        """The clients' sessions connected now."""
        with admin_connect(self.dsn) as conn:
            row = conn.execute("SELECT count(*) FROM pg_stat_activity"
                               " WHERE application_name = %s", (self.application_name,)).fetchone()
        return int(row[0]) if row else 0

    def inject(self) -> None:
        script = Path(self._dir.name) / "script.sql"
        script.write_text(self.script)
        env, dbname = self._env()
        self.process = subprocess.Popen(
            [str(self.pgbench), "-n", "-f", str(script), "-c", str(self.clients), "-j", "2",
             "-T", str(MAX_SECONDS), dbname],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_until(lambda: self.sessions() >= self.clients or self.process is None
                   or self.process.poll() is not None, what="pgbench's clients")
        if self.process.poll() is not None:
            raise ScenarioError(f"pgbench ended: {self._stderr()}")

    def _stderr(self) -> str:
        assert self.process is not None
        _out, err = self.process.communicate(timeout=30)
        return err.decode(errors="replace").strip()[-500:]

    def waits(self, samples: int = 10) -> list[Sample]:
        """``samples`` readings, 0.1 s apart, of the clients' active sessions: (wait type,
        wait event) each."""
        out = []
        with admin_connect(self.dsn) as conn:
            for _ in range(samples):
                out.append(conn.execute(
                    "SELECT wait_event_type, wait_event FROM pg_stat_activity"
                    " WHERE application_name = %s AND state = 'active'",
                    (self.application_name,)).fetchall())
                time.sleep(0.1)
        return out

    def proven(self, holds: Callable[[Sample], bool], what: str, most: int = 4) -> None:
        """Raise unless ``most`` of twenty samples of the clients' sessions show ``holds``."""
        seen = self.waits(20)
        hits = sum(1 for sample in seen if holds(sample))
        if hits < most:
            raise ScenarioError(f"only {hits} of 20 samples show {what}: {seen[-3:]}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()
            try:
                process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate(timeout=10)
        if process is not None:
            wait_until(lambda: self.sessions() == 0, what="pgbench's sessions to end")
        self._dir.cleanup()
        super().stop()


class InsertContention(_Bench):
    """53 clients inserting into one table, eight rows per transaction."""

    code: ClassVar[str] = "lwlock-contention"
    title: ClassVar[str] = "53 clients insert into one table at once"
    application_name = "ingest"
    script = ("\\set kind random(1, 100)\n"
              "INSERT INTO events (kind, payload)"
              " SELECT :kind, repeat('x', 1800) FROM generate_series(1, 8);\n")

    def __init__(self, dsn: str, pgbench: Path, clients: int = 53) -> None:
        super().__init__(dsn, pgbench, clients)

    def setup(self) -> None:
        with admin_connect(self.dsn) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.execute("CREATE TABLE events (id bigserial PRIMARY KEY,"
                         " at timestamptz NOT NULL DEFAULT now(), kind int, payload text)")

    def self_check(self) -> None:
        self.proven(lambda s: sum(1 for t, e in s if t == "LWLock"
                                  or (t, e) == ("Lock", "extend")) >= 3,
                    "three inserters waiting on the table's buffers or its extension")


class HotRowUpdates(_Bench):
    """40 clients updating five rows, one update per transaction."""

    code: ClassVar[str] = "row-lock-contention"
    title: ClassVar[str] = "40 clients update the same five rows"
    application_name = "counter-svc"
    script = ("\\set id random(1, 5)\nBEGIN;\nUPDATE hot SET n = n + 1 WHERE id = :id;\n"
              "SELECT pg_sleep(0.002);\nEND;\n")

    def __init__(self, dsn: str, pgbench: Path, clients: int = 40) -> None:
        super().__init__(dsn, pgbench, clients)

    def setup(self) -> None:
        with admin_connect(self.dsn) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.execute("CREATE TABLE hot (id int PRIMARY KEY, n bigint NOT NULL DEFAULT 0)")
            conn.execute("INSERT INTO hot SELECT g, 0 FROM generate_series(1, 5) g")

    def self_check(self) -> None:
        self.proven(lambda s: sum(1 for t, e in s if t == "Lock"
                                  and e in ("transactionid", "tuple")) >= 3,
                    "three updaters waiting on the rows' locks")
