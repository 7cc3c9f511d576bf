"""The log's counts in the recording store, the same for a SQLite file and a central PostgreSQL
store (every test runs on both): errors by role and database, slow statements with their
histogram and plan (stored once), retention; and a store written by the pgcrisis before
schema 5 (its own code, taken from git) upgraded in place without losing a row."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from pgcrisis.store import LogErrorCount, LogSlowCount, histogram, open_store, to_us
from pgcrisis.store._meta import SCHEMA_VERSION
from tests import record_helpers
from tests.record_helpers import T0, backend, frame

# the shared fixtures (pytest finds them by these names)
spec = record_helpers.spec
store = record_helpers.store
central = record_helpers.central

#: the last commit whose store is of schema 3 (before the load frames' 4 and this 5)
BEFORE = "a98827b"
M = to_us(T0)
MINUTE = 60_000_000
PLAN = "Seq Scan on orders  (cost=0.00..35.50 rows=2550 width=4)\n  Filter: (id = 5)"


def _slow(t: int, durations: list[float], plan: str = "", role: str = "web") -> LogSlowCount:
    return LogSlowCount(t, "SELECT * FROM orders WHERE id = ?", 77, "order_page", "shop-web",
                        role, "shop", len(durations), sum(durations), max(durations),
                        histogram.of(durations), plan)


def _whole(spec: str) -> tuple[list[LogErrorCount], list[LogSlowCount]]:
    st = open_store(spec, create=False)
    try:
        start, end = T0 - timedelta(days=1), T0 + timedelta(days=1)
        return st.log_errors("shop", start, end), st.log_slow("shop", start, end)
    finally:
        st.close()


def test_slow_statements_add_up_per_minute_and_keep_their_latest_plan(spec: str) -> None:
    st = open_store(spec, create=True)
    writer = st.writer("shop", source="test")
    writer.log_slow([_slow(M, [10.0, 20.0], PLAN), _slow(M, [5.0], role="report")])
    writer.log_slow([_slow(M, [400.0]), _slow(M + MINUTE, [1.0], PLAN)])  # a later read
    writer.log_errors([LogErrorCount(M, "ERROR", "22012", "SELECT ?/?", None, "shop-web",
                                     "report", 2, "division by zero", "web", "shop")] * 2)
    writer.close()
    st.close()
    errors, slow = _whole(spec)
    assert [(e.count, e.role, e.database) for e in errors] == [(4, "web", "shop")]
    by = {(s.t, s.role): s for s in slow}
    web = by[(M, "web")]
    assert (web.count, web.total_ms, web.max_ms) == (3, 430.0, 400.0)
    assert web.histogram == histogram.of([10.0, 20.0, 400.0])
    assert web.plan == PLAN and by[(M + MINUTE, "web")].plan == PLAN
    assert by[(M, "report")].plan == "" and by[(M, "report")].count == 1
    assert (web.statement, web.queryid, web.tag, web.application, web.database) == (
        "SELECT * FROM orders WHERE id = ?", 77, "order_page", "shop-web", "shop")
    assert _plan_copies(spec) == 1


def _plan_copies(spec: str) -> int:
    """How many times the store holds the plan's text."""
    query = "SELECT count(*) FROM {}content WHERE body = {}"
    if spec.startswith("postgresql://"):
        with psycopg.connect(spec) as conn:
            row = conn.execute(query.format("pgcrisis_record.", "%s"), [PLAN.encode()]).fetchone()
    else:
        import sqlite3
        with sqlite3.connect(spec) as conn:
            row = conn.execute(query.format("", "?"), [PLAN.encode()]).fetchone()
    assert row is not None
    return int(row[0])


def test_retention_drops_old_slow_minutes_with_their_errors(spec: str) -> None:
    st = open_store(spec, create=True)
    writer = st.writer("shop", source="test")
    old, kept = T0 - timedelta(days=3), T0
    writer.append(frame(old, {"activity": (backend(1),)}))
    writer.append(frame(kept, {"activity": (backend(1),)}))
    writer.log_slow([_slow(to_us(old), [3.0], PLAN), _slow(to_us(kept), [4.0])])
    writer.maintain(kept + timedelta(hours=1), retention=timedelta(days=1),
                    thin_after=timedelta(days=30))
    writer.close()
    st.close()
    _, slow = _whole(spec)
    assert [s.t for s in slow] == [to_us(kept)]


# -- a store of the pgcrisis before ---------------------------------------------------------

@pytest.fixture(scope="module")
def before(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The source of pgcrisis at :data:`BEFORE` (its store code and its test helpers)."""
    return record_helpers.old_source(tmp_path_factory.mktemp("before"), BEFORE)


OLD_WRITER = textwrap.dedent("""
    import sys
    from pgcrisis.store import LogErrorCount, open_store, to_us
    from pgcrisis.store._meta import SCHEMA_VERSION
    from tests.record_helpers import T0, backend, frame
    assert SCHEMA_VERSION == 3, SCHEMA_VERSION
    st = open_store(sys.argv[1], create=True)
    w = st.writer("shop", source="old")
    w.append(frame(T0, {"activity": (backend(1, state="idle in transaction", age=5.0,
                                               query="select 42"),)}))
    w.log_errors([LogErrorCount(to_us(T0), "ERROR", "22012", "SELECT ?/?", None, "shop-web",
                                "report", 3, "division by zero")])
    w.close()
    st.close()
""")


def test_a_store_of_schema_3_is_upgraded_in_place(spec: str, before: Path) -> None:
    record_helpers.run_old(before, OLD_WRITER, spec)
    # read as it is (no writer yet): the old rows, no role, no slow statements
    errors, slow = _whole(spec)
    assert [(e.count, e.role, e.database, e.sample) for e in errors] == [
        (3, "", "", "division by zero")] and slow == []
    st = open_store(spec, create=True)
    writer = st.writer("shop", source="new")  # brings the tables up to date
    same = LogErrorCount(M, "ERROR", "22012", "SELECT ?/?", None, "shop-web", "report", 2,
                         "division by zero")
    writer.log_errors([same, LogErrorCount(M, "ERROR", "22012", "SELECT ?/?", None,
                                           "shop-web", "report", 1, "x", "web", "shop")])
    writer.log_slow([_slow(M, [12.5], PLAN)])
    writer.close()
    snapshot = st.snapshot_at("shop", T0)
    st.close()
    assert snapshot is not None and snapshot.activity[0].query == "select 42"
    errors, slow = _whole(spec)
    assert sorted((e.count, e.role) for e in errors) == [(1, "web"), (5, "")]
    assert [(s.count, s.plan) for s in slow] == [(1, PLAN)]
    assert _schema(spec) == SCHEMA_VERSION


def _schema(spec: str) -> int:
    query = "SELECT value FROM {}meta WHERE key = 'schema'"
    if spec.startswith("postgresql://"):
        with psycopg.connect(spec) as conn:
            row = conn.execute(query.format("pgcrisis_record.")).fetchone()
    else:
        import sqlite3
        with sqlite3.connect(spec) as conn:
            row = conn.execute(query.format("")).fetchone()
    assert row is not None
    return int(row[0])

