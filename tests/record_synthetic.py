"""A synthetic recording: what a busy server looks like to the recorder, frame by frame.

200 sessions, most of them short-lived (idle, or running statements of milliseconds, their
pids recycled as clients reconnect), a few long-lived (two idle in transaction for hours, a
report query that runs for minutes, one holding the horizon, a lock queue now and then); and
every minute the slow parts of a mid-sized database: 300 tables with their indexes, health
and statistics, 200 statements, sequences, matviews, cron jobs. Counters move for the busy
fraction of each. Every frame is a pure function of its number, so a test can say what any
moment must read back as, and a bench can write weeks of it.

Used by ``tests/test_record_store_synthetic.py`` (correctness on a 14-day store) and
``bench/record_store.py`` (size and speed).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from pgcrisis.model.activity import Backend, HeldLock, LockCount, LockWait
from pgcrisis.model.findings import Severity
from pgcrisis.model.health import (
    DatabaseInfo,
    IndexDef,
    ReplicationSlot,
    SequenceUse,
    ServerHealth,
    TableHealth,
)
from pgcrisis.model.jobs import Cron, CronJob, JobRuns, JobStatement
from pgcrisis.model.matviews import Matview, Matviews
from pgcrisis.model.parts import FAST_PARTS, RECORDED_PARTS
from pgcrisis.model.relations import ForeignKey, Index, Relations, Table
from pgcrisis.model.server import ServerInfo
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.model.statements import IndexAdviceSet, Statement, Statements
from pgcrisis.record.keep import kept
from pgcrisis.record.recorder import frame_of
from pgcrisis.store import Frame, StoreWriter

APPS = ("web", "web", "web", "api", "api", "worker", "billing", "reports")
STATES = ("idle", "idle", "idle", "idle", "idle", "active", "active", "idle in transaction")
WAITS = ((None, None), (None, None), ("IO", "DataFileRead"), ("LWLock", "BufferMapping"),
         ("Client", "ClientRead"))
SETTINGS = {"max_connections": "300", "max_locks_per_transaction": "64",
            "autovacuum_naptime": "60", "track_activity_query_size": "1024",
            "shared_preload_libraries": "pg_stat_statements,pg_cron", "work_mem": "4096"}
US = 1_000_000


def _s(seconds: float) -> float:
    """Seconds in whole microseconds, as the server measures an age."""
    return round(seconds * US) / US


@dataclass(frozen=True, slots=True)
class Load:
    """The shape of the synthetic server; frames start at ``start``, ``interval_s`` apart."""

    start: datetime
    interval_s: float = 1.0
    sessions: int = 200
    tables: int = 300
    statements: int = 200
    busy_share: float = 0.1   # the share of tables and statements whose counters move
    seed: int = 1

    def time(self, i: int) -> datetime:
        return self.start + timedelta(microseconds=round(i * self.interval_s * US))

    def seconds(self, i: int) -> float:
        """Seconds since the start, in whole microseconds (as the server measures)."""
        return round(i * self.interval_s * US) / US


def server(load: Load) -> ServerInfo:
    return ServerInfo(160004, "16.4", "shop", "pgcrisis", False, 31337, SETTINGS,
                      {"pg_stat_statements": "1.10", "plpgsql": "1.0"},
                      frozenset({"pg_stat_statements", "pg_cron", "hypopg"}),
                      frozenset({"pg_stat_statements", "pg_cron"}), True)


def _short(load: Load, i: int, k: int, rng: random.Random) -> Backend:
    """Short-lived session slot ``k``: its client reconnects every few minutes."""
    life = 60 + (k * 37) % 600
    pid = 20_000 + k * 1000 + int(load.seconds(i) // life) % 1000
    state = rng.choice(STATES[:-1] if k % 10 else STATES)
    wait = rng.choice(WAITS) if state == "active" else ("Client", "ClientRead")
    age = rng.randrange(1, 900_000) / US  # under a second: nothing a check would act on
    host = k % 12  # twelve application servers, each running one of the apps
    app = APPS[host % len(APPS)]
    return Backend(pid, "shop", f"{app}_user", app, f"10.0.1.{10 + host}",
                   "client backend", state, None if state == "idle" else age, age, age,
                   wait[0], wait[1], f"select * from items where shard = {k % 13} and id = $1",
                   (), None, rng.randrange(1, 900) if state != "idle" else None)


def _long(load: Load, i: int) -> list[Backend]:
    """The long-lived sessions: two idle in transaction, a report, a horizon holder."""
    now = load.seconds(i)
    out = []
    for n, since in ((1, 0.0), (2, 3600.0)):
        if now >= since:
            age = _s(now - since + 0.125)
            out.append(Backend(9000 + n, "shop", "billing_user", "billing-worker", "10.0.9.9",
                               "client backend", "idle in transaction", age, age, _s(age - 0.1),
                               "Client", "ClientRead",
                               "update invoices set state = 'sent' where batch = $1",
                               (), 4242 + n, None))
    report_age = _s(now % 900 + 0.5)
    out.append(Backend(9100 + int(now // 900), "shop", "reports_user", "reports", "10.0.8.1",
                       "client backend", "active", report_age, report_age, report_age,
                       "IO", "DataFileRead",
                       "select customer_id, sum(total) from orders join items using (order_id)"
                       " group by customer_id", (), None, 120_000))
    return out


def _locks(load: Load, i: int) -> dict[str, Any]:
    """A lock queue for 20 s every 5 minutes: a migration waits, two readers behind it."""
    now = load.seconds(i)
    if now % 300 >= 20:
        return {"activity": [], "lock_counts": (), "lock_waits": (), "strong_locks": ()}
    waited = _s(now % 300 + 0.25)
    ddl = Backend(9500, "shop", "deploy", "migration", "10.0.5.5", "client backend", "active",
                  waited, waited, waited, "Lock", "relation",
                  "alter table orders add column note text", (9001,), 900, 1200)
    readers = [Backend(9600 + r, "shop", "web_user", "web", "10.0.0.9", "client backend",
                       "active", waited, waited, waited, "Lock", "relation",
                       "select * from orders where id = $1", (9500,), None, 15)
               for r in range(2)]
    return {"activity": [ddl, *readers],
            "lock_counts": (LockCount(9001, 48, 48, 0, 20),),
            "lock_waits": (LockWait(9500, "relation", "AccessExclusiveLock", "public.orders",
                                    "r"),),
            "strong_locks": (HeldLock(9500, "AccessExclusiveLock", "public.orders", "r",
                                      False),)}


def fast_fields(load: Load, i: int) -> dict[str, Any]:
    """Sessions, locks and prepared transactions at frame ``i``."""
    rng = random.Random(load.seed * 1_000_003 + i)
    locks = _locks(load, i)
    sessions = [_short(load, i, k, rng) for k in range(load.sessions - 8)]
    sessions += _long(load, i) + locks.pop("activity")
    counts = tuple(LockCount(b.pid, rng.randrange(1, 9), 3, 0, 2) for b in sessions[:50])
    return {"activity": tuple(sessions),
            "lock_counts": locks["lock_counts"] + counts,
            "lock_waits": locks["lock_waits"], "strong_locks": locks["strong_locks"],
            "prepared": ()}


@cache
def _catalog(tables: int) -> tuple[tuple[Table, ...], tuple[Index, ...], tuple[IndexDef, ...]]:
    ts, ix, defs = [], [], []
    for n in range(tables):
        oid = 20_000 + n * 10
        name = f"public.table_{n:04d}"
        ts.append(Table(oid, "public", f"table_{n:04d}", name, "r", 100 + n, 1000.0 + n,
                        0, 0, 0, 1000 + n))
        for j, col in enumerate(("id", "created_at")):
            ix.append(Index(oid + 1 + j, oid, "public", f"table_{n:04d}_{col}",
                            f"public.table_{n:04d}_{col}", "btree", (col,), True, j == 0,
                            j == 0, False, 10 + n))
            defs.append(IndexDef(oid + 1 + j, oid, name, "public", f"table_{n:04d}_{col}",
                                 f"public.table_{n:04d}_{col}", "btree", (f"{j + 1}:{col}",),
                                 (), None, None, j == 0, j == 0, None, True, True, False,
                                 10 + n, 0,
                                 f"CREATE INDEX table_{n:04d}_{col} ON {name} USING btree "
                                 f"({col})"))
    return tuple(ts), tuple(ix), tuple(defs)


def slow_fields(load: Load, i: int) -> dict[str, Any]:
    """The slow parts at frame ``i`` (read once a minute): counters of the busy share move
    with time, the rest stay as they were."""
    minute = int(load.seconds(i) // 60)
    busy_t = max(1, int(load.tables * load.busy_share))
    busy_s = max(1, int(load.statements * load.busy_share))
    tables, indexes, defs = _catalog(load.tables)
    tables = tuple(replace(t, seq_scan=minute * 3, idx_scan=minute * 50) if n < busy_t else t
                   for n, t in enumerate(tables))
    defs = tuple(replace(d, idx_scan=minute * 25) if n < 2 * busy_t else d
                 for n, d in enumerate(defs))
    health = tuple(TableHealth(t.oid, t.name, "r", t.relpages, t.reltuples, 1000,
                               (minute * 7) % 500 if n < busy_t else 3, 0,
                               _s(load.seconds(i) % 3600 + 0.5) if n < busy_t else None, None,
                               minute // 60 if n < busy_t else 0, 5000 + (i if n < busy_t else 0))
                   for n, t in enumerate(tables))
    rows = tuple(Statement(7_000_000 + n, f"select * from table_{n:04d} where id = $1 "
                           "and created_at > now() - interval '1 day'", "web_user",
                           minute * 40 if n < busy_s else 100 + n,
                           float(minute * 20 if n < busy_s else n), 0.5, 10, 100, 3)
                 for n in range(load.statements))
    job = CronJob(1, "refresh-sales", "*/5 * * * *",
                  "REFRESH MATERIALIZED VIEW CONCURRENTLY public.sales_daily", "shop",
                  "postgres", True, (JobStatement("refresh",
                                                  "REFRESH MATERIALIZED VIEW CONCURRENTLY "
                                                  "public.sales_daily", "public.sales_daily",
                                                  True, True),))
    runs = JobRuns(1, 50, 50, 0, 0, 0, None, 0, None, 0, "succeeded", None,
                   _s(load.seconds(i) % 300 + 0.25), 15_000.5, 2.5, 4.0, 300.0, 0)
    return {
        "statements": Statements(rows, True, float(minute * 1000), 12),
        "relations": Relations(tables, indexes, tuple(
            ForeignKey(90_000 + n, f"fk_{n}", tables[n].oid, tables[n].name, ("parent_id",),
                       tables[0].oid, tables[0].name, ("id",))
            for n in range(1, min(40, len(tables))))),
        "index_advice": IndexAdviceSet((), True, 0),
        "matviews": Matviews((Matview(80_000, "public.sales_daily", True, True, "sales_daily",
                                      True, 1, 200, 5000.0, minute),)),
        "cron": Cron((job,), (runs,)),
        "server_health": ServerHealth(SETTINGS, (
            DatabaseInfo("shop", True, False, True, 150_000 + i, 1000, -1),
            DatabaseInfo("postgres", True, False, True, 140_000 + i, 900, -1)), (),
            (ReplicationSlot("standby_1", "physical", None, None, True, 3211, False, 10 + i % 7,
                             None, 1024 * (i % 13), "reserved"),)),
        "table_health": health,
        "index_defs": defs,
        "sequences": tuple(SequenceUse(f"public.table_{n:04d}_id_seq", "bigint",
                                       minute * 10 if n < 5 else 100, 1, 2**63 - 1, 1, False,
                                       f"public.table_{n:04d}.id", "bigint")
                           for n in range(50)),
    }


def frame(load: Load, i: int, *, full: bool) -> Frame:
    """Frame ``i``: the fast parts, and the slow ones too when ``full``."""
    at = load.time(i)
    fields = fast_fields(load, i)
    if full:
        fields.update(slow_fields(load, i))
    worst = Severity.WARNING if load.seconds(i) % 300 < 20 else None
    snapshot = Snapshot(server=server(load), taken_at=at, server_time=at, **fields)
    return frame_of(snapshot, RECORDED_PARTS if full else FAST_PARTS, local_time=at,
                    worst_severity=worst)


def expected(load: Load, i: int, last_full: int) -> Snapshot:
    """What ``snapshot_at`` must read back at frame ``i`` (``last_full``: the latest full
    frame at or before it)."""
    return kept(Snapshot(server=server(load), taken_at=load.time(i), server_time=load.time(i),
                         **fast_fields(load, i), **slow_fields(load, last_full)))


def write(writer: StoreWriter, load: Load, *, days: float, detail_hours: float,
          thinned_every_s: int = 60, full_every_s: int = 60) -> list[int]:
    """Write ``days`` of ``load`` the way a recording looks once thinned: one full frame
    every ``thinned_every_s`` seconds, then every frame of the last ``detail_hours`` (a full
    one each ``full_every_s``). Returns the frame numbers written."""
    per_s = 1 / load.interval_s
    end = int(days * 86_400 * per_s)
    detail = end - int(detail_hours * 3600 * per_s)
    step, full = int(thinned_every_s * per_s), int(full_every_s * per_s)
    written = [*range(0, detail, step), *range(detail - detail % full, end)]
    for i in dict.fromkeys(written):
        writer.append(frame(load, i, full=i < detail or i % full == 0))
    return list(dict.fromkeys(written))
