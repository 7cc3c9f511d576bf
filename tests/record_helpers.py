"""What the recording-store tests share: frames made by hand or from a real server, and a
store of either kind (a SQLite file, or a central store in a fresh PostgreSQL database)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import msgspec
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from pgcrisis.collect.collector import collect
from pgcrisis.collect.session import SessionLimits, connect
from pgcrisis.dsn import Target
from pgcrisis.model.activity import Backend
from pgcrisis.model.findings import Severity
from pgcrisis.model.parts import FAST_PARTS, RECORDED_PARTS
from pgcrisis.model.server import ServerInfo
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.record.recorder import Recorder, RecorderOptions, RecorderStats
from pgcrisis.record.recorder import frame_of as recorded_frame
from pgcrisis.store import Frame, Store, open_store
from pgcrisis.store._codec import loads
from tests.helpers import PgServer

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SERVER = ServerInfo(160004, "16.4", "app", "postgres", True, 4242,
                    {"max_connections": "100", "max_locks_per_transaction": "64"},
                    {"plpgsql": "1.0"}, frozenset({"pg_stat_statements", "hypopg"}))


def uri(conninfo: str) -> str:
    """A ``postgresql://`` URI for a key=value DSN (the store takes URIs)."""
    p = conninfo_to_dict(conninfo)
    auth = quote(str(p.get("user", "")), safe="")
    if p.get("password"):
        auth += ":" + quote(str(p["password"]), safe="")
    return (f"postgresql://{auth}@{p.get('host', 'localhost')}:{p.get('port', 5432)}/"
            f"{quote(str(p['dbname']), safe='')}")


@pytest.fixture
def central(pg: PgServer) -> Iterator[str]:
    """The URI of a fresh database for a central store; dropped afterwards."""
    name = f"rec_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg.dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield uri(pg.dsn_for(name))
    with psycopg.connect(pg.dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def spec(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a store goes: a file, or a central store's URI (each test runs on both)."""
    if request.param == "sqlite":
        return str(tmp_path / "recording.db")
    return str(request.getfixturevalue("central"))


@pytest.fixture
def store(spec: str) -> Iterator[Store]:
    st = open_store(spec, create=True)
    yield st
    st.close()


def backend(pid: int, *, state: str | None = "active", age: float | None = 0.01,
            query: str = "select 1", app: str = "web", blocked_by: tuple[int, ...] = (),
            xmin_age: int | None = None, wait: tuple[str, str] | None = None,
            backend_type: str = "client backend") -> Backend:
    """A session row: ``age`` for its transaction, statement and state alike."""
    return Backend(pid, "app", "web_user", app, "10.0.0.7", backend_type, state, age, age, age,
                   wait[0] if wait else None, wait[1] if wait else None, query, blocked_by,
                   None, xmin_age)


def frame(at: datetime, fields: Mapping[str, Any], *, kind: str = "fast",
          worst: Severity | None = None, server: ServerInfo = SERVER,
          unavailable: Mapping[str, str] | None = None) -> Frame:
    """A frame made by hand, as the recorder makes one: a ``full`` frame reads every part,
    a ``fast`` one the parts whose fields are given (the others of those parts left at
    their defaults); sessions kept as a recording keeps them."""
    read = RECORDED_PARTS if kind == "full" else tuple(
        p for p in RECORDED_PARTS if set(p.fields) & set(fields))
    snapshot = Snapshot(server=server, taken_at=at, server_time=at,
                        unavailable=dict(unavailable or {}), **fields)
    return recorded_frame(snapshot, read, local_time=at + timedelta(milliseconds=3),
                          worst_severity=worst)


def collected(dsn: str, ready: Callable[[Snapshot], bool] | None = None,
              timeout: float = 30) -> Snapshot:
    """A snapshot of the real server, taken the way triage takes one (with ``ready``, the
    first that satisfies it, polled until ``timeout``)."""
    deadline = time.monotonic() + timeout
    with connect(Target(dsn, "test")) as conn:
        while True:
            snapshot = collect(conn)
            if ready is None or ready(snapshot):
                return snapshot
            assert time.monotonic() < deadline, "the server never showed what was awaited"
            time.sleep(0.1)


def idle_for(pid: int, seconds: float) -> Callable[[Snapshot], bool]:
    """Whether a snapshot shows session ``pid`` in its state for ``seconds`` at least."""
    def ready(snapshot: Snapshot) -> bool:
        b = snapshot.backend(pid)
        return b is not None and (b.state_age_s or 0.0) >= seconds
    return ready


def frame_of(snapshot: Snapshot, at: datetime | None = None, *, kind: str = "full") -> Frame:
    """The frame the recorder would make of ``snapshot`` (every part, or the fast ones),
    timed ``at`` (default: when it was taken)."""
    timed = replace(snapshot, server_time=at or snapshot.taken_at)
    return recorded_frame(timed, RECORDED_PARTS if kind == "full" else FAST_PARTS,
                          local_time=snapshot.taken_at, worst_severity=None)


def query(spec: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` run directly on the store's tables (to count what was stored)."""
    if spec.startswith("postgresql://"):
        with psycopg.connect(spec, autocommit=True) as conn:
            conn.execute("SET search_path = pgcrisis_record")
            return [tuple(r) for r in conn.execute(sql.encode()).fetchall()]
    conn = sqlite3.connect(spec)
    try:
        return [tuple(r) for r in conn.execute(sql).fetchall()]
    finally:
        conn.close()


def count(spec: str, table: str) -> int:
    return int(query(spec, f"SELECT count(*) FROM {table}")[0][0])


def session_rows(spec: str, pid: int) -> list[list[Any]]:
    """The stored rows of session ``pid``: content that reads as a session row of it."""
    out = []
    for (body,) in query(spec, "SELECT body FROM content"):
        try:
            plain = loads(bytes(body))
        except msgspec.DecodeError:
            continue  # a string or a field value
        if isinstance(plain, list) and len(plain) >= 14 and plain[0] == pid:
            out.append(plain)
    return out


FAST = RecorderOptions(interval_s=0.25, slow_every_s=1.0,
                       limits=SessionLimits(statement_timeout_ms=2000, lock_timeout_ms=50))


class Background:
    """A recorder in a thread, stopped (and its writer closed) on exit."""

    def __init__(self, dsn: str, store: str, options: RecorderOptions = FAST,
                 name: str = "test") -> None:
        self.store = open_store(store, create=True)
        self.writer = self.store.writer(name, source="test")
        self.recorder = Recorder(Target(dsn, "test"), self.writer, options)
        self.error: BaseException | None = None
        self.stats: RecorderStats | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.stats = self.recorder.run()
        except BaseException as exc:
            self.error = exc

    def __enter__(self) -> Background:
        self.thread.start()
        return self

    def wait_frames(self, n: int, timeout: float = 30) -> None:
        goal = self.recorder.stats.frames + n
        deadline = time.monotonic() + timeout
        while self.recorder.stats.frames < goal:
            assert self.error is None, self.error
            assert time.monotonic() < deadline, f"only {self.recorder.stats.frames} frames"
            time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        self.recorder.stop()
        self.thread.join(30)
        self.writer.close()
        self.store.close()
        assert self.error is None, self.error


def server_now(dsn: str) -> datetime:
    """The server's clock (moments asked of a recording are in server time)."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT now()").fetchone()
    assert row is not None
    value: datetime = row[0]
    return value


#: the repository (its git history gives the code of an older pgcrisis)
ROOT = Path(__file__).resolve().parents[1]


def old_source(out: Path, commit: str) -> Path:
    """The source of pgcrisis at ``commit`` (its ``src/pgcrisis`` and ``tests``) in ``out``:
    a store written by an older pgcrisis is made by its own code."""
    if not (ROOT / ".git").exists():
        pytest.skip("needs the git history (a checkout, not an sdist)")
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "src/pgcrisis",
                              "tests"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
    return out


def run_old(source: Path, script: str, *args: str) -> None:
    """Run ``script`` (Python) with the older pgcrisis of :func:`old_source`."""
    env = {**os.environ, "PYTHONPATH": f"{source / 'src'}{os.pathsep}{source}"}
    done = subprocess.run([sys.executable, "-c", script, *args], env=env, cwd=source,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
