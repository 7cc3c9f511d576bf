"""Daily rollups, the same for a SQLite file and a central store (every test runs on both):
a day boundary crossed by frames of controlled times, retention that leaves the days alone,
the log's errors, and a writer killed mid-recording that resumes with nothing lost nor
counted twice. The figures are checked against sums computed here from the frames."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from pgcrisis.model.activity import Transactions
from pgcrisis.model.findings import Severity
from pgcrisis.model.health import SequenceUse
from pgcrisis.model.relations import Index, Relations, Table
from pgcrisis.store import LogErrorCount, Store, open_store, to_us
from tests import record_helpers
from tests.record_helpers import T0, backend, frame

spec = record_helpers.spec
store = record_helpers.store
central = record_helpers.central

#: an hour before midnight (UTC)
EVE = T0.replace(hour=23)


def _relations(i: int) -> Relations:
    """Two tables whose counters grow with ``i`` (orders made again at i 30: a new oid)."""
    orders_oid = 1 if i < 30 else 9
    base = i if i < 30 else i - 30
    return Relations(
        (Table(orders_oid, "public", "orders", "public.orders", "r", 10 + i, 0.0, 0, 0, 0, 0,
               n_tup_upd=2 * base, n_tup_del=base, n_tup_ins=5 * base),
         Table(2, "public", "items", "public.items", "r", 4, 0.0, 0, 0, 0, 0, n_tup_ins=7 * i)),
        (Index(3, 2, "public", "items_pkey", "public.items_pkey", "btree", ("id",), True,
               True, True, False, relpages=2),))


def _write(st: Store, minutes: range, name: str = "shop") -> None:
    w = st.writer(name, source="t")
    for i in minutes:
        at = EVE + timedelta(minutes=i)
        sessions = tuple(backend(100 + k, state="active" if k < i % 4 else "idle")
                         for k in range(i % 7))
        fields: dict[str, object] = {"activity": sessions,
                                     "transactions": Transactions(100 * i, i)}
        if i % 10 == 0:
            fields["relations"] = _relations(i)
            fields["sequences"] = (SequenceUse("public.orders_id_seq", "bigint", 1000 + i, 1,
                                               2**31 - 1, 1, False, "orders.id", "integer"),)
        w.append(frame(at, fields, worst=Severity.CRITICAL if i in (5, 61, 62) else None))
    w.close()


def test_days_split_at_midnight_and_survive_retention(store: Store) -> None:
    _write(store, range(0, 120))  # 23:00 to 00:59
    w = store.writer("shop", source="t")
    w.log_errors([LogErrorCount(to_us(EVE) + 3_600_000_000, "ERROR", "22012", "x", None, "a",
                                "", 4, "division by zero")])
    w.close()
    h = store.history("shop")
    first, second = h.server
    assert (first.day, second.day) == (EVE.date(), EVE.date() + timedelta(days=1))
    assert (first.samples, second.samples) == (60, 60)
    # commits: each step's growth (100 a minute), counted in the day of the later sample
    assert (first.commits, second.commits) == (5900, 6000)
    assert (first.rollbacks, second.rollbacks) == (59, 60)
    counts = [i % 7 for i in range(60)]
    assert first.connections_peak == max(counts)
    assert first.connections_p95 == sorted(counts)[math.ceil(0.95 * 60) - 1]
    assert (first.seized_minutes, second.seized_minutes) == (1, 2)
    assert (first.errors, second.errors) == (None, 4)
    assert first.max_connections == 100 and first.seconds == 59 * 60
    # tables: growth between readings (orders made again at 30: its counters from zero)
    tables = {(t.day.day, t.table): t for t in h.tables}
    day1, day2 = EVE.day, EVE.day + 1
    assert tables[(day1, "public.orders")].inserted == 4 * 50  # 0 at the oid's change
    assert tables[(day2, "public.orders")].inserted == 6 * 50
    assert tables[(day2, "public.orders")].updated == 6 * 20
    assert tables[(day1, "public.items")].inserted == 5 * 70
    assert tables[(day2, "public.items")].inserted == 6 * 70
    assert tables[(day2, "public.items")].bytes == (4 + 2) * 8192
    dbs = {d.day.day: d for d in h.databases}
    assert dbs[day2].inserted == 6 * 50 + 6 * 70
    assert dbs[day2].bytes == second.database_bytes == (10 + 110 + 4 + 2) * 8192
    seqs = [(s.day.day, s.last_value, s.max_value) for s in h.sequences]
    assert seqs == [(day1, 1050, 2**31 - 1), (day2, 1110, 2**31 - 1)]
    # retention deletes the frames, never the days
    w = store.writer("shop", source="t")
    w.maintain(EVE + timedelta(days=30), retention=timedelta(days=1),
               thin_after=timedelta(hours=1))
    w.close()
    assert store.coverage("shop") is None
    assert store.history("shop").server == h.server
    latest = store.latest_days(["shop", "nobody"], EVE.date() + timedelta(days=1))
    assert latest == {"shop": (second,), "nobody": ()}


def test_a_writer_resumed_mid_day_counts_each_sample_once(store: Store) -> None:
    _write(store, range(0, 120), "whole")
    _write(store, range(0, 45), "resumed")
    _write(store, range(45, 71), "resumed")
    _write(store, range(71, 120), "resumed")
    whole, resumed = store.history("whole"), store.history("resumed")
    assert resumed.server == whole.server and resumed.tables == whole.tables
    assert resumed.sequences == whole.sequences


def test_kill_9_while_writing_loses_nothing(spec: str) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "tests.record_processes", "write", spec],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if int(line) >= 40:
            break
    proc.kill()
    proc.wait()
    proc.stdout.close()
    st = open_store(spec, create=True)
    w = st.writer("main", source="again")  # resumes after the last committed frame
    w.close()
    cover = st.coverage("main")
    assert cover is not None
    snaps = list(st.snapshots("main", *cover))
    h = st.history("main")
    assert sum(d.samples for d in h.server) == len(snaps)
    committed = [s.transactions.committed for s in snaps if s.transactions is not None]
    assert sum(d.commits or 0 for d in h.server) == committed[-1] - committed[0]
    peak = max(len(s.activity) + sum(g.sessions for g in s.counted_sessions) for s in snaps)
    assert max(d.connections_peak or 0 for d in h.server) == peak
    st.close()


# -- a store of the pgcrisis before rollups -------------------------------------------------

#: main's last commit before rollups (its store is of schema 5)
BEFORE = "12a2302"
OLD_WRITER = textwrap.dedent("""
    import sys
    from datetime import timedelta
    from pgcrisis.model.activity import Transactions
    from pgcrisis.model.findings import Severity
    from pgcrisis.store import LogErrorCount, open_store, to_us
    from pgcrisis.store._meta import SCHEMA_VERSION
    from tests.record_helpers import T0, backend, frame
    assert SCHEMA_VERSION == 5, SCHEMA_VERSION
    eve = T0.replace(hour=23)
    st = open_store(sys.argv[1], create=True)
    w = st.writer("shop", source="old")
    for i in range(120):
        w.append(frame(eve + timedelta(minutes=i),
                       {"activity": tuple(backend(100 + k) for k in range(i % 5)),
                        "transactions": Transactions(100 * i, i)},
                       worst=Severity.CRITICAL if i == 70 else None))
    w.log_errors([LogErrorCount(to_us(eve), "ERROR", "22012", "x", None, "a", "", 3, "e")])
    w.close()
    st.close()
""")


@pytest.fixture(scope="module")
def before(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record_helpers.old_source(tmp_path_factory.mktemp("before"), BEFORE)


def test_a_store_of_the_version_before_is_rolled_up_from_its_samples(spec: str,
                                                                     before: Path) -> None:
    record_helpers.run_old(before, OLD_WRITER, spec)
    st = open_store(spec, create=True)
    folded = st.history("shop")  # read as it is: folded from the samples
    assert "rolled up from the samples" in folded.notes[0]
    w = st.writer("shop", source="new")  # upgrades the store, rebuilds the rollups
    w.close()
    rebuilt = st.history("shop")
    assert rebuilt.notes[0].startswith("rebuilt from samples on ")
    assert rebuilt.server == folded.server
    first, second = rebuilt.server
    assert (first.samples, second.samples, first.commits, second.commits) == (60, 60, 5900, 6000)
    assert (first.seized_minutes, second.seized_minutes, first.errors) == (0, 1, 3)
    cover = st.coverage("shop")
    assert cover is not None and len(list(st.snapshots("shop", *cover))) == 120
    _write(st, range(120, 125))  # the writer goes on from the rebuilt day
    assert st.history("shop").server[-1].commits == 6000 + 5 * 100
    st.close()
