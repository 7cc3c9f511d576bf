"""The recording's encoding: real snapshots round-trip exactly, a frame keeps every row a
check acts on (the same findings from the replay as from the original), and old layouts
still read."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import msgspec
import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pgcrisis.checks.registry import run_checks
from pgcrisis.errors import StoreError
from pgcrisis.lab.locks import LeakyRecursiveDelete
from pgcrisis.model.activity import Backend, LockCount
from pgcrisis.model.parts import RECORDED_FIELDS
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.record.keep import LOCK_COUNT_MIN, keeps_row, kept
from pgcrisis.store import Store
from pgcrisis.store._clocks import Refs, seconds_age, seconds_origin
from pgcrisis.store._codec import (
    FIELD_TYPES,
    SERVER_FIELD,
    Codec,
    Sessions,
    dumps,
    loads,
    unseal,
)
from pgcrisis.store._layout import (
    DecodeContext,
    Decoders,
    Encoder,
    Layout,
    RowRefs,
    StrRef,
    type_key,
)
from pgcrisis.store._load import BASE_FIELD
from tests import record_helpers
from tests.record_helpers import SERVER, T0, backend, collected, frame_of, idle_for
from tests.scenarios.locks import IdleTransactionChain, PreparedTransactionBlocker

# the shared fixtures (pytest finds them by these names)
spec = record_helpers.spec
store = record_helpers.store
central = record_helpers.central


class Memory:
    """An encode context that keeps strings and rows in dicts (the codec alone, no store)."""

    def __init__(self, refs: Refs) -> None:
        self.refs = refs
        self.texts: dict[int, str] = {}
        self.plain_rows: dict[int, Any] = {}

    def string(self, text: str) -> StrRef:
        self.texts[len(self.texts) + 1] = text
        return StrRef(len(self.texts))

    def rows(self, values: Sequence[Any], encode: Encoder, *, same_always: bool) -> RowRefs:
        ids = []
        for value in values:
            self.plain_rows[len(self.plain_rows) + 1] = loads(dumps(encode(value, self)))
            ids.append(len(self.plain_rows))
        return RowRefs(tuple(ids))


REFS = Refs(1_740_830_400_000_000, 7_000)


def round_trip(name: str, value: Any, refs: Refs = REFS) -> Any:
    codec = Codec()
    memory = Memory(refs)
    blob = codec.encode(name, value, memory)
    decoders = codec.decoders(codec.layout.to_json())
    ctx = DecodeContext(memory.texts, memory.plain_rows, refs)
    return codec.decode(name, loads(unseal(blob)), decoders, ctx)


@pytest.fixture
def busy_db(db: str) -> str:
    """A database with something in every part: tables, indexes, a matview, a sequence
    near its end, statements (where pg_stat_statements exists)."""
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE customers (id bigint PRIMARY KEY, name text)")
        conn.execute("CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint "
                     "REFERENCES customers, total numeric, note text)")
        conn.execute("CREATE INDEX orders_total ON orders (total) WHERE total > 100")
        conn.execute("CREATE INDEX orders_total_dup ON orders (total) WHERE total > 100")
        conn.execute("INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 500) g")
        conn.execute("INSERT INTO orders (customer_id, total) "
                     "SELECT 1 + g % 500, g FROM generate_series(1, 2000) g")
        conn.execute("CREATE MATERIALIZED VIEW sales AS SELECT customer_id, sum(total) "
                     "FROM orders GROUP BY customer_id")
        conn.execute("CREATE SEQUENCE tickets AS integer MAXVALUE 100")
        conn.execute("SELECT setval('tickets', 95)")
        conn.execute("ANALYZE")
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            for _ in range(3):
                conn.execute("SELECT count(*) FROM orders WHERE customer_id = 7")
        except psycopg.Error:
            pass
    return db


def test_every_field_of_a_real_snapshot_round_trips_exactly(busy_db: str) -> None:
    with (IdleTransactionChain(busy_db, table="queue_items", readers=2),
          PreparedTransactionBlocker(busy_db, gid="orphan-7")):
        snapshot = collected(busy_db)
    assert snapshot.activity and snapshot.prepared and snapshot.index_defs
    assert snapshot.sequences and snapshot.table_health and snapshot.relations.tables
    for name in FIELD_TYPES:
        # a recorded frame's load base is a profile too (tests/test_record_store_load.py)
        value = (snapshot.server if name == SERVER_FIELD else
                 snapshot.load if name == BASE_FIELD else getattr(snapshot, name))
        if name == "activity":  # the rows kept and the groups counted, as one value
            value = Sessions(value, kept(snapshot).counted_sessions)
        assert round_trip(name, value) == value, name


def test_a_frame_of_a_real_snapshot_reads_back_as_stored(store: Store, busy_db: str) -> None:
    with IdleTransactionChain(busy_db, table="queue_items", readers=2):
        snapshot = collected(busy_db)
    writer = store.writer("main", source="test")
    writer.append(frame_of(snapshot))
    writer.close()
    replay = store.snapshot_at("main", snapshot.taken_at)
    assert replay is not None
    stored = kept(snapshot)
    for name in RECORDED_FIELDS:
        assert getattr(replay, name) == getattr(stored, name), name
    assert replay.server == snapshot.server
    assert replay.unavailable == snapshot.unavailable


def _same_findings(store: Store, snapshot: Snapshot) -> Snapshot:
    writer = store.writer("main", source="test")
    writer.append(frame_of(snapshot))
    writer.close()
    replay = store.snapshot_at("main", snapshot.taken_at)
    assert replay is not None
    original, replayed = run_checks(snapshot), run_checks(replay)
    assert replayed.findings == original.findings
    assert replayed.skipped == original.skipped
    return replay


def test_a_lock_chain_gives_the_same_findings_replayed(store: Store, db: str) -> None:
    with IdleTransactionChain(db, readers=3) as lab:
        # a blocking idle session is news once it has sat for a second
        snapshot = collected(db, idle_for(lab.root_pid, 1.0))
    replay = _same_findings(store, snapshot)
    codes = {f.code for f in run_checks(replay).findings}
    assert {"blocking-lock", "idle-in-transaction"} <= codes
    assert replay.backend(lab.root_pid) == snapshot.backend(lab.root_pid)
    assert len(replay.activity) < len(snapshot.activity) and replay.counted_sessions
    assert sum(s.sessions for s in replay.all_sessions()) == len(snapshot.activity)


def test_a_lock_hoarder_gives_the_same_findings_replayed(store: Store, db: str) -> None:
    with LeakyRecursiveDelete(db, levels=30) as lab:
        snapshot = collected(db)
    replay = _same_findings(store, snapshot)
    assert "lock-hoarder" in {f.code for f in run_checks(replay).findings}
    assert [c.pid for c in replay.lock_counts] == [
        c.pid for c in snapshot.lock_counts if c.total >= LOCK_COUNT_MIN]
    assert lab.hoarder_pid in {c.pid for c in replay.lock_counts}


# -- what a frame keeps -----------------------------------------------------------------------

def test_sessions_that_matter_keep_their_rows_and_the_rest_are_counted() -> None:
    rows = (
        backend(1, state="idle", age=0.2),
        backend(2, state="idle", age=0.3),
        backend(3, state="active", age=0.01),
        backend(4, state="idle in transaction", age=0.01),          # idle in transaction
        backend(5, state="active", age=0.01, blocked_by=(4,), wait=("Lock", "relation")),
        backend(6, state="active", age=1.5),                        # a second-long statement
        backend(7, state="active", age=0.01, query="/* nightly */ VACUUM orders"),
        backend(8, state="active", age=0.01, xmin_age=5000),       # holds the horizon
        backend(9, state="active", age=0.01),                      # named by a lock row
        backend(10, state=None, age=None, backend_type="checkpointer"),
    )
    named = (LockCount(9, LOCK_COUNT_MIN, LOCK_COUNT_MIN, 0, 1),)  # a lock row names pid 9
    out = kept(Snapshot(SERVER, T0, activity=rows, lock_counts=named))
    assert [b.pid for b in out.activity] == [4, 5, 6, 7, 8, 9]
    assert [(g.state, g.backend_type, g.sessions) for g in out.counted_sessions] == [
        ("idle", "client backend", 2), ("active", "client backend", 1),
        (None, "checkpointer", 1)]
    assert out.counted_sessions[0].application_name == "web"
    assert sum(s.sessions for s in out.all_sessions()) == len(rows)
    assert kept(out) == out  # keeping twice changes nothing
    sessions = Sessions(out.activity, out.counted_sessions)
    assert round_trip("activity", sessions) == sessions
    idle_after_ddl = dataclasses.replace(
        backend(11, state="idle", age=500.0, query="CREATE TABLE t ()"), xact_age_s=None)
    assert not keeps_row(idle_after_ddl, set())  # DDL finished long ago: nothing running


def test_only_large_lock_counts_are_kept() -> None:
    counts = (LockCount(1, 3, 3, 0, 1), LockCount(2, LOCK_COUNT_MIN, LOCK_COUNT_MIN, 0, 9),
              LockCount(3, 900, 900, 0, 450))
    out = kept(Snapshot(SERVER, T0, lock_counts=counts, activity=(backend(2), backend(3))))
    assert [c.pid for c in out.lock_counts] == [2, 3]
    assert [b.pid for b in out.activity] == [2, 3]  # their sessions keep full rows


# -- ages and layouts -----------------------------------------------------------------------

@given(st.floats(min_value=0, max_value=1e9, allow_nan=False))
def test_any_age_comes_back_exactly(age: float) -> None:
    ref = 1_740_830_400_123_456
    assert seconds_age(seconds_origin(age, ref), ref) == age


@given(st.integers(min_value=0, max_value=10**12))
def test_an_age_in_whole_microseconds_is_stored_as_its_origin(us: int) -> None:
    ref = 1_740_830_400_123_456
    assert seconds_origin(us / 1_000_000, ref) == ref - us


def test_rows_written_under_an_older_layout_are_read_by_name() -> None:
    """A store written when Backend had its fields in another order, one field more (since
    dropped) and the last four (the XID ages, the connection's age, the queryid) not yet
    there."""
    current = [f.name for f in dataclasses.fields(Backend)]
    old_names = ["query", "dropped_since", *[n for n in current[:-4] if n != "query"]]
    layout = Layout({**Codec().layout.types, type_key(Backend): tuple(old_names)})
    values = {"query": "select 1", "dropped_since": 42, "pid": 9, "datname": "app",
              "usename": "u", "application_name": "web", "client_addr": None,
              "backend_type": "client backend", "state": "active", "xact_age_s": 2.5,
              "query_age_s": 2.5, "state_age_s": 2.5, "wait_event_type": None,
              "wait_event": None, "blocked_by": []}
    ref = Refs(10_000_000, 0)
    plain = [values[n] if not n.endswith("_age_s") else ref.seconds_us - 2_500_000
             for n in old_names]
    decoded = Decoders(layout).decoder(Backend)(plain, DecodeContext({}, {}, ref))
    assert decoded == Backend(9, "app", "u", "web", None, "client backend", "active", 2.5,
                              2.5, 2.5, None, None, "select 1", ())
    without_pid = Layout({type_key(Backend): tuple(n for n in old_names if n != "pid")})
    with pytest.raises(StoreError, match="lack a field"):
        Decoders(without_pid).decoder(Backend)([v for v, n in zip(plain, old_names,
                                                                  strict=True) if n != "pid"],
                                               DecodeContext({}, {}, ref))


def test_a_session_row_is_a_fraction_of_msgspecs_own_encoding() -> None:
    row = backend(12345, state="idle in transaction", age=3.25, app="billing-worker",
                  query="select * from orders where id = $1 for update")
    memory = Memory(Refs(1_740_830_400_000_000, 0))
    Codec().encode("activity", (row,), memory)
    (plain,) = memory.plain_rows.values()
    assert len(dumps(plain)) * 3 < len(msgspec.msgpack.encode(row))
