"""The golden cases: each lab scenario the project holds, how it is injected, and what its
triage must show.

Every case sets its fault up the way the scenario's own test does (same scenario class, same
arguments, same wait, same thresholds), in a fresh database (``shop``) or, for pg_cron jobs,
in pg_cron's database (``app``, emptied before each case). ``codes`` are the finding codes
the scenario is about: the capture refuses to store a case whose triage lacks one, and
``tests/test_golden_triage.py`` checks them again on every stored golden.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import psycopg

from pgcrisis.demo.incident import build_causes
from pgcrisis.errors import ScenarioError
from pgcrisis.judge import TriageReport
from pgcrisis.lab.app import create_app
from pgcrisis.lab.blocking_refresh import PlainRefreshBlocksReaders
from pgcrisis.lab.cache import CachedViewTree, build_tree
from pgcrisis.lab.jobs import CleanupBacklog, CleanupTooFrequent
from pgcrisis.lab.locks import LeakyRecursiveDelete
from pgcrisis.lab.queries import JitDominatesViewQuery, OrderWorkflowMissingIndex
from pgcrisis.lab.scenario import (
    Scenario,
    Worker,
    admin_connect,
    wait_for_release,
    wait_until,
)
from pgcrisis.model.findings import Severity
from pgcrisis.server_binaries import find_binaries
from tests.scenarios.contention import HotRowUpdates, InsertContention
from tests.scenarios.health import (
    ApiCallLoop,
    DatabaseConnectionLimit,
    DominantStatement,
    FailedConcurrentIndex,
    IdleConnectionPile,
    InactiveLogicalSlot,
    OrphanedPreparedTransaction,
    RedundantIndexes,
    SequenceNearLimit,
    SnapshotHoldsVacuum,
    StaleStatistics,
    UnusedIndex,
    VacuumDisabled,
)
from tests.scenarios.jobs import FailingJob
from tests.scenarios.load import CpuSaturation, IoSaturation, cores
from tests.scenarios.locks import (
    ActiveStatementChain,
    IdleTransactionChain,
    PreparedTransactionBlocker,
)
from tests.scenarios.plans import SUBQUERY, Pgbench, reset_statements, shop
from tests.scenarios.queries import ForeignKeyWithoutIndex
from tests.scenarios.statistics import StatisticsLost, UnanalyzedTableScanned
from tests.scenarios.users import SimulatedUsers
from tests.scenarios.writes import IndexedUpdates, InsertStorm, LargeFetch

Lab = Callable[[str], AbstractContextManager[object]]

#: the scale the scenario tests use for the order-management app under pg_cron jobs
#: (tests/test_checks_jobs.py, test_checks_matviews.py, test_triage_screen.py)
SMALL = 0.02
#: check codes no golden case can produce (none today; a new check needs a case or a line here)
NOT_COVERED: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Case:
    """One golden case.

    ``lab(dsn)`` is entered to set the fault up (and left to release it); triage runs
    ``settle_s`` later, sampling call rates for ``sample_s`` if set. ``thresholds`` are those
    the scenario's test judges with (none: the defaults). ``needs`` are the optional server
    pieces without which the case is not captured. ``quiet``: nothing above info may show.
    """

    name: str
    about: str
    lab: Lab
    codes: frozenset[str]
    cron: bool = False
    needs: tuple[str, ...] = ()
    thresholds: Mapping[str, Any] = field(default_factory=dict)
    settle_s: float = 0.0
    sample_s: float = 0.0
    quiet: bool = False


@contextmanager
def _scenario(scenario: Scenario) -> Iterator[Scenario]:
    """A scenario entered (setup, inject, self-check) and, afterwards, stopped and removed."""
    with scenario:
        yield scenario
    remove = getattr(scenario, "remove", None)
    if remove is not None:
        remove()


def _lab(make: Callable[[str], Scenario]) -> Lab:
    return lambda dsn: _scenario(make(dsn))


@contextmanager
def _two_chains(dsn: str) -> Iterator[None]:
    """tests/test_checks_locks.py: two independent lock chains, two roots."""
    with (IdleTransactionChain(dsn, table="orders", readers=1),
          IdleTransactionChain(dsn, table="invoices", readers=2)):
        yield


@contextmanager
def _extending(dsn: str) -> Iterator[None]:
    """tests/test_contention.py's insert storm, entered once ten inserters queue on the
    table's extension lock (a burst: the next page is being added)."""
    def queued() -> bool:
        with admin_connect(dsn) as conn:
            row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name"
                               " = 'ingest' AND wait_event = 'extend'").fetchone()
        return row is not None and row[0] >= 10

    with InsertContention(dsn, _pgbench()):
        wait_until(queued, what="inserters queueing to extend the table")
        yield


def _state(dsn: str, pid: int) -> str | None:
    with admin_connect(dsn) as conn:
        row = conn.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
    return row[0] if row else None


@contextmanager
def _session(dsn: str, work: Callable[[psycopg.Connection[Any]], None], state: str,
             application_name: str) -> Iterator[None]:
    """tests/test_checks_sessions.py: one session doing ``work`` until released, seen in
    ``state``."""
    worker = Worker(dsn, work, name=application_name,
                    application_name=application_name).start_and_wait()
    try:
        pid = worker.pid or 0
        wait_until(lambda: _state(dsn, pid) == state, what=f"the session to be {state}")
        yield
    finally:
        worker.cancel()
        worker.join(10)


def _idle_in_transaction(dsn: str) -> AbstractContextManager[None]:
    def idle(conn: psycopg.Connection[Any]) -> None:
        with conn.transaction():
            conn.execute("SELECT 1")
            wait_for_release()

    return _session(dsn, idle, "idle in transaction", "report-builder")


def _long_running_query(dsn: str) -> AbstractContextManager[None]:
    def sleeper(conn: psycopg.Connection[Any]) -> None:
        conn.execute("SELECT pg_sleep(30)")

    return _session(dsn, sleeper, "active", "nightly-report")


@contextmanager
def _unready_matviews(dsn: str) -> Iterator[None]:
    """tests/test_checks_matviews.py: the cached-view tree, refreshed by nobody."""
    with admin_connect(dsn) as conn:
        create_app(conn, SMALL)
        build_tree(conn)
    yield


@contextmanager
def _seed_incident(dsn: str) -> Iterator[None]:
    """Every fault of the seed incident at once, at its worst moment: what ``pgcrisis demo``
    triages (and tests/test_triage_screen.py), before any fix."""
    with admin_connect(dsn) as conn:
        for ext in ("pg_stat_statements", "pg_cron", "hypopg"):
            conn.execute(f"CREATE EXTENSION IF NOT EXISTS {ext}".encode())
        create_app(conn, SMALL)
    causes = list(build_causes(dsn, SMALL))
    for cause in causes:
        cause.scenario.setup()
    with ExitStack() as stack:
        for cause in causes:
            stack.callback(cause.scenario.stop)
        for cause in causes:
            cause.scenario.inject()
            cause.scenario.self_check()
        yield


@cache
def seed_codes() -> frozenset[str]:
    """The codes the demo checks its triage names, one or two per cause of the incident."""
    return frozenset(code for cause in build_causes("", SMALL) for code in cause.codes)


@contextmanager
def _healthy(dsn: str) -> Iterator[None]:
    """tests/test_healthy.py: the app with its indexes, readers and writers at work."""
    from tests.test_healthy import _read, _write

    with admin_connect(dsn) as conn:
        for ext in ("pg_stat_statements", "hypopg"):
            conn.execute(f"CREATE EXTENSION IF NOT EXISTS {ext}".encode())
        create_app(conn, scale=0.05)
        conn.execute("CREATE INDEX ON orders (site_id)")
        conn.execute("CREATE INDEX ON standing_order_items (customer_id)")
    readers = SimulatedUsers(dsn, _read, users=3, name="reader", application_name="shop",
                             think_s=0.01).start()
    writers = SimulatedUsers(dsn, _write, users=2, name="writer",
                             application_name="orders-api", think_s=0.01).start()
    try:
        yield
    finally:
        readers.stop()
        writers.stop()


@contextmanager
def _bad_plan(dsn: str) -> Iterator[None]:
    """tests/test_bad_plans.py: a correlated subquery run per customer carries the load,
    run by four pgbench clients per core (CPU saturation, its plan the cause)."""
    shop(dsn)
    with admin_connect(dsn) as conn:
        reset_statements(conn)
    binaries = find_binaries()
    if binaries is None:
        raise ScenarioError("no PostgreSQL binaries for pgbench")
    with Pgbench(binaries.tool("pgbench"), dsn, SUBQUERY, "SELECT count(*) FROM customers",
                 clients=4 * cores()):
        yield


def _pgbench() -> Path:
    """pgbench of the newest server binaries on this machine (the capture's server's)."""
    binaries = find_binaries()
    if binaries is None:
        raise ScenarioError("no PostgreSQL binaries on this machine for pgbench")
    return binaries.tool("pgbench")


def _codes(*codes: str) -> frozenset[str]:
    return frozenset(codes)


CRON = ("pg_cron",)
STATEMENTS = ("pg_stat_statements",)

CASES: tuple[Case, ...] = (
    # -- locks and sessions --------------------------------------------------------------------
    Case("idle_transaction_chain",
         "an idle transaction, a queued ALTER TABLE and three readers behind both",
         _lab(lambda dsn: IdleTransactionChain(dsn, readers=3)),
         _codes("blocking-lock", "idle-in-transaction"), settle_s=1.1),
    Case("two_lock_chains", "two independent lock chains on two tables",
         _two_chains, _codes("blocking-lock")),
    Case("active_statement_chain",
         "a long statement, a queued ALTER TABLE and two readers behind both",
         _lab(lambda dsn: ActiveStatementChain(dsn, readers=2)), _codes("blocking-lock")),
    Case("prepared_transaction_blocker", "a prepared transaction holds a row lock (pid 0)",
         _lab(lambda dsn: PreparedTransactionBlocker(dsn, gid="orphan-42")),
         _codes("blocking-lock")),
    Case("idle_in_transaction", "a session idle in transaction, blocking nobody",
         _idle_in_transaction, _codes("idle-in-transaction"),
         thresholds={"idle_in_transaction_s": 1.0}, settle_s=1.2),
    Case("long_running_query", "a statement running past the threshold",
         _long_running_query, _codes("long-running-query"),
         thresholds={"long_running_query_s": 1.0, "long_running_query_critical_s": 600},
         settle_s=1.2),
    Case("leaky_recursive_delete", "a recursive delete leaking one open cursor per level",
         _lab(lambda dsn: LeakyRecursiveDelete(dsn, levels=30)), _codes("lock-hoarder")),
    # -- the xmin horizon and vacuum -------------------------------------------------------------
    Case("snapshot_holds_vacuum", "an idle snapshot keeps vacuum from cleaning a churning table",
         _lab(lambda dsn: SnapshotHoldsVacuum(dsn, scale=0.3)), _codes("table-bloat")),
    Case("snapshot_holds_vacuum_and_a_writer",
         "the idle snapshot also blocks a writer: one root for the lock chain and the bloat",
         _lab(lambda dsn: SnapshotHoldsVacuum(dsn, scale=0.3, blocked=True)),
         _codes("idle-in-transaction", "blocking-lock", "long-transaction", "table-bloat"),
         thresholds={"long_transaction_s": 0.2, "idle_blocking_min_s": 0.2}, settle_s=0.3),
    Case("orphaned_prepared_transaction", "a two-phase transaction prepared and never finished",
         _lab(lambda dsn: OrphanedPreparedTransaction(dsn, gid="payment-7781")),
         _codes("long-transaction"), thresholds={"prepared_xact_s": 0.0}),
    Case("inactive_logical_slot", "an inactive logical replication slot retains WAL",
         _lab(lambda dsn: InactiveLogicalSlot(dsn, slot="crm_cdc", scale=0.05)),
         _codes("long-transaction")),
    Case("vacuum_disabled", "autovacuum is off for a busy table",
         _lab(lambda dsn: VacuumDisabled(dsn, scale=0.4)), _codes("table-bloat")),
    Case("stale_statistics", "a table changed far beyond its statistics",
         _lab(lambda dsn: StaleStatistics(dsn, scale=0.5)), _codes("stale-statistics")),
    # -- connections and clients ---------------------------------------------------------------
    Case("idle_connection_pile", "one client piles up 80 idle connections",
         _lab(lambda dsn: IdleConnectionPile(dsn, n=80, application_name="report-pool")),
         _codes("connection-saturation", "runaway-client")),
    Case("database_connection_limit", "a database's connection limit is reached",
         _lab(lambda dsn: DatabaseConnectionLimit(dsn, limit=10, used=10)),
         _codes("connection-saturation")),
    Case("api_call_loop", "an integration calls the database in a tight loop (--sample 1.5)",
         _lab(lambda dsn: ApiCallLoop(dsn, application_name="crm-sync")),
         _codes("runaway-client"), needs=STATEMENTS, sample_s=1.5),
    Case("api_heavy_call_loop", "a loop of heavy statements, found by its share of the time",
         _lab(lambda dsn: ApiCallLoop(dsn, application_name="export-retry", sleep_s=0.01)),
         _codes("runaway-client"), needs=STATEMENTS, sample_s=1.5),
    # -- load (issue 20) --------------------------------------------------------------------------
    Case("cpu_saturation", "four clients per core run a CPU-bound join (the default window)",
         _lab(CpuSaturation), _codes("cpu-saturation"), needs=STATEMENTS, sample_s=1.0),
    Case("io_saturation", "sixteen clients read a working set four times shared_buffers "
         "(evicted from the page cache)", _lab(IoSaturation), _codes("io-saturation"),
         needs=STATEMENTS, sample_s=1.0),
    Case("write_storm", "32 pgbench clients each insert one row and commit, into one table, "
         "every COMMIT waiting for its WAL to be flushed", _lab(InsertStorm),
         _codes("write-storm"), needs=STATEMENTS, sample_s=1.0),
    Case("index_overhead", "8 pgbench clients update an indexed column of a table with 12 "
         "indexes, 11 never read", _lab(IndexedUpdates), _codes("index-overhead"),
         needs=STATEMENTS, sample_s=1.0),
    Case("large_result", "4 pgbench clients each fetch 90% of a 200,000-row table, call after "
         "call", _lab(LargeFetch), _codes("large-result"), needs=STATEMENTS, sample_s=1.0),
    # -- contention (issue 20): tests/test_contention.py's loads, over its 2 s window -----------
    Case("hot_row_updates", "40 clients update the same five rows (pgbench -f)",
         _lab(lambda dsn: HotRowUpdates(dsn, _pgbench())), _codes("row-lock-contention"),
         needs=STATEMENTS, sample_s=2.0),
    Case("insert_storm", "53 clients insert into one table (pgbench -f)",
         _lab(lambda dsn: InsertContention(dsn, _pgbench())), _codes("lwlock-contention"),
         needs=STATEMENTS, sample_s=2.0),
    Case("insert_storm_extending", "53 clients insert into one table, caught queueing to "
         "extend it (no load window: judged at the instant)", _extending,
         _codes("relation-extension"), needs=STATEMENTS),
    # -- indexes, sequences, statements ----------------------------------------------------------
    Case("redundant_indexes", "two identical indexes, and one a prefix of another",
         _lab(RedundantIndexes), _codes("duplicate-index")),
    Case("failed_concurrent_index", "a failed CREATE INDEX CONCURRENTLY left an invalid index",
         _lab(FailedConcurrentIndex), _codes("invalid-index")),
    Case("unused_index", "an index nothing uses",
         _lab(lambda dsn: UnusedIndex(dsn, scale=0.7)), _codes("unused-index")),
    Case("sequence_near_limit", "an integer key's sequence near the column's limit",
         _lab(SequenceNearLimit), _codes("wraparound-risk")),
    Case("bad_plan", "a correlated subquery run per row of 300,000 customers, by more clients "
         "than cores, carries the load",
         _bad_plan, _codes("bad-plan"), needs=STATEMENTS, sample_s=1.0),
    Case("dominant_statement", "one statement takes most of the time",
         _lab(lambda dsn: DominantStatement(dsn, calls=20, sleep_s=0.06)),
         _codes("slow-query"), needs=STATEMENTS),
    Case("fk_without_index", "deleting a delivery site scans every order",
         _lab(lambda dsn: ForeignKeyWithoutIndex(dsn, scale=0.1)), _codes("fk-missing-index")),
    Case("order_workflow_missing_index", "creating an order scans every standing order item",
         _lab(lambda dsn: OrderWorkflowMissingIndex(dsn, scale=0.1, users=4,
                                                    orders_per_user=60)),
         _codes("missing-index"), needs=("pg_stat_statements", "hypopg")),
    Case("unanalyzed_table_scanned", "a table filled just now, never analyzed, looked up by id "
         "by five pgbench clients with no index on id",
         _lab(lambda dsn: UnanalyzedTableScanned(dsn, hypopg=True)),
         _codes("missing-index", "missing-statistics"), needs=("pg_stat_statements", "hypopg")),
    Case("statistics_lost", "tables left without planner statistics as by pg_upgrade, read by "
         "a report", _lab(StatisticsLost), _codes("missing-statistics"), needs=STATEMENTS),
    Case("jit_dominates_view_query", "JIT compilation dominates a reporting view's query",
         _lab(lambda dsn: JitDominatesViewQuery(dsn, scale=0.1)), _codes("jit-overhead"),
         needs=("pg_stat_statements", "jit")),
    # -- cached views ------------------------------------------------------------------------
    Case("plain_refresh_blocks_readers", "a plain REFRESH holds its lock while readers queue",
         _lab(lambda dsn: PlainRefreshBlocksReaders(dsn, scale=SMALL, readers=3)),
         _codes("matview-blocking-refresh")),
    Case("plain_refresh_awaiting_lock", "a plain REFRESH waits for its lock, readers behind it",
         _lab(lambda dsn: PlainRefreshBlocksReaders(dsn, scale=SMALL, readers=2,
                                                    awaiting=True)),
         _codes("matview-blocking-refresh")),
    Case("unready_matviews", "cached views that cannot refresh CONCURRENTLY, refreshed by nobody",
         _unready_matviews, _codes("matview-concurrent-unready")),
    Case("cached_view_tree", "every cached view refreshes at 09:00 with a plain REFRESH",
         _lab(lambda dsn: CachedViewTree(dsn, scale=SMALL, views=3)),
         _codes("refresh-spike", "matview-blocking-refresh", "matview-concurrent-unready"),
         cron=True, needs=CRON),
    # -- pg_cron jobs ------------------------------------------------------------------------
    Case("cleanup_too_frequent", "a cleanup job runs every 5 minutes and deletes nothing",
         _lab(lambda dsn: CleanupTooFrequent(dsn, scale=SMALL)), _codes("job-too-frequent"),
         cron=True, needs=CRON),
    Case("cleanup_backlog", "the cleanup deletes nothing while the audit log keeps growing",
         _lab(lambda dsn: CleanupBacklog(dsn, scale=SMALL, runs=6)), _codes("job-backlog"),
         cron=True, needs=CRON),
    Case("failing_job", "a nightly archive job fails every run",
         _lab(lambda dsn: FailingJob(dsn, scale=SMALL, runs=4)), _codes("job-failing"),
         cron=True, needs=CRON),
    Case("failing_job_since_it_worked", "the archive job fails since it last worked",
         _lab(lambda dsn: FailingJob(dsn, scale=SMALL, runs=3, earlier_successes=2)),
         _codes("job-failing"), cron=True, needs=CRON),
    # -- everything at once, and nothing -----------------------------------------------------
    Case("seed_incident", "the demo's whole incident at its worst moment, every fault at once",
         _seed_incident, seed_codes(), cron=True,
         needs=("pg_cron", "pg_stat_statements", "hypopg", "jit")),
    Case("healthy", "the app with its indexes under a mixed read/write load",
         _healthy, frozenset(), needs=("pg_stat_statements", "hypopg"), settle_s=3.0,
         quiet=True),
)

BY_NAME: Mapping[str, Case] = {case.name: case for case in CASES}
assert len(BY_NAME) == len(CASES), "two golden cases share a name"


def problems(case: Case, report: TriageReport) -> list[str]:
    """What is wrong with ``report`` on ``case``: empty when it shows what the scenario is
    about (and, for a quiet case, nothing above info)."""
    codes = {f.code for f in report.findings}
    out = [f"no {code} finding" for code in sorted(case.codes - codes)]
    loud = [f"{f.code}: {f.title}" for f in report.findings if f.severity is not Severity.INFO]
    if case.quiet and loud:
        out.append(f"findings above info on a healthy server: {loud}")
    return out
