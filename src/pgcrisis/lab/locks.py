"""Lock faults: a wait chain behind an idle transaction, a prepared transaction in the way,
and the seed's recursive delete that leaks one open cursor per level."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
from psycopg import sql

from pgcrisis.errors import ScenarioError
from pgcrisis.lab.scenario import Metric, Scenario, admin_connect, wait_for_release


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
                wait_for_release()  # the app goes on with other work, transaction open
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
