"""Lock faults for the tests: a wait chain behind an idle transaction, a prepared transaction
in the way."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from pgcrisis.errors import ScenarioError
from pgcrisis.lab.scenario import Scenario, admin_connect, wait_for_release, wait_until


def _blocked_by(conn: psycopg.Connection[Any], pid: int) -> list[int]:
    row = conn.execute("SELECT pg_blocking_pids(%s)", (pid,)).fetchone()
    return list(row[0]) if row else []


class IdleTransactionChain(Scenario):
    """An idle transaction holds a lock; an ALTER TABLE queues behind it; readers queue behind
    the ALTER. The root is the idle session, not the DDL everybody is directly waiting for."""

    code = "blocking-lock"
    title = "an idle transaction, a queued ALTER TABLE and readers stuck behind both"

    def __init__(self, dsn: str, table: str = "orders", readers: int = 3) -> None:
        super().__init__(dsn)
        self.table = table
        self.readers = readers
        self.root_pid = 0
        self.ddl_pid = 0
        self.reader_pids: list[int] = []

    def setup(self) -> None:
        with admin_connect(self.dsn) as conn:
            conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} (id bigint PRIMARY KEY)")
                         .format(sql.Identifier(self.table)))

    def inject(self) -> None:
        table = sql.Identifier(self.table)

        def idle(conn: psycopg.Connection[Any]) -> None:
            with conn.transaction():
                conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table))
                wait_for_release()

        root = self.spawn(idle, name="idle-root", application_name="billing-worker")
        self.root_pid = root.pid or 0
        wait_until(lambda: self._state(self.root_pid) == "idle in transaction",
                   what="the idle transaction")

        self._queue_behind_root()

    def _queue_behind_root(self) -> None:
        """An ALTER TABLE queued behind the root, then readers queued behind the ALTER."""
        table = sql.Identifier(self.table)

        def ddl(conn: psycopg.Connection[Any]) -> None:
            conn.execute("SET lock_timeout = 0")
            conn.execute(sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS note text")
                         .format(table))

        self.ddl_pid = self.spawn(ddl, name="queued-ddl", application_name="migration").pid or 0
        wait_until(lambda: self._waiting(self.ddl_pid), what="the ALTER TABLE to queue")

        def read(conn: psycopg.Connection[Any]) -> None:
            conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table))

        for i in range(self.readers):
            pid = self.spawn(read, name=f"reader-{i}", application_name="ordersvc").pid or 0
            self.reader_pids.append(pid)
        for pid in self.reader_pids:
            wait_until(lambda p=pid: self._waiting(p), what="readers to queue")  # type: ignore[misc]

    def _state(self, pid: int) -> str | None:
        with admin_connect(self.dsn) as conn:
            row = conn.execute("SELECT state FROM pg_stat_activity WHERE pid = %s",
                               (pid,)).fetchone()
            return row[0] if row else None

    def _waiting(self, pid: int) -> bool:
        with admin_connect(self.dsn) as conn:
            return bool(_blocked_by(conn, pid))

    def self_check(self) -> None:
        with admin_connect(self.dsn) as conn:
            if _blocked_by(conn, self.ddl_pid) != [self.root_pid]:
                raise ScenarioError("the ALTER TABLE is not blocked by the idle transaction")
            for pid in self.reader_pids:
                if self.ddl_pid not in _blocked_by(conn, pid):
                    raise ScenarioError(f"reader {pid} is not queued behind the ALTER TABLE")


class PreparedTransactionBlocker(Scenario):
    """A prepared transaction holds a row lock with no session behind it (pid 0)."""

    code = "blocking-lock"
    title = "an orphaned prepared transaction holds a row lock"

    def __init__(self, dsn: str, gid: str = "pgcrisis-lab-orphan") -> None:
        super().__init__(dsn)
        self.gid = gid
        self.waiter_pid = 0

    def setup(self) -> None:
        with admin_connect(self.dsn) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS accounts (id int PRIMARY KEY, balance int)")
            conn.execute("INSERT INTO accounts VALUES (1, 100) ON CONFLICT DO NOTHING")

    def inject(self) -> None:
        with admin_connect(self.dsn, autocommit=False) as conn:
            conn.execute("UPDATE accounts SET balance = balance - 1 WHERE id = 1")
            conn.execute(sql.SQL("PREPARE TRANSACTION {}").format(sql.Literal(self.gid)))

        def update(conn: psycopg.Connection[Any]) -> None:
            conn.execute("UPDATE accounts SET balance = balance + 1 WHERE id = 1")

        self.waiter_pid = self.spawn(update, name="waiter", application_name="payments").pid or 0
        wait_until(lambda: self._blocked() == [0], what="the update to wait on the prepared xact")

    def _blocked(self) -> list[int]:
        with admin_connect(self.dsn) as conn:
            return _blocked_by(conn, self.waiter_pid)

    def self_check(self) -> None:
        if self._blocked() != [0]:
            raise ScenarioError("the waiter is not blocked by a prepared transaction (pid 0)")

    def stop(self) -> None:
        with admin_connect(self.dsn) as conn:
            conn.execute(sql.SQL("ROLLBACK PREPARED {}").format(sql.Literal(self.gid)))
        super().stop()


class ActiveStatementChain(IdleTransactionChain):
    """A long statement (autocommit) reads the table; an ALTER TABLE queues behind it; readers
    queue behind the ALTER. Cancelling the root's statement releases its lock, so the whole
    chain drains (unlike an idle-in-transaction root, which a cancel does not touch)."""

    title = "a long statement, a queued ALTER TABLE and readers stuck behind both"
    ROOT_QUERY = "SELECT count(*) FROM {}, pg_sleep(600)"

    def inject(self) -> None:
        table = sql.Identifier(self.table)

        def long_read(conn: psycopg.Connection[Any]) -> None:
            conn.execute(sql.SQL(self.ROOT_QUERY).format(table))

        self.root_pid = self.spawn(long_read, name="long-root",
                                   application_name="report-job").pid or 0
        wait_until(lambda: self._state(self.root_pid) == "active" and self._sleeping(),
                   what="the long statement")

        self._queue_behind_root()

    def _sleeping(self) -> bool:
        with admin_connect(self.dsn) as conn:
            row = conn.execute("SELECT wait_event FROM pg_stat_activity WHERE pid = %s",
                               (self.root_pid,)).fetchone()
            return bool(row) and row[0] == "PgSleep"  # type: ignore[index]

    def waiting(self) -> int:
        """Sessions of this database that wait on another now (pg_blocking_pids)."""
        with admin_connect(self.dsn) as conn:
            row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                               "current_database() AND cardinality(pg_blocking_pids(pid)) > 0"
                               ).fetchone()
            return int(row[0]) if row else 0
