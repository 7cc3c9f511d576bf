"""Query faults of the seed incident: JIT dominating a view's query, the order workflow's
missing index, and a foreign key without an index.

Each scenario creates what it needs in the database of its DSN (pg_stat_statements and, where
available, hypopg included, with the pg_stat_statements entries of its tables reset so that
triage sees this run's workload), runs a workload, and proves the fault with plain SQL in
``self_check``.
``measure()`` times the symptom on a fresh connection so that the demo can show it before and
after the remedy.
"""

from __future__ import annotations

import random
import statistics
import time
from typing import Any, ClassVar

import psycopg
from psycopg import sql as psql

from pgcrisis.errors import ScenarioError
from pgcrisis.lab.app import AppSize, create_app
from pgcrisis.lab.scenario import Metric, Scenario, admin_connect, wait_until


def _install_extensions(conn: psycopg.Connection[Any], names: tuple[str, ...]) -> None:
    """Create the extensions that are available (hypopg may not be); reset statement stats."""
    available = {row[0] for row in conn.execute(
        "SELECT name FROM pg_available_extensions WHERE name = ANY(%s)", [list(names)])}
    for name in names:
        if name in available:
            conn.execute(psql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(
                psql.Identifier(name)))
    if "pg_stat_statements" not in available:
        raise ScenarioError("pg_stat_statements is not available on this server")


def _reset_statements(conn: psycopg.Connection[Any], tables: tuple[str, ...]) -> None:
    """Forget this database's pg_stat_statements entries that name ``tables`` (an earlier
    run's, the data load's), so that triage sees this run's workload.

    Only those: the demo builds every scenario in one database, and a plain
    ``pg_stat_statements_reset()`` would wipe the statements of scenarios set up before.
    """
    pattern = r"\m(" + "|".join(tables) + r")\M"
    conn.execute(
        """SELECT count(pg_stat_statements_reset(userid, dbid, queryid))
             FROM pg_stat_statements
            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND query ~* %s""", [pattern])


def _seq_scans(conn: psycopg.Connection[Any], table: str) -> int:
    """Sequential scans of ``table`` so far (the statistics are flushed at transaction end)."""
    row = conn.execute("SELECT coalesce(seq_scan, 0) FROM pg_stat_user_tables "
                       "WHERE relid = %s::regclass", [table]).fetchone()
    return int(row[0]) if row else 0


def _leading_index(conn: psycopg.Connection[Any], table: str, column: str) -> str | None:
    """A valid index of ``table`` whose first key column is ``column``, if there is one."""
    row = conn.execute(
        """SELECT i.indexrelid::regclass::text
             FROM pg_index i
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
            WHERE i.indrelid = %s::regclass AND a.attname = %s AND i.indisvalid""",
        [table, column]).fetchone()
    return str(row[0]) if row else None


def _top_up(conn: psycopg.Connection[Any], table: str, rows: int, insert: str,
            params: dict[str, Any]) -> None:
    """Insert ``rows - count(*)`` rows into ``table`` with ``insert`` (given ``%(missing)s``)
    when it has fewer, and ANALYZE it: the fault needs a table of this size at any scale."""
    count = psql.SQL("SELECT count(*) FROM {}").format(psql.Identifier(table))
    row = conn.execute(count).fetchone()
    missing = rows - (int(row[0]) if row else 0)
    if missing > 0:
        conn.execute(insert.encode(), {**params, "missing": missing})
        conn.execute(psql.SQL("ANALYZE {}").format(psql.Identifier(table)))


def _plan_nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = [plan]
    for child in plan.get("Plans", ()):
        nodes.extend(_plan_nodes(child))
    return nodes


def _seq_scanned(conn: psycopg.Connection[Any], query: str, table: str) -> bool:
    """Whether the plan of ``query`` (plain EXPLAIN) reads ``table`` with a Seq Scan."""
    row = conn.execute(psql.SQL("EXPLAIN (FORMAT JSON) {}").format(psql.SQL(query))).fetchone()
    assert row is not None
    return any(n.get("Node Type") == "Seq Scan" and n.get("Relation Name") == table
               for n in _plan_nodes(row[0][0]["Plan"]))


# -- JIT ---------------------------------------------------------------------------------------

class JitDominatesViewQuery(Scenario):
    """A reporting view with many computed columns whose query JIT compiles, slowly, every time.

    The view joins a contacts table to itself on ``upper(ref)``: an expression without
    statistics, so the planner assumes the default selectivity (1/200) and expects
    ``rows²/200`` rows, where one per contact comes out. The estimate (about a million rows
    for 20,000 contacts) puts the cost above ``jit_optimize_above_cost`` and
    ``jit_inline_above_cost`` with the server's *default* JIT settings: every execution
    compiles, inlines and optimises the view's ~24 expressions, which takes far longer than
    computing them for the rows that really come out. ``scale`` multiplies the contacts
    (never below 20,000, or the estimate would not reach the JIT thresholds); ``runs`` is how
    many times the workload runs the query at least (see :meth:`inject`).

    ``measure()``: the view query's mean execution time in ms on the server (EXPLAIN ANALYZE
    with timing off, so that fetching 20,000 wide rows into Python does not blur it) over three
    runs on a fresh connection: markedly lower once ``jit = off`` for the database, role or
    server.
    """

    code: ClassVar[str] = "jit-overhead"
    title: ClassVar[str] = "JIT compilation dominates a reporting view's query"
    VIEW = "contact_report"
    QUERY = "SELECT * FROM contact_report"
    EXPRESSIONS = 24
    MIN_CONTACTS = 20000
    JIT_BUDGET_MS = 2000.0
    MAX_RUNS = 20

    def __init__(self, dsn: str, scale: float = 1.0, runs: int = 4) -> None:
        super().__init__(dsn)
        self.contacts = max(self.MIN_CONTACTS, int(self.MIN_CONTACTS * scale))
        self.runs = runs
        self.jit_share = 0.0

    def setup(self) -> None:
        """Create the contacts table and the view; reset pg_stat_statements."""
        columns = psql.SQL(",\n").join(
            psql.SQL(
                "CASE WHEN c.status = 'paid' AND c.tier > {mod} THEN c.balance * {k} + d.tier"
                " WHEN c.status = 'new' THEN c.balance - {i}"
                " ELSE round(c.balance / {div}, 2) END AS {name}"
            ).format(mod=psql.Literal(i % 7), k=psql.Literal(i + 1), i=psql.Literal(i),
                     div=psql.Literal(i + 2), name=psql.Identifier(f"measure_{i}"))
            for i in range(self.EXPRESSIONS)
        )
        with admin_connect(self.dsn) as conn:
            _install_extensions(conn, ("pg_stat_statements",))
            conn.execute("""
                CREATE TABLE IF NOT EXISTS report_contacts (
                    id      integer PRIMARY KEY,
                    ref     text NOT NULL,
                    tier    integer NOT NULL,
                    balance numeric(12, 2) NOT NULL,
                    status  text NOT NULL
                )""")
            conn.execute("TRUNCATE report_contacts")
            conn.execute(
                """INSERT INTO report_contacts
                   SELECT g, 'C' || g, g %% 7, g * 1.5,
                          (ARRAY['new', 'paid', 'shipped', 'done'])[1 + g %% 4]
                     FROM generate_series(1, %s) g""", [self.contacts])
            conn.execute("ANALYZE report_contacts")
            conn.execute(psql.SQL(
                "CREATE OR REPLACE VIEW {} AS SELECT c.id, c.ref, {} FROM report_contacts c "
                "JOIN report_contacts d ON upper(d.ref) = 'C' || c.id"
            ).format(psql.Identifier(self.VIEW), columns))
            _reset_statements(conn, ("report_contacts", self.VIEW))

    def inject(self) -> None:
        """Run the view's query as the reporting screen would: ``runs`` times, then on until
        pg_stat_statements counts :data:`JIT_BUDGET_MS` of JIT time (a fast machine compiles
        faster; the jit-overhead check wants a second lost in all), at most ``MAX_RUNS``."""
        with admin_connect(self.dsn, application_name="report-ui") as conn:
            for n in range(1, self.MAX_RUNS + 1):
                conn.execute(self.QUERY).fetchall()
                if n >= self.runs and self._jit_ms(conn) >= self.JIT_BUDGET_MS:
                    break

    def _jit_ms(self, conn: psycopg.Connection[Any]) -> float:
        row = conn.execute(
            """SELECT coalesce(sum(jit_generation_time + jit_inlining_time
                                   + jit_optimization_time + jit_emission_time), 0)
                 FROM pg_stat_statements
                WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND query = %s""", [self.QUERY]).fetchone()
        return float(row[0]) if row else 0.0

    def self_check(self) -> None:
        """EXPLAIN ANALYZE the query: JIT must take at least half of its execution time."""
        with admin_connect(self.dsn, application_name="report-ui") as conn:
            row = conn.execute(psql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) {}").format(
                psql.SQL(self.QUERY))).fetchone()
        assert row is not None
        plan = row[0][0]
        jit = plan.get("JIT")
        if not jit:
            raise ScenarioError(f"{self.QUERY} was not JIT-compiled (is jit on and llvmjit "
                                "installed?)")
        self.jit_share = jit["Timing"]["Total"] / plan["Execution Time"]
        if self.jit_share < 0.5:
            raise ScenarioError(f"JIT took only {self.jit_share:.0%} of {self.QUERY}")

    def measure(self) -> Metric:
        """Mean server-side time of the view's query over three runs on a fresh connection."""
        explain = psql.SQL("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {}").format(
            psql.SQL(self.QUERY))
        times = []
        with admin_connect(self.dsn, application_name="report-ui") as conn:
            for _ in range(3):
                row = conn.execute(explain).fetchone()
                assert row is not None
                times.append(float(row[0][0]["Execution Time"]))
        return Metric("mean report query time", "ms", statistics.fmean(times),
                      "measured: EXPLAIN ANALYZE, mean of 3")


# -- the order workflow ------------------------------------------------------------------------

class OrderWorkflowMissingIndex(Scenario):
    """The seed's order-creation workflow, slow because standing_order_items has no index on
    customer_id.

    Creating an order inserts it, adds the customer's standing (regular) order items with
    ``INSERT INTO order_items ... SELECT ... FROM standing_order_items WHERE customer_id = $1
    AND active`` (a sequential scan of the whole table, every time), and totals the order.
    ``users`` simulated users (application ``ordersvc``) each create ``orders_per_user``
    orders. ``scale`` is the app's (:func:`pgcrisis.lab.app.create_app`); below 0.4
    standing_order_items is topped up with inactive standing items of former customers to
    :data:`MIN_STANDING_ITEMS` rows, so that it exceeds the missing-index check's 1,000 pages
    at any scale (the workflow still scans them all).

    ``measure()``: mean order-creation workflow time in ms over ten orders on a fresh
    connection, each rolled back so that measuring changes nothing (drops a lot once the
    index exists).
    """

    code: ClassVar[str] = "missing-index"
    title: ClassVar[str] = "Creating an order scans every standing order item"
    #: ~1,300 pages: above the missing-index check's 1,000 at any scale
    MIN_STANDING_ITEMS = 160_000
    ADD_STANDING_ITEMS = (
        "INSERT INTO order_items (order_id, product, qty, price) "
        "SELECT %s, product, qty, price FROM standing_order_items "
        "WHERE customer_id = %s AND active"
    )

    def __init__(self, dsn: str, scale: float = 1.0, users: int = 4,
                 orders_per_user: int = 60) -> None:
        super().__init__(dsn)
        self.scale = scale
        self.users = users
        self.orders_per_user = orders_per_user
        self.size: AppSize = AppSize.for_scale(scale)
        self.seq_scans_before = 0

    def setup(self) -> None:
        """The app and its data, standing items topped up; pg_stat_statements and hypopg;
        statement stats reset."""
        with admin_connect(self.dsn) as conn:
            self.size = create_app(conn, self.scale)
            _top_up(conn, "standing_order_items", self.MIN_STANDING_ITEMS, """
                INSERT INTO standing_order_items (customer_id, product, qty, price, active)
                SELECT %(customers)s + 1 + g %% 20000, 'P' || (g %% 500), 1 + g %% 5, 2.5, false
                  FROM generate_series(1, %(missing)s) g""", {"customers": self.size.customers})
            _install_extensions(conn, ("pg_stat_statements", "hypopg"))
            self.seq_scans_before = _seq_scans(conn, "standing_order_items")
            _reset_statements(conn, ("standing_order_items",))

    def create_order(self, conn: psycopg.Connection[Any], customer: int) -> int:
        """The workflow: the order, its standing items, its total (in the caller's
        transaction)."""
        site = (customer - 1) * self.size.sites_per_customer + 1
        row = conn.execute("INSERT INTO orders (customer_id, site_id) VALUES (%s, %s) "
                           "RETURNING id", [customer, site]).fetchone()
        assert row is not None
        order_id = int(row[0])
        conn.execute(self.ADD_STANDING_ITEMS, [order_id, customer])
        conn.execute("UPDATE orders SET total = (SELECT coalesce(sum(qty * price), 0) "
                     "FROM order_items WHERE order_id = %s) WHERE id = %s", [order_id, order_id])
        return order_id

    def _user(self, seed: int) -> Any:
        rng = random.Random(seed)

        def run(conn: psycopg.Connection[Any]) -> None:
            for _ in range(self.orders_per_user):
                with conn.transaction():
                    self.create_order(conn, rng.randint(1, self.size.customers))
        return run

    def inject(self) -> None:
        """Simulated users create orders; wait until they are done."""
        workers = [self.spawn(self._user(i), name=f"ordersvc-{i}", application_name="ordersvc")
                   for i in range(self.users)]
        for worker in workers:
            worker.join(120)
            if worker.error is not None:
                raise ScenarioError(f"{worker.name} failed: {worker.error}")

    def self_check(self) -> None:
        """No index leads with customer_id; the statement's plan scans the table sequentially,
        and the workload did scan it once per order."""
        with admin_connect(self.dsn) as conn:
            index = _leading_index(conn, "standing_order_items", "customer_id")
            if index is not None:
                raise ScenarioError(f"standing_order_items already has index {index}")
            query = self.ADD_STANDING_ITEMS.replace("%s", "1")
            if not _seq_scanned(conn, query, "standing_order_items"):
                raise ScenarioError("the workflow's INSERT ... SELECT does not scan "
                                    "standing_order_items sequentially")
            expected = self.users * self.orders_per_user
            # the users' backends flush their statistics as they exit, after we saw them close
            wait_until(lambda: _seq_scans(conn, "standing_order_items")
                       - self.seq_scans_before >= expected, timeout=15,
                       what=f"{expected} sequential scans of standing_order_items")

    def measure(self) -> Metric:
        """Mean time of the order-creation workflow over ten orders (rolled back)."""
        rng = random.Random(7)
        times = []
        with admin_connect(self.dsn, application_name="ordersvc") as conn:
            for _ in range(10):
                customer = rng.randint(1, self.size.customers)
                t0 = time.perf_counter()
                try:
                    with conn.transaction(force_rollback=True):
                        self.create_order(conn, customer)
                finally:
                    times.append((time.perf_counter() - t0) * 1000)
        # wall time includes round trips the index cannot remove: 1.5x is the margin here
        return Metric("mean order-creation time", "ms", statistics.fmean(times),
                      "measured: wall time, mean of 10", min_ratio=1.5)


# -- foreign key without an index --------------------------------------------------------------

