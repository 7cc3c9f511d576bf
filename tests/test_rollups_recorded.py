"""Rollups of a real recording: a recorder samples a server that pgbench and the app's own
inserts, updates and deletes keep busy; every day's figures equal what the stored frames
say, summed here independently (each figure as the last reading of the day less the last
reading before it), and the app's rows are counted exactly."""

from __future__ import annotations

import math
import subprocess
from collections import defaultdict
from collections.abc import Callable

import psycopg

from pgcrisis.model.snapshot import Snapshot
from pgcrisis.store import open_store
from tests import record_helpers
from tests.helpers import PgServer
from tests.record_helpers import Background, collected

spec = record_helpers.spec
central = record_helpers.central


def _app_counted(n_ins: int, n_upd: int, n_del: int) -> Callable[[Snapshot], bool]:
    def ready(s: Snapshot) -> bool:
        t = s.relations.find("public", "app_rows")
        return t is not None and (t.n_tup_ins, t.n_tup_upd, t.n_tup_del) == (n_ins, n_upd, n_del)
    return ready


def _telescoped(snaps: list[Snapshot], value: Callable[[Snapshot], int | None]) -> dict[int, int]:
    """Per day (days since the epoch): the day's last reading less the one before the day
    (the recording's first, for its first day)."""
    out: dict[int, int] = {}
    base: int | None = None
    last: dict[int, int] = {}
    for s in snaps:
        v = value(s)
        if v is None:
            continue
        if base is None:
            base = v
        last[_day(s)] = v
    for d in sorted(last):
        out[d], base = last[d] - (base or 0), last[d]
    return out


def _day(s: Snapshot) -> int:
    assert s.server_time is not None
    return int(s.server_time.timestamp()) // 86_400


def test_a_recording_under_pgbench_rolls_up_to_its_samples(pg: PgServer, db: str,
                                                          spec: str) -> None:
    pgbench = str(pg.tool("pgbench"))
    subprocess.run([pgbench, "-i", "-s", "1", "-q", db], check=True, capture_output=True)
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE app_rows (id serial PRIMARY KEY, v int)")
    with Background(db, spec) as rec:
        rec.wait_frames(4)
        subprocess.run([pgbench, "-c", "2", "-t", "300", "-n", db], check=True,
                       capture_output=True)
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute("INSERT INTO app_rows (v) SELECT g FROM generate_series(1, 50) g")
            conn.execute("UPDATE app_rows SET v = v + 1 WHERE id <= 20")
            conn.execute("DELETE FROM app_rows WHERE id > 40")
            conn.execute("ANALYZE app_rows")
        collected(db, _app_counted(50, 20, 10))
        rec.wait_frames(24)  # full frames read the app's counters after that
    st = open_store(spec, create=False)
    cover = st.coverage("test")
    assert cover is not None
    snaps = list(st.snapshots("test", *cover))
    h = st.history("test")
    st.close()
    assert len(snaps) >= 30
    server = {d.day.toordinal() - 719163: d for d in h.server}
    days: dict[int, list[Snapshot]] = defaultdict(list)
    for s in snaps:
        days[_day(s)].append(s)
    assert {d: server[d].samples for d in server} == {d: len(v) for d, v in days.items()}
    commits = _telescoped(snaps, lambda s: s.transactions and s.transactions.committed)
    assert {d: server[d].commits for d in server} == commits
    assert sum(commits.values()) >= 600  # pgbench's transactions
    wal = _telescoped(snaps, lambda s: s.load.counters[-1].wal_lsn
                      if s.load and s.load.counters else None)
    assert {d: server[d].wal_bytes for d in server} == wal and sum(wal.values()) > 0
    for d, day_snaps in days.items():
        clients = sorted(sum(b.sessions for b in s.all_sessions() if b.is_client)
                         for s in day_snaps)
        assert server[d].connections_peak == clients[-1]
        assert server[d].connections_p95 == clients[math.ceil(0.95 * len(clients)) - 1]
    for table in ("public.app_rows", "public.pgbench_accounts", "public.pgbench_history"):
        rows = [t for t in h.tables if t.table == table]
        for what in ("inserted", "updated", "deleted"):
            counted = _telescoped(snaps, lambda s, w=what, name=table: next(
                (getattr(t, "n_tup_" + w[:3]) for t in s.relations.tables if t.name == name),
                None))
            assert {r.day.toordinal() - 719163: getattr(r, what) for r in rows} == counted
    app = [t for t in h.tables if t.table == "public.app_rows"]
    assert (sum(t.inserted or 0 for t in app), sum(t.updated or 0 for t in app),
            sum(t.deleted or 0 for t in app)) == (50, 20, 10)
    last = next(t for t in snaps[-1].relations.tables if t.name == "public.app_rows")
    assert app[-1].bytes is not None and app[-1].bytes >= last.relpages * 8192
