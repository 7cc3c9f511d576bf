"""Fixed moments for ``pgcrisis top``'s screens: hand-made snapshots (fixed pids, times, ages
and load profiles), so every render of them is the same, and a source that always returns
one (with the load of the minute before it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pgcrisis.dsn import Target
from pgcrisis.model.activity import Backend, HeldLock, LockCount, LockWait, Transactions
from pgcrisis.model.load import (
    ClientLoad,
    CpuCount,
    LoadProfile,
    RoleLoad,
    StatementLoad,
    Tick,
    WaitLoad,
)
from pgcrisis.model.server import ServerInfo
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.top.load import LoadPoint
from pgcrisis.top.view import Moment, build_view

AT = datetime(2026, 11, 26, 9, 14, 3, tzinfo=UTC)
TARGET = Target("host=db.example dbname=shop user=oncall", "test")


def _backend(pid: int, state: str | None, query: str, *, user: str = "app",
             app: str = "ordersvc", query_s: float | None = 1.0, xact_s: float | None = None,
             wait: tuple[str, str] | None = None, blocked_by: tuple[int, ...] = (),
             xmin_age: int | None = None, query_id: int | None = None) -> Backend:
    return Backend(pid=pid, datname="shop", usename=user, application_name=app,
                   client_addr="10.0.0.7", backend_type="client backend", state=state,
                   xact_age_s=xact_s if xact_s is not None else query_s, query_age_s=query_s,
                   state_age_s=query_s, wait_event_type=wait[0] if wait else None,
                   wait_event=wait[1] if wait else None, query=query, blocked_by=blocked_by,
                   backend_xmin_age=xmin_age, backend_age_s=3600.0, query_id=query_id)


#: the chain's load over the last 5 s: three sessions queued on locks, one sleeping, one on CPU
CHAIN_LOAD = LoadProfile(
    5.0, 5, CpuCount(4, "4 CPUs as given by --cpus"),
    (WaitLoad("Lock", "relation", 3.0), WaitLoad("CPU", None, 1.2),
     WaitLoad("Timeout", "PgSleep", 1.0), WaitLoad("IO", "DataFileRead", 0.4)),
    tuple(Tick(6, 1, 0) for _ in range(5)), source="recording")


def history(at: datetime, cpus: int | None, shape: tuple[float, ...], n: int = 60
            ) -> tuple[LoadPoint, ...]:
    """The minute before ``at``, a point a second: the classes of ``shape`` (SHOWN_CLASSES
    order) growing from nothing to ``shape`` over the minute (fixed: the same each run)."""
    return tuple(LoadPoint(at - timedelta(seconds=n - 1 - i),
                           tuple(round(v * (i + 1) / n, 2) for v in shape), cpus)
                 for i in range(n))


def chain_snapshot(*, superuser: bool = True) -> Snapshot:
    """A lock chain: pid 101 runs a long statement on orders, pid 102's ALTER TABLE queues
    behind it, readers 103 and 104 queue behind the ALTER; pid 105 sits idle in a
    transaction holding the xmin horizon; 106 is idle, 107 runs a short query."""
    lock = ("Lock", "relation")
    activity = (
        _backend(101, "active", "SELECT count(*) FROM orders, pg_sleep(600)",
                 app="report-job", query_s=312.0),
        _backend(102, "active", "ALTER TABLE orders ADD COLUMN note text", user="deploy",
                 app="migration", query_s=95.0, wait=lock, blocked_by=(101,)),
        _backend(103, "active", "SELECT * FROM orders WHERE id = 42", query_s=61.0,
                 wait=lock, blocked_by=(102,)),
        _backend(104, "active", "SELECT sum(total) FROM orders", query_s=58.0, wait=lock,
                 blocked_by=(102,)),
        _backend(105, "idle in transaction", "UPDATE carts SET total = 0 WHERE id = 7",
                 app="billing-worker", query_s=900.0, xact_s=905.0, xmin_age=25_000),
        _backend(106, "idle", "COMMIT", query_s=2.0, xact_s=None),
        _backend(107, "active", "SELECT id FROM carts WHERE owner = 'x'", query_s=0.4),
    )
    counts = (LockCount(101, 3, 3, 0, 2, True), LockCount(102, 2, 1, 1, 1, True),
              LockCount(103, 2, 1, 1, 0, True), LockCount(104, 2, 1, 1, 0, True),
              LockCount(105, 4, 4, 0, 2, True), LockCount(107, 2, 2, 0, 1, True))
    waits = (LockWait(102, "relation", "AccessExclusiveLock", "public.orders", "r"),
             LockWait(103, "relation", "AccessShareLock", "public.orders", "r"),
             LockWait(104, "relation", "AccessShareLock", "public.orders", "r"))
    server = ServerInfo(version_num=170000, server_version="17.0", database="shop",
                        current_user="oncall", is_superuser=superuser, own_pid=999,
                        settings={"max_connections": "100",
                                  "superuser_reserved_connections": "3"},
                        can_read_all_stats=superuser)
    return Snapshot(server=server, taken_at=AT, activity=activity,
                    transactions=Transactions(120_000, 40), lock_counts=counts,
                    lock_waits=waits,
                    strong_locks=(HeldLock(101, "ShareLock", "public.orders", "r", True),),
                    server_time=AT, load=CHAIN_LOAD)


#: the statement the saturated moment's clients run, and its queryid
CRUNCH = ("SELECT count(*) FROM generate_series(1, 400000) a JOIN generate_series(1, 4000) b"
          " ON a.a = b.b * 7")
CRUNCH_ID = 4242


def saturated_snapshot(cpus: int | None = 2) -> Snapshot:
    """Eight sessions of report-crunch (role reporter) on CPU running one statement, on a
    server of ``cpus`` CPUs (``None``: not known), JIT half of that statement's time."""
    activity = tuple(_backend(201 + i, "active", CRUNCH, user="reporter", app="report-crunch",
                              query_s=0.05 * (i + 1), query_id=CRUNCH_ID) for i in range(8))
    how = (f"{cpus} CPUs: the server is on this machine" if cpus else
           "the server is at db.example, not on this machine: give --cpus N, or set "
           "[server] cpus = N in pgcrisis.toml")
    load = LoadProfile(
        5.0, 5, CpuCount(cpus, how), (WaitLoad("CPU", None, 7.6), WaitLoad("LWLock",
                                                                              "WALWrite", 0.4)),
        tuple(Tick(8, 8, 0) for _ in range(5)),
        (StatementLoad(calls=80.0, exec_ms=48_000.0, rows=80.0, shared_blks_hit=10.0,
                       shared_blks_read=0.0, shared_blks_written=0.0, shared_blks_dirtied=0.0,
                       temp_bytes=0.0, wal_bytes=0.0, jit_ms=24_000.0, queryid=CRUNCH_ID,
                       query=CRUNCH, role="reporter", on_cpu=7.6, active=8.0,
                       clients=("report-crunch@10.0.0.7",)),),
        60.0, (ClientLoad("report-crunch", "10.0.0.7", "reporter", 8.0, 7.6, 0.0,
                          (CRUNCH_ID,)),),
        (RoleLoad("reporter", 8.0, 7.6, 0.0, 80.0, 48_000.0, 24_000.0),), source="recording")
    server = ServerInfo(version_num=170000, server_version="17.0", database="shop",
                        current_user="oncall", is_superuser=True, own_pid=999,
                        settings={"max_connections": "100",
                                  "superuser_reserved_connections": "3"},
                        can_read_all_stats=True)
    return Snapshot(server=server, taken_at=AT, activity=activity,
                    transactions=Transactions(120_000, 40), server_time=AT, load=load)


class FixedSource:
    """Always the same moment (optionally with the load of the minute before it)."""

    def __init__(self, snapshot: Snapshot, status: str = "live",
                 points: tuple[LoadPoint, ...] = ()) -> None:
        view = build_view(snapshot, None, target=TARGET, history=points)
        self.moment = Moment(view, snapshot, 1, status)

    def latest(self) -> Moment:
        return self.moment
