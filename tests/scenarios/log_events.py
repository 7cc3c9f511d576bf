"""A throwaway server that writes every event ``triage --log`` reads, for real: a lock wait
chain, a deadlock, refused connections, a statement timeout, an idle-in-transaction timeout,
a lock table run out, temporary files, slow statements with view tags, auto_explain plans,
checkpoints forced by WAL, and a backend killed with signal 9 (crash and restart).

Its own server, not the suite's: it is crashed on purpose and needs settings (few
connections, few lock slots, a small max_wal_size) the other tests must not see. It logs in
csvlog and jsonlog at once, so both are judged on the same events. Every step waits for its
event by polling its condition with a deadline (the log line written, a session gone), never
by sleeping.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import psycopg

from pgcrisis.embedded import EmbeddedServer
from pgcrisis.lab.scenario import wait_until
from pgcrisis.logs.record import LogRecord
from tests.log_records import records

#: max_connections: 3 of them reserved for superusers, so a crowd of an ordinary role is
#: refused with 53300 while the lab (a superuser) still gets in
MAX_CONNECTIONS = 12
SETTINGS = {
    "max_connections": str(MAX_CONNECTIONS),
    "superuser_reserved_connections": "3",
    "log_destination": "'csvlog,jsonlog'",
    "log_lock_waits": "on",
    "deadlock_timeout": "'100ms'",
    "log_temp_files": "0",
    "log_checkpoints": "on",
    "max_locks_per_transaction": "10",
    "max_wal_size": "'32MB'",
    "min_wal_size": "'32MB'",
    "checkpoint_warning": "'1h'",
    "log_timezone": "'UTC'",
    "lc_messages": "'C'",
}
#: the lab's crowd: an ordinary role whose connections fill the unreserved slots
CROWD = "crowd"


@dataclass
class LogLab:
    """The server and what each step did (pids, statements) for the tests to check."""

    server: EmbeddedServer = field(default_factory=lambda: EmbeddedServer(settings=SETTINGS))
    chain: list[int] = field(default_factory=list)            # root, then waiters in order
    killed_pid: int = 0

    @property
    def dsn(self) -> str:
        return self.server.dsn

    def start(self) -> LogLab:
        self.server.start()
        with self.connect() as conn:
            conn.execute("CREATE TABLE accounts (id int PRIMARY KEY, balance int)")
            conn.execute("INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 10) g")
            conn.execute("CREATE TABLE big (id int, v int)")
            conn.execute("INSERT INTO big SELECT g, g % 1000 FROM generate_series(1, 200000) g")
            conn.execute("ANALYZE big")
            conn.execute(f"CREATE ROLE {CROWD} LOGIN PASSWORD 'crowd'")
        return self

    def connect(self, **kwargs: Any) -> psycopg.Connection[Any]:
        return psycopg.connect(self.dsn, autocommit=True, **kwargs)

    def records(self, fmt: str = "csvlog") -> list[LogRecord]:
        return records(self.server.log_dir, fmt)

    def logged(self, predicate: Callable[[LogRecord], bool], what: str,
               at_least: int = 1) -> None:
        """Wait until the log holds ``at_least`` records for which ``predicate`` holds."""
        wait_until(lambda: sum(map(predicate, self.records())) >= at_least, timeout=60,
                   what=f"the log to show {what}")

    # -- the events -------------------------------------------------------------------------

    def lock_chain(self, while_standing: Callable[[], None]) -> None:
        """A holds a row; B waits for A's transaction; C waits for B (the row's tuple lock).
        ``while_standing`` runs while all three are in place and logged."""
        holder = self.connect(application_name="chain-root")
        holder.execute("BEGIN")
        holder.execute("UPDATE accounts SET balance = balance - 1 WHERE id = 1")
        waiters: list[psycopg.Connection[Any]] = []
        threads: list[threading.Thread] = []
        self.chain = [holder.info.backend_pid]
        for name in ("chain-b", "chain-c"):
            conn = self.connect(application_name=name)
            waiters.append(conn)
            self.chain.append(conn.info.backend_pid)
            thread = threading.Thread(target=conn.execute, args=(
                "UPDATE accounts SET balance = balance + 1 WHERE id = 1",), daemon=True)
            thread.start()
            threads.append(thread)
            pid = conn.info.backend_pid
            self.logged(lambda r, pid=pid: r.pid == pid and "still waiting" in r.message,
                        f"pid {pid} waiting")
        try:
            while_standing()
        finally:
            holder.execute("COMMIT")
            holder.close()
            for thread in threads:
                thread.join(30)
            for conn in waiters:
                conn.close()

    def deadlock(self) -> None:
        """Two sessions update rows 2 and 3 in opposite orders."""
        first, second = self.connect(), self.connect()
        errors: list[BaseException] = []
        first.execute("BEGIN")
        second.execute("BEGIN")
        first.execute("UPDATE accounts SET balance = 0 WHERE id = 2")
        second.execute("UPDATE accounts SET balance = 0 WHERE id = 3")

        def cross() -> None:
            try:
                first.execute("UPDATE accounts SET balance = 1 WHERE id = 3")
            except psycopg.errors.DeadlockDetected as exc:
                errors.append(exc)

        thread = threading.Thread(target=cross, daemon=True)
        thread.start()
        pid = first.info.backend_pid
        wait_until(lambda: self._waiting(pid), what="the first session to wait")
        try:
            second.execute("UPDATE accounts SET balance = 1 WHERE id = 2")
        except psycopg.errors.DeadlockDetected as exc:
            errors.append(exc)
        thread.join(30)
        for conn in (first, second):
            conn.execute("ROLLBACK")
            conn.close()
        assert len(errors) == 1, errors
        self.logged(lambda r: r.sqlstate == "40P01", "the deadlock")

    def _waiting(self, pid: int) -> bool:
        with self.connect() as conn:
            row = conn.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
                               (pid,)).fetchone()
        return row is not None and row[0] == "Lock"

    def refusals(self, while_full: Callable[[], None], extra: int = 2) -> int:
        """The crowd takes every unreserved slot, then ``extra`` more of it are refused;
        ``while_full`` runs while the slots are full. Returns how many were refused."""
        dsn = self.server.dsn_for(self.server.dbname, user=CROWD, password="crowd")
        crowd: list[psycopg.Connection[Any]] = []
        refused = 0
        try:
            while refused <= extra and len(crowd) < MAX_CONNECTIONS:
                try:
                    crowd.append(psycopg.connect(dsn, application_name="crowd-app"))
                except psycopg.OperationalError:
                    refused += 1
            self.logged(lambda r: r.sqlstate == "53300", "the refusals", at_least=refused)
            while_full()
        finally:
            for conn in crowd:
                conn.close()
        return refused

    def statement_timeout(self) -> None:
        with self.connect(application_name="report-app") as conn:
            conn.execute("SET statement_timeout = '50ms'")
            with contextlib.suppress(psycopg.errors.QueryCanceled):
                conn.execute("SELECT pg_sleep(5) /* view='slow_report' */")
        self.logged(lambda r: r.sqlstate == "57014", "the statement timeout")

    def idle_timeout(self) -> None:
        conn = self.connect(application_name="idle-app")
        conn.execute("SET idle_in_transaction_session_timeout = '100ms'")
        conn.execute("BEGIN")
        conn.execute("SELECT 1")
        self.logged(lambda r: r.sqlstate == "25P03", "the idle-in-transaction timeout")
        conn.close()

    def out_of_locks(self) -> None:
        with (self.connect(application_name="hoarder") as conn,
              contextlib.suppress(psycopg.errors.OutOfMemory)):
            conn.execute("DO $$ BEGIN FOR i IN 1..20000 LOOP EXECUTE format("
                         "'CREATE TEMP TABLE hoard_%s (a int)', i); END LOOP; END $$")
        self.logged(lambda r: r.sqlstate == "53200", "the lock table run out")

    def timed_statements(self) -> None:
        """Slow statements tagged by view, a temporary file, auto_explain plans (text and
        JSON)."""
        with self.connect(application_name="shop-web") as conn:
            conn.execute("SET log_min_duration_statement = 0")
            for _ in range(3):
                conn.execute("SELECT pg_sleep(0.02) /* view='orders_page' */")
            conn.execute("SELECT count(*) FROM big WHERE v = 7 /* view='customer_report' */")
            conn.execute("SET work_mem = '64kB'")
            conn.execute("SELECT count(*) FROM (SELECT id FROM big ORDER BY v DESC, id "
                         "OFFSET 0) sorted")
            conn.execute("RESET work_mem")
            conn.execute("SET log_min_duration_statement = -1")
            conn.execute("LOAD 'auto_explain'")
            conn.execute("SET auto_explain.log_min_duration = 0")
            conn.execute("SET auto_explain.log_analyze = on")
            conn.execute("SELECT * FROM big WHERE v = 5 /* view='customer_report' */")
            conn.execute("SET auto_explain.log_format = 'json'")
            conn.execute("SELECT * FROM big WHERE v = 6 AND id > 0 /* view='json_view' */")
        self.logged(lambda r: "plan:" in r.message, "the plans", at_least=2)
        self.logged(lambda r: r.message.startswith("temporary file"), "a temporary file")

    def wal_burst(self) -> None:
        """WAL written fast enough to force checkpoints closer than checkpoint_warning."""
        with self.connect() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS wal_fill (id int, pad text)")

            def frequent() -> bool:
                conn.execute("INSERT INTO wal_fill SELECT g, repeat('x', 500) "
                             "FROM generate_series(1, 40000) g")
                return any("too frequently" in r.message for r in self.records())

            wait_until(frequent, timeout=120, what="checkpoints too frequent")

    def crash(self) -> None:
        """Kill one backend with signal 9: the server ends every session, recovers and
        accepts connections again."""
        victim = self.connect(application_name="victim")
        self.killed_pid = victim.info.backend_pid
        before = datetime.now(UTC)
        os.kill(self.killed_pid, signal.SIGKILL)
        victim.close()
        self.logged(lambda r: "ready to accept connections" in r.message and r.time > before,
                    "the server back up")

    def stop(self) -> None:
        self.server.stop()


@dataclass(frozen=True)
class Observed:
    """What the lab did and saw: the chain's pids, the crashed pid, how many connections were
    refused, live triage's reports while the chain stood and while the slots were full, and
    the server's log (a copy, kept after the server is gone) read as csvlog and jsonlog."""

    chain: list[int]
    killed_pid: int
    refused: int
    live_chain: Any
    live_full: Any
    log_dir: Path
    csv: list[LogRecord]
    json: list[LogRecord]


@cache
def observed() -> Observed:
    """Run the lab once per test session (both log test modules judge the same run)."""
    from tests.helpers import triage

    lab = LogLab().start()
    live: dict[str, Any] = {}
    try:
        lab.lock_chain(lambda: live.setdefault("chain", triage(lab.dsn)))
        lab.deadlock()
        refused = lab.refusals(lambda: live.setdefault("full", triage(lab.dsn)))
        lab.statement_timeout()
        lab.idle_timeout()
        lab.out_of_locks()
        lab.timed_statements()
        lab.wal_burst()
        lab.crash()
        copy = Path(tempfile.mkdtemp(prefix="pgcrisis-log-"))
        shutil.copytree(lab.server.log_dir, copy / "log")
        atexit.register(shutil.rmtree, copy, True)
    finally:
        lab.stop()
    return Observed(lab.chain, lab.killed_pid, refused, live["chain"], live["full"],
                    copy / "log", records(copy / "log", "csvlog"),
                    records(copy / "log", "jsonlog"))
