"""Lock faults: a wait chain behind an idle transaction, a prepared transaction in the way,
and the seed's recursive delete that leaks one open cursor per level."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
from psycopg import sql

from pgcrisis.errors import ScenarioError
from pgcrisis.lab.scenario import Metric, Scenario, admin_connect, wait_until


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
                root.release.wait()

        root = self.spawn(idle, name="idle-root", application_name="billing-worker")
        self.root_pid = root.pid or 0
        wait_until(lambda: self._state(self.root_pid) == "idle in transaction",
                   what="the idle transaction")

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


class LeakyRecursiveDelete(Scenario):
    """The seed's recursive delete: each level opens a cursor for the dependents and never
    closes it, all in one transaction, so one transaction ends up holding hundreds of locks.

    The record tree spans ``levels`` linked tables, as a no-code platform stores each record
    type in its own table. ``fixed = True`` switches to the corrected code path: each level is
    deleted bottom-up in its own short transaction with its statement closed.
    """

    code = "lock-hoarder"
    title = "a recursive delete that leaks one open cursor per level"

    def __init__(self, dsn: str, levels: int = 60) -> None:
        super().__init__(dsn)
        self.levels = levels
        self.fixed = False
        self.hoarder_pid = 0
        self._root_id = 1

    def _table(self, level: int) -> sql.Identifier:
        return sql.Identifier(f"wf_level_{level:03d}")

    def setup(self) -> None:
        with admin_connect(self.dsn) as conn:
            for level in range(1, self.levels + 1):
                parent = (sql.SQL("REFERENCES {} (id)").format(self._table(level - 1))
                          if level > 1 else sql.SQL(""))
                conn.execute(sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (id bigint PRIMARY KEY, "
                    "parent_id bigint {}, payload text)").format(self._table(level), parent))
                if level > 1:
                    conn.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (parent_id)").format(
                        sql.Identifier(f"wf_level_{level:03d}_parent_idx"), self._table(level)))

    def _load_tree(self, conn: psycopg.Connection[Any], root: int) -> None:
        """One record per level under ``root`` (ids: root*1000 + level)."""
        for level in range(1, self.levels + 1):
            parent = root * 1000 + level - 1 if level > 1 else None
            conn.execute(sql.SQL("INSERT INTO {} VALUES (%s, %s, 'x') ON CONFLICT DO NOTHING")
                         .format(self._table(level)), (root * 1000 + level, parent))

    def delete_leaky(self, conn: psycopg.Connection[Any], root: int,
                     peak: list[int] | None = None) -> None:
        """Delete the tree under ``root`` the buggy way, inside the caller's transaction."""
        def recurse(level: int, ids: list[int]) -> None:
            if level < self.levels:
                cursor = sql.Identifier(f"dependents_{level}")
                conn.execute(sql.SQL("DECLARE {} CURSOR FOR SELECT id FROM {} "
                                     "WHERE parent_id = ANY(%s)").format(
                    cursor, self._table(level + 1)), (ids,))
                children = [r[0] for r in conn.execute(
                    sql.SQL("FETCH ALL FROM {}").format(cursor)).fetchall()]
                # the bug: the cursor is never closed, and the recursion goes on
                recurse(level + 1, children)
            elif peak is not None:
                peak.append(self._own_locks(conn))
            conn.execute(sql.SQL("DELETE FROM {} WHERE id = ANY(%s)").format(self._table(level)),
                         (ids,))

        recurse(1, [root * 1000 + 1])

    def delete_fixed(self, conn: psycopg.Connection[Any], root: int) -> int:
        """Delete bottom-up, one short transaction per level; returns the most locks held."""
        most = 0
        for level in range(self.levels, 0, -1):
            with conn.transaction():
                conn.execute(sql.SQL("DELETE FROM {} WHERE id = %s").format(self._table(level)),
                             (root * 1000 + level,))
                most = max(most, self._own_locks(conn))
        return most

    @staticmethod
    def _own_locks(conn: psycopg.Connection[Any]) -> int:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid()").fetchone()
        return int(row[0]) if row else 0

    def inject(self) -> None:
        with admin_connect(self.dsn) as conn:
            self._load_tree(conn, self._root_id)
        done = threading.Event()

        def run(conn: psycopg.Connection[Any]) -> None:
            with conn.transaction():
                self.delete_leaky(conn, self._root_id)
                done.set()
                worker.release.wait()  # the app goes on with other work, transaction open
                raise psycopg.Rollback()

        worker = self.spawn(run, name="recursive-delete", application_name="workflow-engine",
                            autocommit=True)
        self.hoarder_pid = worker.pid or 0
        if not done.wait(30):
            raise ScenarioError(f"the recursive delete did not finish: {worker.error}")

    def self_check(self) -> None:
        with admin_connect(self.dsn) as conn:
            row = conn.execute("SELECT count(*) FROM pg_locks WHERE pid = %s",
                               (self.hoarder_pid,)).fetchone()
            held = int(row[0]) if row else 0
            limit = int(conn.execute("SHOW max_locks_per_transaction").fetchone()[0])  # type: ignore[index]
        if held <= limit:
            raise ScenarioError(f"the delete holds only {held} locks (limit {limit})")

    def measure(self) -> Metric:
        """Delete a fresh tree and report the most locks one transaction held while doing it."""
        root = self._root_id + 1
        self._root_id = root
        with admin_connect(self.dsn) as conn:
            self._load_tree(conn, root)
            if self.fixed:
                most = self.delete_fixed(conn, root)
            else:
                peak: list[int] = []
                with conn.transaction():
                    self.delete_leaky(conn, root, peak)
                most = max(peak, default=0)
        return Metric("locks held by one transaction during a record delete", "locks", most,
                      "measured: pg_locks")
