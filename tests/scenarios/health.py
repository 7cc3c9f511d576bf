"""Health faults: what a DBA finds beyond the seed's five causes.

A snapshot held open while a table churns (vacuum cannot clean it), an orphaned prepared
transaction, an inactive logical replication slot, connections piled up by one client or
filling a database's limit, an integration calling in a loop, statistics gone stale, vacuum
switched off, redundant / invalid / unused indexes, a sequence near its column's limit, and
one statement taking most of the time. Each builds what it needs in the database of its DSN
and proves the fault with plain SQL in ``self_check``; ``scale`` multiplies row counts.
"""

from __future__ import annotations

import threading
import time
from typing import Any, ClassVar

import psycopg
from psycopg import sql

from pgcrisis.errors import ScenarioError
from pgcrisis.lab.scenario import Scenario, admin_connect, wait_for_release, wait_until


def _one(conn: psycopg.Connection[Any], query: str, params: Any = None) -> Any:
    row = conn.execute(query.encode(), params).fetchone()
    return row[0] if row else None


def _table_stat(dsn: str, table: str, column: str) -> int:
    """One counter of ``pg_stat_user_tables`` for ``table`` (0 when not there yet)."""
    query = sql.SQL("SELECT coalesce({}, 0) FROM pg_stat_user_tables "
                    "WHERE relid = %s::regclass").format(sql.Identifier(column))
    with admin_connect(dsn) as conn:
        row = conn.execute(query, (table,)).fetchone()
    return int(row[0]) if row else 0


def _rows(base: int, scale: float, floor: int = 1) -> int:
    return max(floor, int(base * scale))


# -- the xmin horizon ------------------------------------------------------------------------

class SnapshotHoldsVacuum(Scenario):
    """A session opens a REPEATABLE READ transaction, reads, locks a row, and goes idle; then
    a table churns (every row updated) and VACUUM runs: it cannot remove the dead rows, because
    the idle snapshot may still see them. With ``blocked=True`` another session waits for the
    locked row: the idle transaction is then also the root of a lock chain, and vacuum's
    trouble and the lock chain share one cause."""

    code: ClassVar[str] = "table-bloat"
    title: ClassVar[str] = "an idle snapshot keeps vacuum from cleaning a churning table"

    def __init__(self, dsn: str, scale: float = 1.0, blocked: bool = False) -> None:
        super().__init__(dsn)
        self.rows = _rows(40_000, scale, 11_000)
        self.blocked = blocked
        self.holder_pid = 0
        self.waiter_pid = 0

    def setup(self) -> None:
        with admin_connect(self.dsn) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS churn (id int PRIMARY KEY, v int)"
                         " WITH (autovacuum_enabled = true, fillfactor = 100)")
            conn.execute("TRUNCATE churn")
            conn.execute("INSERT INTO churn SELECT g, 0 FROM generate_series(1, %s) g",
                         (self.rows,))
            conn.execute("CREATE TABLE IF NOT EXISTS ledger (id int PRIMARY KEY, v int)")
            conn.execute("INSERT INTO ledger VALUES (1, 0) ON CONFLICT DO NOTHING")
            conn.execute("VACUUM ANALYZE churn")

    def inject(self) -> None:
        holding = threading.Event()

        def hold(conn: psycopg.Connection[Any]) -> None:
            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                conn.execute("SELECT count(*) FROM churn")
                conn.execute("SELECT v FROM ledger WHERE id = 1 FOR UPDATE")
                holding.set()
                wait_for_release()

        worker = self.spawn(hold, name="snapshot-holder", application_name="report-exporter")
        self.holder_pid = worker.pid or 0
        if not holding.wait(10):
            raise ScenarioError(f"the holder did not start: {worker.error}")
        with admin_connect(self.dsn) as conn:
            conn.execute("UPDATE churn SET v = v + 1")
        with admin_connect(self.dsn) as conn:
            conn.execute("VACUUM churn")
        if self.blocked:
            def wait(conn: psycopg.Connection[Any]) -> None:
                conn.execute("UPDATE ledger SET v = v + 1 WHERE id = 1")

            self.waiter_pid = self.spawn(wait, name="ledger-writer",
                                         application_name="billing").pid or 0
            wait_until(self._blocked_by_holder, what="the writer to wait")
        wait_until(lambda: _table_stat(self.dsn, "churn", "n_dead_tup") >= self.rows,
                   what="dead rows to show in pg_stat_user_tables")

    def _blocked_by_holder(self) -> bool:
        with admin_connect(self.dsn) as conn:
            blockers = _one(conn, "SELECT pg_blocking_pids(%s)", (self.waiter_pid,)) or []
        return self.holder_pid in blockers

    def self_check(self) -> None:
        with admin_connect(self.dsn) as conn:
            xmin = _one(conn, "SELECT backend_xmin FROM pg_stat_activity WHERE pid = %s",
                        (self.holder_pid,))
            dead = _one(conn, "SELECT n_dead_tup FROM pg_stat_user_tables "
                              "WHERE relname = 'churn'")
            vacuumed = _one(conn, "SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables "
                                  "WHERE relname = 'churn'")
        if xmin is None:
            raise ScenarioError("the holder has no snapshot (backend_xmin is NULL)")
        if not vacuumed or (dead or 0) < self.rows:
            raise ScenarioError(f"vacuum ran={vacuumed}, yet only {dead} dead rows remain")
        if self.blocked and not self._blocked_by_holder():
            raise ScenarioError("the writer is not blocked by the holder")


class OrphanedPreparedTransaction(Scenario):
    """A two-phase transaction prepared and never finished: it holds its row locks and the
    xmin horizon with no session behind it."""

    code: ClassVar[str] = "long-transaction"
    title: ClassVar[str] = "an orphaned prepared transaction"

    def __init__(self, dsn: str, gid: str = "pgcrisis-lab-2pc") -> None:
        super().__init__(dsn)
        self.gid = gid

    def setup(self) -> None:
        with admin_connect(self.dsn) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS transfers (id int PRIMARY KEY, amount int)")
            conn.execute("INSERT INTO transfers VALUES (1, 10) ON CONFLICT DO NOTHING")

    def inject(self) -> None:
        with admin_connect(self.dsn, autocommit=False) as conn:
            conn.execute("UPDATE transfers SET amount = amount + 1 WHERE id = 1")
            conn.execute(sql.SQL("PREPARE TRANSACTION {}").format(sql.Literal(self.gid)))

    def self_check(self) -> None:
        with admin_connect(self.dsn) as conn:
            # a prepared transaction's locks have no pid; its XID lock ties them to it
            locks = _one(conn, "SELECT count(*) FROM pg_locks l JOIN pg_prepared_xacts p ON "
                               "l.locktype = 'transactionid' AND l.pid IS NULL "
                               "AND l.transactionid = p.transaction WHERE p.gid = %s",
                         (self.gid,))
        if not locks:
            raise ScenarioError(f"prepared transaction {self.gid!r} holds no lock")

    def stop(self) -> None:
        with admin_connect(self.dsn) as conn:
            if _one(conn, "SELECT count(*) FROM pg_prepared_xacts WHERE gid = %s", (self.gid,)):
                conn.execute(sql.SQL("ROLLBACK PREPARED {}").format(sql.Literal(self.gid)))
        super().stop()


class InactiveLogicalSlot(Scenario):
    """A logical replication slot whose consumer went away: it keeps WAL and catalog rows
    from its creation on, for ever. Needs ``wal_level = logical``."""

    code: ClassVar[str] = "long-transaction"
    title: ClassVar[str] = "an inactive logical replication slot retains WAL"

    def __init__(self, dsn: str, slot: str = "pgcrisis_lab_slot", scale: float = 1.0) -> None:
        super().__init__(dsn)
        self.slot = slot
        self.rows = _rows(20_000, scale, 1000)

    def inject(self) -> None:
        with admin_connect(self.dsn) as conn:
            if _one(conn, "SHOW wal_level") != "logical":
                raise ScenarioError("wal_level is not logical: no logical slot possible")
            conn.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')",
                         (self.slot,))
            conn.execute("CREATE TABLE IF NOT EXISTS outbox (id int, payload text)")
            conn.execute("INSERT INTO outbox SELECT g, md5(g::text) FROM "
                         "generate_series(1, %s) g", (self.rows,))

    def self_check(self) -> None:
        with admin_connect(self.dsn) as conn:
            row = conn.execute(
                "SELECT active, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) "
                "FROM pg_replication_slots WHERE slot_name = %s", (self.slot,)).fetchone()
        if row is None or row[0] or not row[1] or row[1] <= 0:
            raise ScenarioError(f"slot {self.slot} is not an inactive slot retaining WAL: {row}")

    def stop(self) -> None:
        with admin_connect(self.dsn) as conn:
            conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                         "WHERE slot_name = %s", (self.slot,))
        super().stop()


# -- connections -----------------------------------------------------------------------------

class _Connections(Scenario):
    """Holds plain idle connections open (no threads needed: idle is the point)."""

    def __init__(self, dsn: str) -> None:
        super().__init__(dsn)
        self.conns: list[psycopg.Connection[Any]] = []

    def open(self, n: int, application_name: str) -> None:
        for _ in range(n):
            conn = psycopg.connect(self.dsn, autocommit=True, application_name=application_name)
            conn.execute("SELECT 1")
            self.conns.append(conn)

    def count(self, application_name: str) -> int:
        with admin_connect(self.dsn) as conn:
            return int(_one(conn, "SELECT count(*) FROM pg_stat_activity WHERE "
                                  "application_name = %s AND state = 'idle'",
                            (application_name,)) or 0)

    def stop(self) -> None:
        for conn in self.conns:
            conn.close()
        self.conns.clear()
        super().stop()


class IdleConnectionPile(_Connections):
    """One client (a report pool) keeps ``n`` idle connections, next to a small app pool."""

    code: ClassVar[str] = "connection-saturation"
    title: ClassVar[str] = "one client piles up idle connections"

    def __init__(self, dsn: str, n: int = 80, application_name: str = "report-pool") -> None:
        super().__init__(dsn)
        self.n = n
        self.application_name = application_name

    def inject(self) -> None:
        self.open(2, "shop")
        self.open(self.n, self.application_name)

    def self_check(self) -> None:
        seen = self.count(self.application_name)
        if seen < self.n:
            raise ScenarioError(f"only {seen} of {self.n} idle connections are open")


class DatabaseConnectionLimit(_Connections):
    """The database's CONNECTION LIMIT is nearly used up: the next application connections
    will be refused with 'too many connections for database'."""

    code: ClassVar[str] = "connection-saturation"
    title: ClassVar[str] = "a database's connection limit is nearly reached"

    def __init__(self, dsn: str, limit: int = 10, used: int = 10) -> None:
        super().__init__(dsn)
        self.limit = limit
        self.used = used
        self.database = ""

    def setup(self) -> None:
        with admin_connect(self.dsn) as conn:
            self.database = str(_one(conn, "SELECT current_database()"))
            conn.execute(sql.SQL("ALTER DATABASE {} CONNECTION LIMIT {}").format(
                sql.Identifier(self.database), sql.Literal(self.limit)))

    def inject(self) -> None:
        self.open(self.used, "checkout-api")

    def self_check(self) -> None:
        with admin_connect(self.dsn) as conn:
            row = conn.execute("SELECT datconnlimit, (SELECT count(*) FROM pg_stat_activity "
                               "WHERE datname = current_database()) FROM pg_database "
                               "WHERE datname = current_database()").fetchone()
        if row is None or row[1] < 0.9 * row[0]:
            raise ScenarioError(f"the database's connections are not near its limit: {row}")

    def stop(self) -> None:
        super().stop()
        with admin_connect(self.dsn) as conn:
            conn.execute(sql.SQL("ALTER DATABASE {} CONNECTION LIMIT -1").format(
                sql.Identifier(self.database)))


class ApiCallLoop(Scenario):
    """An integration stuck in a loop: one client re-runs the same lookup as fast as it can,
    next to an ordinary client making a few calls a second (the seed's 'infinite loop of API
    calls'). Needs pg_stat_statements."""

    code: ClassVar[str] = "runaway-client"
    title: ClassVar[str] = "an integration calls the database in a tight loop"

    def __init__(self, dsn: str, application_name: str = "crm-sync",
                 sleep_s: float = 0.0) -> None:
        super().__init__(dsn)
        self.application_name = application_name
        #: with ``sleep_s``, each call also sleeps on the server: a loop of heavy statements
        #: (few calls, most of the execution time) rather than of quick ones
        self.sleep_s = sleep_s
        self.loop_pid = 0
        self.calls = 0
        self.stopping = threading.Event()

    def setup(self) -> None:
        with admin_connect(self.dsn) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.execute("CREATE TABLE IF NOT EXISTS contacts (id int PRIMARY KEY, name text)")
            conn.execute("INSERT INTO contacts SELECT g, 'c' || g FROM generate_series(1, 1000) g"
                         " ON CONFLICT DO NOTHING")

    def inject(self) -> None:
        def loop(conn: psycopg.Connection[Any]) -> None:
            i = 0
            while not self.stopping.is_set():
                if self.sleep_s:
                    conn.execute("SELECT pg_sleep(%s), name FROM contacts WHERE id = %s",
                                 (self.sleep_s, 1 + i % 1000))
                else:
                    conn.execute("SELECT name FROM contacts WHERE id = %s", (1 + i % 1000,))
                i += 1
                self.calls = i

        def browse(conn: psycopg.Connection[Any]) -> None:
            while not self.stopping.wait(0.2):
                conn.execute("SELECT count(*) FROM contacts WHERE name LIKE %s", ("c1%",))

        worker = self.spawn(loop, name="api-loop", application_name=self.application_name)
        self.spawn(browse, name="browser", application_name="backoffice")
        self.loop_pid = worker.pid or 0
        wait_until(lambda: self.calls > (20 if self.sleep_s else 500),
                   what="the loop to get going")

    def stop(self) -> None:
        self.stopping.set()
        super().stop()

    def self_check(self) -> None:
        before = self.calls
        time.sleep(0.5)
        rate = (self.calls - before) / 0.5
        wanted = 0.5 / self.sleep_s if self.sleep_s else 400
        if rate < wanted:
            raise ScenarioError(f"the loop makes only {rate:.0f} calls/s (wanted {wanted:.0f})")


# -- vacuum and statistics -------------------------------------------------------------------

class StaleStatistics(Scenario):
    """A table analyzed when small, then loaded with three times as many rows, autovacuum off
    for it: the planner still believes the old size."""

    code: ClassVar[str] = "stale-statistics"
    title: ClassVar[str] = "a table changed far beyond its statistics"

    def __init__(self, dsn: str, scale: float = 1.0) -> None:
        super().__init__(dsn)
        self.rows = _rows(10_000, scale, 5_000)

    def setup(self) -> None:
        with admin_connect(self.dsn) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS shipments (id bigint, status text)"
                         " WITH (autovacuum_enabled = false)")
            conn.execute("INSERT INTO shipments SELECT g, 'new' FROM generate_series(1, %s) g",
                         (self.rows,))
            conn.execute("ANALYZE shipments")

    def inject(self) -> None:
        with admin_connect(self.dsn) as conn:
            conn.execute("INSERT INTO shipments SELECT g, 'new' FROM generate_series(1, %s) g",
                         (3 * self.rows,))

    def self_check(self) -> None:
        wait_until(lambda: _table_stat(self.dsn, "shipments", "n_mod_since_analyze")
                   >= 3 * self.rows, what="the changes to show in pg_stat_user_tables")


class VacuumDisabled(Scenario):
    """A table with autovacuum switched off, most of its rows updated: dead rows pile up."""

    code: ClassVar[str] = "table-bloat"
    title: ClassVar[str] = "autovacuum is off for a busy table"

    def __init__(self, dsn: str, scale: float = 1.0) -> None:
        super().__init__(dsn)
        self.rows = _rows(30_000, scale, 12_000)

    def setup(self) -> None:
        with admin_connect(self.dsn) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS sessions_log (id int PRIMARY KEY, seen int)"
                         " WITH (autovacuum_enabled = false)")
            conn.execute("INSERT INTO sessions_log SELECT g, 0 FROM generate_series(1, %s) g",
                         (self.rows,))
            conn.execute("ANALYZE sessions_log")

    def inject(self) -> None:
        with admin_connect(self.dsn) as conn:
            conn.execute("UPDATE sessions_log SET seen = seen + 1")

    def self_check(self) -> None:
        wait_until(lambda: _table_stat(self.dsn, "sessions_log", "n_dead_tup") >= self.rows,
                   what="dead rows to show in pg_stat_user_tables")
        with admin_connect(self.dsn) as conn:
            options = _one(conn, "SELECT reloptions FROM pg_class WHERE oid = "
                                 "'sessions_log'::regclass")
        if "autovacuum_enabled=false" not in (options or []):
            raise ScenarioError("autovacuum is not disabled for sessions_log")


# -- indexes ---------------------------------------------------------------------------------

class RedundantIndexes(Scenario):
    """Two identical indexes, and one that is a leading prefix of another."""

    code: ClassVar[str] = "duplicate-index"
    title: ClassVar[str] = "redundant indexes: one identical, one a prefix of another"

    def setup(self) -> None:
        with admin_connect(self.dsn) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS invoices "
                         "(id int PRIMARY KEY, customer_id int, issued date, total numeric)")
            conn.execute("CREATE INDEX IF NOT EXISTS invoices_customer_idx "
                         "ON invoices (customer_id)")
            conn.execute("CREATE INDEX IF NOT EXISTS invoices_customer_idx2 "
                         "ON invoices (customer_id)")
            conn.execute("CREATE INDEX IF NOT EXISTS invoices_issued_idx ON invoices (issued)")
            conn.execute("CREATE INDEX IF NOT EXISTS invoices_issued_total_idx "
                         "ON invoices (issued, total)")

    def inject(self) -> None:
        """Nothing to start: the redundancy is in the schema."""

    def self_check(self) -> None:
        with admin_connect(self.dsn) as conn:
            same = _one(conn, "SELECT count(*) FROM pg_index WHERE indrelid = "
                              "'invoices'::regclass AND indkey::text = (SELECT indkey::text "
                              "FROM pg_index WHERE indexrelid = "
                              "'invoices_customer_idx'::regclass)")
        if same != 2:
            raise ScenarioError(f"expected two identical indexes, found {same}")


class FailedConcurrentIndex(Scenario):
    """CREATE UNIQUE INDEX CONCURRENTLY on a column with duplicates: it fails and leaves an
    invalid index behind, maintained by every write and used by no read."""

    code: ClassVar[str] = "invalid-index"
    title: ClassVar[str] = "a failed CREATE INDEX CONCURRENTLY left an invalid index"

    def setup(self) -> None:
        with admin_connect(self.dsn) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS users (id int PRIMARY KEY, email text)")
            conn.execute("INSERT INTO users VALUES (1, 'a@example.com'), (2, 'a@example.com')"
                         " ON CONFLICT DO NOTHING")

    def inject(self) -> None:
        with admin_connect(self.dsn) as conn:
            try:
                conn.execute("CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email)")
            except psycopg.errors.UniqueViolation:
                pass  # the point: the failed build stays behind, invalid
            else:
                raise ScenarioError("the unique index was built: no duplicates?")

    def self_check(self) -> None:
        with admin_connect(self.dsn) as conn:
            valid = _one(conn, "SELECT indisvalid FROM pg_index WHERE indexrelid = "
                               "'users_email_key'::regclass")
        if valid is not False:
            raise ScenarioError("users_email_key is not an invalid index")


class UnusedIndex(Scenario):
    """An index nothing ever scans, on a table big enough for it to cost something."""

    code: ClassVar[str] = "unused-index"
    title: ClassVar[str] = "an index nothing uses"

    def __init__(self, dsn: str, scale: float = 1.0) -> None:
        super().__init__(dsn)
        self.rows = _rows(60_000, scale, 40_000)

    def setup(self) -> None:
        with admin_connect(self.dsn) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS events (id int PRIMARY KEY, kind int,"
                         " ref text)")
            conn.execute("INSERT INTO events SELECT g, g %% 7, md5(g::text) FROM "
                         "generate_series(1, %s) g ON CONFLICT DO NOTHING", (self.rows,))
            conn.execute("CREATE INDEX IF NOT EXISTS events_ref_idx ON events (ref)")
            conn.execute("ANALYZE events")

    def inject(self) -> None:
        """Nothing to start: the index just sits there."""

    def self_check(self) -> None:
        with admin_connect(self.dsn) as conn:
            row = conn.execute("SELECT s.idx_scan, c.relpages FROM pg_stat_user_indexes s "
                               "JOIN pg_class c ON c.oid = s.indexrelid "
                               "WHERE s.indexrelname = 'events_ref_idx'").fetchone()
        if row is None or row[0] != 0 or row[1] < 128:
            raise ScenarioError(f"events_ref_idx is used or small (scans, pages): {row}")


# -- wraparound and time ---------------------------------------------------------------------

class SequenceNearLimit(Scenario):
    """An integer key fed by a bigint sequence that has reached 2 billion: the column runs out
    at 2,147,483,647, long before the sequence does."""

    code: ClassVar[str] = "wraparound-risk"
    title: ClassVar[str] = "an integer key's sequence is near the column's limit"

    def __init__(self, dsn: str, value: int = 2_000_000_000) -> None:
        super().__init__(dsn)
        self.value = value

    def setup(self) -> None:
        with admin_connect(self.dsn) as conn:
            conn.execute("CREATE SEQUENCE IF NOT EXISTS tickets_id_seq AS bigint")
            conn.execute("CREATE TABLE IF NOT EXISTS tickets "
                         "(id integer PRIMARY KEY DEFAULT nextval('tickets_id_seq'), title text)")

    def inject(self) -> None:
        with admin_connect(self.dsn) as conn:
            conn.execute("SELECT setval('tickets_id_seq', %s)", (self.value,))
            conn.execute("INSERT INTO tickets (title) VALUES ('one more')")

    def self_check(self) -> None:
        with admin_connect(self.dsn) as conn:
            last = _one(conn, "SELECT max(id) FROM tickets")
        if last is None or last < 0.75 * 2_147_483_647:
            raise ScenarioError(f"tickets.id is at {last}, not near the integer limit")


class DominantStatement(Scenario):
    """One statement, slow on every call, takes most of the database's execution time."""

    code: ClassVar[str] = "slow-query"
    title: ClassVar[str] = "one statement takes most of the time"

    def __init__(self, dsn: str, calls: int = 25, sleep_s: float = 0.06) -> None:
        super().__init__(dsn)
        self.calls = calls
        self.sleep_s = sleep_s

    def setup(self) -> None:
        with admin_connect(self.dsn) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.execute("CREATE TABLE IF NOT EXISTS reports (id int PRIMARY KEY, body text)")
            conn.execute("INSERT INTO reports SELECT g, 'r' FROM generate_series(1, 10) g"
                         " ON CONFLICT DO NOTHING")

    def inject(self) -> None:
        with admin_connect(self.dsn, application_name="reporting") as conn:
            for i in range(self.calls):
                conn.execute("SELECT pg_sleep(%s), body FROM reports WHERE id = %s",
                             (self.sleep_s, 1 + i % 10))

    def self_check(self) -> None:
        with admin_connect(self.dsn) as conn:
            total = _one(conn, "SELECT sum(total_exec_time) FROM pg_stat_statements WHERE "
                               "query LIKE 'SELECT pg_sleep(%%), body FROM reports%%' "
                               "AND dbid = (SELECT oid FROM pg_database "
                               "WHERE datname = current_database())")
        if not total or total < 0.8 * self.calls * self.sleep_s * 1000:
            raise ScenarioError(f"the statement took only {total} ms")
