"""A recorded frame's load profile is stored as its samples' own sessions and averaged again
when read (store schema 4): every frame read back (one moment, a window walked, after
thinning) carries the very profile the recorder judged; a store of schema 3, whose frames
hold the averages themselves, reads as it was and is brought up to date in place, every
frame kept.

The frames are a real server's, taken the way the recorder takes them (one ``FrameLoad``
across passes, full passes that difference pg_stat_statements) while sessions sleep, crunch
and queue on a row lock, so the samples of a window differ from each other."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgcrisis.collect.collector import collect
from pgcrisis.collect.load_frames import FRAME_SAMPLES, FrameLoad
from pgcrisis.collect.session import connect
from pgcrisis.dsn import Target
from pgcrisis.lab.scenario import Worker, wait_until
from pgcrisis.model.load import LoadProfile
from pgcrisis.model.load_samples import SeenGroup
from pgcrisis.model.parts import FAST_PARTS, RECORDED_PARTS
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.store import Store, open_store
from pgcrisis.store._codec import Codec, current_layout
from pgcrisis.store._layout import Layout, type_key
from pgcrisis.store._meta import SCHEMA_VERSION
from pgcrisis.store._sqlite import SqliteStore
from tests.helpers import PgServer
from tests.record_helpers import as_older_schema, frame_of

T0 = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
#: passes taken, and which of them are full (pg_stat_statements differenced)
PASSES, FULL = 14, (0, 6, 12)
#: passes from which one more session queues on the row lock (the samples of a window differ)
QUEUED = (1, 3, 4, 8, 11)


def _waiting(dsn: str) -> int:
    """Sessions waiting on a lock."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity"
                           " WHERE wait_event_type = 'Lock'").fetchone()
    return int(row[0]) if row else 0


def _released() -> bool:
    """Whether the worker running this has been let go (:meth:`Worker.cancel`)."""
    worker = threading.current_thread()
    return isinstance(worker, Worker) and worker.release.is_set()


def _sleeper(conn: psycopg.Connection[Any]) -> None:
    while not _released():
        conn.execute("SELECT pg_sleep(0.05)")


def _cruncher(conn: psycopg.Connection[Any]) -> None:
    while not _released():
        conn.execute("SELECT count(*) FROM generate_series(1, 200000)")


def _holder(conn: psycopg.Connection[Any]) -> None:
    with conn.transaction():
        conn.execute("SELECT * FROM queue WHERE id = 1 FOR UPDATE")
        conn.execute("SELECT pg_sleep(60)")


def _waiter(conn: psycopg.Connection[Any]) -> None:
    conn.execute("UPDATE queue SET n = n + 1 WHERE id = 1")


@pytest.fixture(scope="module")
def recorded(pg: PgServer) -> Iterator[list[Snapshot]]:
    """The snapshots of :data:`PASSES` recorder passes over a busy database."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg.dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = pg.dsn_for(name)
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.execute("CREATE TABLE queue (id int PRIMARY KEY, n int)")
            conn.execute("INSERT INTO queue VALUES (1, 0)")
        with ExitStack() as stack, connect(Target(dsn, "test")) as conn:
            def start(target: Callable[[psycopg.Connection[Any]], None], app: str) -> None:
                w = Worker(dsn, target, name=app, application_name=app)
                w.start_and_wait()
                stack.callback(w.join, 10)
                stack.callback(w.cancel)

            for target, app in ((_sleeper, "sleepy"), (_sleeper, "sleepy"),
                                (_cruncher, "cruncher"), (_holder, "holder")):
                start(target, app)
            frames = FrameLoad()
            snapshots: list[Snapshot] = []
            for i in range(PASSES):
                if i in QUEUED:  # one more session queues on the row lock from this pass
                    start(_waiter, "waiter")
                    queued = QUEUED.index(i) + 1
                    wait_until(lambda n=queued: _waiting(dsn) == n, what="the queue")
                full = i in FULL
                snapshots.append(collect(
                    conn, parts=RECORDED_PARTS if full else FAST_PARTS,
                    server=snapshots[0].server if snapshots else None, frames=frames))
        yield snapshots
    finally:
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _profiles(snapshots: list[Snapshot]) -> list[LoadProfile]:
    out = [s.load for s in snapshots]
    assert all(p is not None for p in out)
    return [p for p in out if p is not None]


def _write(store: Store, snapshots: list[Snapshot], name: str = "t") -> list[datetime]:
    """Each snapshot as the frame the recorder makes of it, a second apart from T0."""
    writer = store.writer(name, source="test")
    times = [T0 + timedelta(seconds=i) for i in range(len(snapshots))]
    for i, (snapshot, at) in enumerate(zip(snapshots, times, strict=True)):
        writer.append(frame_of(snapshot, at, kind="full" if i in FULL else "fast"))
    writer.close()
    return times


def test_the_profiles_are_worth_comparing(recorded: list[Snapshot]) -> None:
    """The samples of a window differ (else averaging them proves nothing): a busy window
    of several samples, the lock queue and statements among them, and profiles that change."""
    profiles = _profiles(recorded)
    last = profiles[-1]
    assert last.samples == FRAME_SAMPLES == len(last.frame_samples)
    assert any(p.statements_s > 0 and p.statements for p in profiles)
    assert any(p.in_kind("row_locks") > 0 for p in profiles)
    assert any(len(set(p.frame_samples)) > 1 for p in profiles)
    assert len({p.waits for p in profiles}) > 1


def test_every_frame_reads_back_with_the_profile_the_recorder_judged(
        recorded: list[Snapshot], tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "rec.db"), create=True)
    try:
        times = _write(store, recorded)
        walked = [s.load for s in store.snapshots("t", times[0], times[-1])]
        one_by_one = [(s.load if s is not None else None) for s in
                      (store.snapshot_at("t", at) for at in times)]
        writer = store.writer("t", source="test")  # thin everything but the full frames
        writer.maintain(T0 + timedelta(hours=2), retention=timedelta(days=7),
                        thin_after=timedelta(hours=1))
        writer.close()
        thinned = {s.taken_at: s.load for s in store.snapshots("t", times[0], times[-1])}
    finally:
        store.close()
    profiles = _profiles(recorded)
    assert walked == profiles
    assert one_by_one == profiles
    kept = {i for i, at in enumerate(times) if at in thinned}
    assert set(FULL) <= kept and len(kept) < len(times)
    assert all(thinned[times[i]] == profiles[i] for i in kept)


class _Schema3Codec(Codec):
    """The codec of a store of schema 3: today's, under the layout it wrote (its
    ``LoadProfile`` has no ``frame_samples``, and it knows no ``SeenGroup``). A profile
    without samples is encoded whole, as every profile was then."""

    def __init__(self) -> None:
        super().__init__()
        profile = type_key(LoadProfile)
        self.layout = Layout({
            key: tuple(n for n in names if n != "frame_samples") if key == profile else names
            for key, names in current_layout().types.items() if key != type_key(SeenGroup)})


def _as_schema_3(snapshot: Snapshot) -> Snapshot:
    """``snapshot`` as a recorder before schema 4 had it: its load the averages alone."""
    assert snapshot.load is not None
    return replace(snapshot, load=replace(snapshot.load, frame_samples=()))


def test_a_schema_3_store_reads_as_it_was_and_is_brought_up_to_date_in_place(
        recorded: list[Snapshot], tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old, new = recorded[:FULL[1]], recorded[FULL[1]:]
    store = SqliteStore(path, create=True)
    store.codec = _Schema3Codec()
    _write(store, [_as_schema_3(s) for s in old])
    store.close()
    as_older_schema(path, 3)
    averages = [replace(p, frame_samples=()) for p in _profiles(old)]

    store = SqliteStore(path, create=False)
    try:
        assert [s.load for s in store.snapshots("t", T0, T0 + timedelta(hours=1))] == averages
        writer = store.writer("t", source="test")  # brings the store up to date
        start = T0 + timedelta(seconds=len(old))
        for i, snapshot in enumerate(new):
            writer.append(frame_of(snapshot, start + timedelta(seconds=i),
                                   kind="full" if i == 0 else "fast"))
        writer.close()
        back = [s.load for s in store.snapshots("t", T0, T0 + timedelta(hours=1))]
    finally:
        store.close()
    assert back == averages + _profiles(new)
    conn = sqlite3.connect(path)
    try:
        schema = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        assert schema == (str(SCHEMA_VERSION),)
        assert conn.execute("SELECT count(*) FROM frames").fetchone() == (len(recorded),)
    finally:
        conn.close()
