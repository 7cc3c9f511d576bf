"""The recording stores' behaviour, the same for a SQLite file and a central PostgreSQL
store (every test here runs on both): what ``snapshot_at`` answers, what is stored once,
thinning and retention, a second writer, a size limit, a writer killed mid-write, readers
in other processes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from pgcrisis.collect.collector import collect
from pgcrisis.collect.session import connect
from pgcrisis.dsn import Target
from pgcrisis.errors import StoreError
from pgcrisis.model import parts
from pgcrisis.model.activity import PreparedXact
from pgcrisis.model.findings import Severity
from pgcrisis.model.health import SequenceUse, TableHealth
from pgcrisis.model.jobs import Cron
from pgcrisis.model.statements import Statement, Statements
from pgcrisis.store import Event, Store, StoreWriter, open_store
from tests import record_helpers
from tests.record_helpers import (
    T0,
    backend,
    count,
    frame,
    frame_of,
    idle_for,
    query,
    session_rows,
)

# the shared fixtures (pytest finds them by these names)
spec = record_helpers.spec
store = record_helpers.store
central = record_helpers.central

ROOT = Path(__file__).resolve().parents[1]
S = timedelta(seconds=1)
US = timedelta(microseconds=1)


def statements(calls: int) -> Statements:
    return Statements(rows=(Statement(77, "select * from orders where customer_id = $1",
                                      "app", calls, 12.5, 0.125, calls, 100, 3),),
                      db_total_exec_ms=99.5)


# -- what snapshot_at answers ---------------------------------------------------------------

def test_snapshot_at_takes_each_fields_latest_value(store: Store) -> None:
    a1 = (backend(1, state="idle in transaction", age=5.0),)
    a2 = (backend(1, state="idle in transaction", age=6.0), backend(2, age=2.0))
    writer = store.writer("main", source="test")
    writer.append(frame(T0, {"activity": a1, "statements": statements(10), "cron": Cron()},
                        kind="full", unavailable={"cron": "pg_cron is not installed"}))
    writer.append(frame(T0 + S, {"activity": a2}))
    writer.append(frame(T0 + 2 * S, {"activity": a2},
                        unavailable={"locks": "it ran past statement_timeout"}))
    writer.append(frame(T0 + 60 * S, {"activity": a2, "statements": statements(20)},
                        kind="full"))
    writer.close()

    assert store.snapshot_at("main", T0 - US) is None
    assert store.snapshot_at("elsewhere", T0) is None
    first = store.snapshot_at("main", T0)
    assert first is not None
    assert (first.taken_at, first.activity, first.statements) == (T0, a1, statements(10))
    assert first.unavailable == {"cron": "pg_cron is not installed"}
    assert store.snapshot_at("main", T0 + S - US) == first          # up to the next frame
    second = store.snapshot_at("main", T0 + S)                       # the frame itself
    assert second is not None
    assert (second.taken_at, second.activity) == (T0 + S, a2)
    assert second.statements == statements(10)                       # carried forward
    assert second.unavailable == {"cron": "pg_cron is not installed"}  # a slow part's reason
    third = store.snapshot_at("main", T0 + 59 * S)
    assert third is not None
    assert third.taken_at == T0 + 2 * S
    assert third.unavailable == {"cron": "pg_cron is not installed",
                                 "locks": "it ran past statement_timeout"}
    last = store.snapshot_at("main", T0 + 60 * S)
    assert last is not None
    assert (last.statements, last.unavailable) == (statements(20), {})
    assert store.snapshot_at("main", T0 + timedelta(days=3)) == last

    window = list(store.snapshots("main", T0, T0 + 60 * S))
    assert [s.taken_at for s in window] == [T0, T0 + S, T0 + 2 * S, T0 + 60 * S]
    assert window == [store.snapshot_at("main", s.taken_at) for s in window]
    assert list(store.snapshots("main", T0 + 3 * S, T0 + 59 * S)) == []
    assert store.coverage("main") == (T0, T0 + 60 * S)
    assert store.coverage("elsewhere") is None
    assert store.names() == ["main"]


def test_events_are_kept_in_time_order(store: Store) -> None:
    writer = store.writer("main", source="test")
    writer.event(Event(T0, "start", "recording db1"))
    writer.event(Event(T0 + 5 * S, "gap", "no sample for 5 s"))
    writer.close()
    assert store.events("main", T0, T0 + S) == [Event(T0, "start", "recording db1")]
    assert [e.kind for e in store.events("main", T0, T0 + 9 * S)] == ["start", "gap"]


def test_only_what_changed_is_written(store: Store, spec: str) -> None:
    writer = store.writer("main", source="test")
    quiet = {"activity": (backend(3, state="idle in transaction", age=9.0),),
             "lock_counts": (), "lock_waits": (), "strong_locks": (), "prepared": ()}
    for i in range(10):  # the session stays as it was: its ages grow with the clock
        fields = {**quiet, "activity": (backend(3, state="idle in transaction",
                                                age=9.0 + i),)}
        writer.append(frame(T0 + i * S, fields))
    # a frame timed before its predecessor (the server's clock went back) comes after it
    writer.append(frame(T0 + 2 * S, {**quiet, "activity": ()}))
    writer.close()
    assert count(spec, "frames") == 11
    assert count(spec, "changes") == 7 + 1   # server and six fields once, then activity
    assert len(session_rows(spec, 3)) == 1
    last = store.snapshot_at("main", T0 + timedelta(minutes=1))
    assert last is not None
    assert last.taken_at == T0 + 9 * S + US
    assert last.activity == ()
    ninth = store.snapshot_at("main", T0 + 9 * S)
    assert ninth is not None
    assert ninth.activity == (backend(3, state="idle in transaction", age=18.0),)


def test_a_session_idle_in_transaction_is_stored_once(store: Store, spec: str, db: str) -> None:
    """A real session, held across 100 real samples while other transactions take XIDs (so
    its ``backend_xid_age`` grows with every sample and its ages with every second)."""
    with psycopg.connect(db, autocommit=True) as admin:
        admin.execute("CREATE TABLE jobs (id int)")
    writer = store.writer("main", source="test")
    with (psycopg.connect(db, application_name="stuck-worker") as idle,
          psycopg.connect(db, autocommit=True) as busy,
          connect(Target(db, "test")) as probe):
        idle.execute("INSERT INTO jobs VALUES (1)")  # holds an XID from now on
        pid = idle.info.backend_pid
        # idle in transaction for a second: a row the checks act on
        until = time.monotonic() + 30
        while not idle_for(pid, 1.0)(collect(probe, parts=parts.FAST_PARTS)):
            assert time.monotonic() < until, "the session never sat idle for a second"
            time.sleep(0.1)
        samples = []
        for _ in range(100):
            busy.execute("SELECT pg_current_xact_id()")
            snapshot = collect(probe, parts=parts.FAST_PARTS)
            samples.append(snapshot)
            writer.append(frame_of(snapshot, kind="fast"))
        idle.rollback()
    writer.close()
    assert len(session_rows(spec, pid)) == 1
    first, last = samples[0].backend(pid), samples[-1].backend(pid)
    assert first is not None and last is not None
    assert last.backend_xid_age is not None and first.backend_xid_age is not None
    assert last.backend_xid_age >= first.backend_xid_age + 99
    replay = store.snapshot_at("main", samples[-1].taken_at)
    assert replay is not None
    assert replay.backend(pid) == last


# -- thinning and retention -----------------------------------------------------------------

def _busy_recording(store: Store, minutes: int) -> list[datetime]:
    """Frames every 5 s, a full one each minute, fields changing at random: sessions, a
    prepared transaction (with an age), a slow part now and then in a fast frame (sequences,
    and table health, which has ages), a warning here and there."""
    rng = random.Random(7)
    writer = store.writer("main", source="test")
    times = []
    sessions = [(), (backend(5, state="idle in transaction", age=30.0),),
                (backend(6, age=3.0, query="REFRESH MATERIALIZED VIEW sales_daily"),)]
    for i in range(minutes * 12):
        at = T0 + i * 5 * S
        fields: dict[str, object] = {
            "activity": rng.choice(sessions),
            "prepared": (PreparedXact("xa-1", "app", "app", 100.0 + 5 * i, 812),),
        }
        if rng.random() < 0.15:
            fields["sequences"] = (SequenceUse("public.orders_id_seq", "bigint", i, 1,
                                               2**63 - 1, 1, False),)
        if rng.random() < 0.1:
            fields["table_health"] = (TableHealth(16384, "public.orders", "r", 10, 1000.0,
                                                  990, rng.randrange(50), 0, 7.5 + 5 * i,
                                                  None, 3, 100 + i),)
        full = i % 12 == 0
        if full:
            fields["statements"] = statements(i)
        writer.append(frame(at, fields, kind="full" if full else "fast",
                            worst=Severity.WARNING if rng.random() < 0.03 else None))
        times.append(at)
    writer.close()
    return times


def test_thinning_keeps_the_kept_frames_exactly_as_they_were(store: Store) -> None:
    times = _busy_recording(store, minutes=70)  # thinned an hour at a time: two batches
    before = {t: store.snapshot_at("main", t) for t in times}
    moments = [T0 + timedelta(seconds=s) for s in range(0, 70 * 60, 7)]
    writer = store.writer("main", source="test")
    writer.maintain(T0 + timedelta(days=1), retention=timedelta(days=14),
                    thin_after=timedelta(hours=2))
    writer.close()
    kept = [s.taken_at for s in store.snapshots("main", T0, times[-1])]
    assert 70 <= len(kept) < len(times) / 3
    assert kept[0] == times[0] and kept[-1] == times[-1]
    for t in kept:
        assert store.snapshot_at("main", t) == before[t], t
    for t in moments:  # between kept frames, the latest kept one answers
        latest = max(k for k in kept if k <= t)
        assert store.snapshot_at("main", t) == before[latest], t


def test_retention_drops_old_days_and_keeps_what_the_first_kept_frame_had(
        store: Store, spec: str) -> None:
    writer = store.writer("main", source="test")
    early = backend(7, state="idle in transaction", age=3.0,
                    query="select * from only_seen_on_the_first_day where id = 1")
    later = backend(8, state="idle in transaction", age=3.0)
    sequence = (SequenceUse("public.orders_id_seq", "bigint", 5, 1, 2**63 - 1, 1, False),)
    writer.event(Event(T0, "start", "recording"))
    for hour in range(73):
        fields: dict[str, object] = {"activity": (early if hour < 12 else later,)}
        if hour == 0:
            fields["sequences"] = sequence
        writer.append(frame(T0 + timedelta(hours=hour), fields))
    now = T0 + timedelta(hours=73)
    writer.maintain(now, retention=timedelta(hours=36), thin_after=timedelta(days=30))
    writer.close()
    cover = store.coverage("main")
    assert cover is not None
    # SQLite cuts at the hour; the central store drops whole days (from midnight UTC)
    assert now - timedelta(hours=36 + 24) <= cover[0] <= now - timedelta(hours=36)
    assert store.snapshot_at("main", cover[0] - US) is None
    first = store.snapshot_at("main", cover[0])
    assert first is not None
    assert first.sequences == sequence              # set on the first day, never since
    assert first.activity == (later,)
    assert store.events("main", T0, now) == []
    assert all(b"only_seen_on_the_first_day" not in bytes(body)
               for (body,) in query(spec, "SELECT body FROM content"))
    if spec.startswith("postgresql://"):
        days = {name[-8:] for (name,) in query(
            spec, "SELECT relname FROM pg_class WHERE relname LIKE 'frames_r%\\_2025%'")}
        assert "20250301" not in days and "20250302" not in days


# -- refusals, limits and failures ------------------------------------------------------------

def test_a_second_writer_of_a_recording_is_refused(store: Store, spec: str) -> None:
    first = store.writer("main", source="a")
    with pytest.raises(StoreError, match="another recorder"):
        store.writer("main", source="b")
    elsewhere = open_store(spec, create=False)  # as another process would
    with pytest.raises(StoreError, match="another recorder"):
        elsewhere.writer("main", source="b")
    other = elsewhere.writer("other", source="c")  # another recording: fine
    other.close()
    first.close()
    again = elsewhere.writer("main", source="b")
    again.close()
    elsewhere.close()


def _heavy(i: int) -> dict[str, object]:
    """A frame with new content only: 4 sessions with 1 kB queries of random text."""
    rng = random.Random(i)
    return {"activity": tuple(
        backend(100 + 4 * i + k, state="idle in transaction", age=2.0,
                query="select '" + "".join(rng.choices("0123456789abcdef", k=1000)) + "'")
        for k in range(4))}


def test_a_size_limit_stops_the_writer_with_one_clear_error(store: Store, spec: str) -> None:
    writer = store.writer("main", source="test", max_bytes=1_500_000)
    with pytest.raises(StoreError, match="full") as raised:
        for i in range(5000):
            writer.append(frame(T0 + i * S, _heavy(i)))
    assert "\n" not in str(raised.value)
    assert i > 50
    with pytest.raises(StoreError, match="full"):
        writer.append(frame(T0 + 10_000 * S, _heavy(10_000)))
    writer.close()
    cover = store.coverage("main")
    assert cover is not None
    reopened = open_store(spec, create=False)
    last = reopened.snapshot_at("main", cover[1])
    assert last is not None and len(last.activity) == 4
    reopened.close()
    if not spec.startswith("postgresql://"):
        assert query(spec, "PRAGMA integrity_check") == [("ok",)]


def _writer_process(spec: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.record_processes", "write", spec],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _retrying_writer(store: Store) -> StoreWriter:
    """A writer, once the killed one's lock is gone (the server notices a dead client at
    once; allow it a few seconds)."""
    deadline = time.monotonic() + 15
    while True:
        try:
            return store.writer("main", source="resumed")
        except StoreError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_a_writer_killed_mid_write_leaves_a_store_that_resumes(spec: str) -> None:
    open_store(spec, create=True).close()
    process = _writer_process(spec)
    assert process.stdout is not None
    for _ in range(30):  # 30 frames committed, then kill it while it writes the next ones
        line = process.stdout.readline()
        assert line, process.stderr.read() if process.stderr else ""
    time.sleep(random.Random(3).uniform(0.0, 0.05))
    os.kill(process.pid, signal.SIGKILL)
    process.communicate()
    if not spec.startswith("postgresql://"):
        assert query(spec, "PRAGMA integrity_check") == [("ok",)]
    store = open_store(spec, create=False)
    cover = store.coverage("main")
    assert cover is not None
    assert store.snapshot_at("main", cover[1]) is not None
    writer = _retrying_writer(store)
    following = cover[1] + S
    writer.append(frame(following, {"activity": (backend(1, age=1.5),)}))
    writer.close()
    resumed = store.snapshot_at("main", following)
    assert resumed is not None and resumed.activity == (backend(1, age=1.5),)
    store.close()


def test_readers_in_other_processes_never_find_the_store_locked(store: Store, spec: str) -> None:
    writer = store.writer("main", source="test")
    writer.append(frame(T0, _heavy(0)))
    readers = [subprocess.Popen([sys.executable, "-m", "tests.record_processes", "read", spec,
                                 "6"], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(2)]
    i = 1
    while any(r.poll() is None for r in readers):
        writer.append(frame(T0 + i * S, _heavy(i)))
        if i % 40 == 0:  # upkeep too: thinning, retention, WAL truncation
            writer.maintain(T0 + i * S, retention=timedelta(seconds=30),
                            thin_after=timedelta(seconds=10))
        i += 1
    writer.close()
    for reader in readers:
        out, err = reader.communicate()
        assert reader.returncode == 0, out + err
        assert "errors=0" in out
