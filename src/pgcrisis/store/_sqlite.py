"""The recording store in one SQLite file: the recorder's default, next to the person using it.

WAL mode: one writer per recording and any number of readers across processes, readers never
blocking the writer nor the writer them. Every connection waits (``busy_timeout``) instead of
failing with "database is locked"; each frame is one short ``BEGIN IMMEDIATE`` transaction
(the write lock is taken up front, so a transaction never fails halfway for want of it), and
the WAL is truncated after maintenance and every few hundred frames, or it grows without
bound while readers come and go.

A recording is written by one recorder: an OS lock (``flock``) on ``<store>.<name>.lock``
next to the file refuses a second one, and dies with the process holding it, so a recorder
killed with ``kill -9`` leaves nothing to clean up. The last frame it was writing was never
committed; a new writer resumes after the last committed one.

Opening checks the file read-only first, so a file that is not a store, or one written by a
newer pgcrisis, is refused with one line and left untouched.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pgcrisis import sqlfiles
from pgcrisis.errors import StoreError, first_line
from pgcrisis.store._codec import Codec
from pgcrisis.store._db import PACKAGE, Db
from pgcrisis.store._meta import (
    SCHEMA_VERSION,
    check_meta,
    meta_rows,
    schema_of,
    upgrade_statements,
)
from pgcrisis.store._reader import ReadingStore, RecordingReader
from pgcrisis.store._writer import RecordingWriter, recording_id

#: how long any connection waits for a lock before giving up (s)
BUSY_TIMEOUT_S = 30.0
#: the busy timeout while truncating the WAL (a reader in the way makes it wait, not fail)
CHECKPOINT_WAIT_MS = 200
#: how every SQLite database file begins
_SQLITE_HEADER = b"SQLite format 3\x00"
#: frames between two WAL truncations
CHECKPOINT_EVERY = 300


class SqliteDb(Db):
    """One SQLite connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        super().__init__()
        self.conn = conn

    def params(self, params: Sequence[Any]) -> Sequence[Any]:
        return [json.dumps(p) if isinstance(p, list) else p for p in params]

    def rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        return self.conn.execute(sql, params).fetchall()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield
                self.conn.execute("COMMIT")
            except BaseException:
                with suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
                raise

    def serialize(self) -> None:
        """Nothing to do: ``BEGIN IMMEDIATE`` already lets one writer in at a time."""

    @contextmanager
    def read(self) -> Iterator[None]:
        with self.lock:
            if self.conn.in_transaction:
                yield
                return
            self.conn.execute("BEGIN")
            try:
                yield
            finally:
                with suppress(sqlite3.Error):
                    self.conn.execute("COMMIT")


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                           check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    # WAL with NORMAL: a killed process loses nothing committed; only a power cut can lose
    # the last transactions, never the file
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _inspect(path: Path) -> dict[str, str] | None:
    """The store's meta table read without writing anything; ``None``: an empty file.

    Not even a ``-wal`` or ``-shm`` file appears beside it: unless a connection has them
    open already (then they exist), the file is opened as immutable.
    """
    if path.stat().st_size == 0:
        return None
    with path.open("rb") as f:
        if f.read(len(_SQLITE_HEADER)) != _SQLITE_HEADER:
            raise StoreError(f"{path} is not a pgcrisis recording store")
    live = path.with_name(path.name + "-wal").exists()
    uri = f"file:{quote(str(path.resolve()))}?mode=ro" + ("" if live else "&immutable=1")
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open {path}: {first_line(exc)}") from None
    try:
        rows = SqliteDb(conn).all("meta")
    except sqlite3.DatabaseError:
        raise StoreError(f"{path} is not a pgcrisis recording store") from None
    finally:
        conn.close()
    return {str(k): str(v) for k, v in rows}


def _create(path: Path) -> None:
    """Lay out a new store (safe against another process doing the same)."""
    conn = _connect(path)
    db = SqliteDb(conn)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("BEGIN IMMEDIATE")
        exists = db.one("sqlite_has_meta")
        if not (exists and exists[0]):
            for statement in (*sqlfiles.statements(PACKAGE, "schema_sqlite"),
                              *upgrade_statements(1, sqlite=True)):
                conn.execute(statement)
            for key, value in meta_rows():
                db.run("insert_meta", key, value)
        conn.execute("COMMIT")
    finally:
        conn.close()


def _upgrade(path: Path) -> None:
    """Bring the store's tables to this pgcrisis' schema (once, whoever comes first)."""
    conn = _connect(path)
    db = SqliteDb(conn)
    try:
        conn.execute("BEGIN IMMEDIATE")
        row = db.one("schema_version")
        for statement in upgrade_statements(int(row[0]) if row else SCHEMA_VERSION,
                                            sqlite=True):
            conn.execute(statement)
        db.run("set_schema_version", str(SCHEMA_VERSION))
        conn.execute("COMMIT")
    finally:
        conn.close()


def lock_path(path: Path, name: str) -> Path:
    """The file a writer of recording ``name`` of the store at ``path`` holds locked."""
    return path.with_name(f"{path.name}.{quote(name, safe='')}.lock")


#: where Linux lists the file locks held on the machine
PROC_LOCKS = Path("/proc/locks")


def flock_held(path: Path) -> bool | None:
    """Whether some process holds an exclusive ``flock`` on ``path`` now, read from
    :data:`PROC_LOCKS` without taking the lock (taking it, even briefly, could refuse a
    recorder starting at that instant); ``None`` where the machine does not list its locks.

    A line reads ``1: FLOCK  ADVISORY  WRITE <pid> <major>:<minor>:<inode> 0 EOF`` (device
    numbers in hex): the file's inode on its device, or held by the pid the writer wrote in
    it (a layered file system may show another device)."""
    try:
        listed = PROC_LOCKS.read_text()
    except OSError:
        return None
    try:
        st = path.stat()
        holder = path.read_text().strip()
    except OSError:
        return False  # no lock file: no writer ever held it
    device = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}"
    for line in listed.splitlines():
        fields = line.split()
        if len(fields) < 6 or fields[1] != "FLOCK" or fields[3] != "WRITE":
            continue
        pid, where = fields[4], fields[5]
        dev, _, inode = where.rpartition(":")
        if inode == str(st.st_ino) and (dev == device or pid == holder):
            return True
    return False


class WriterLock:
    """An exclusive ``flock`` on a file next to the store, held while a writer lives."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self._fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            self._fd = None
            raise StoreError(f"{what} is being written by another recorder "
                             f"(it holds {path})") from None
        os.ftruncate(self._fd, 0)
        os.write(self._fd, f"{os.getpid()}\n".encode())

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class SqliteWriter(RecordingWriter):
    """The writer of one recording in a SQLite store."""

    def __init__(self, path: Path, name: str, *, source: str, codec: Codec,
                 max_bytes: int | None) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._lock = WriterLock(lock_path(path, name), f"recording {name!r} in {path}")
        try:
            conn = _connect(path)
            if max_bytes is not None:
                page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
                conn.execute(f"PRAGMA max_page_count = {max(1, max_bytes // page_size)}")
            db = SqliteDb(conn)
            rec = recording_id(db, name, source)
            super().__init__(db, rec, codec)
        except BaseException:
            self._lock.release()
            raise
        self._frames = 0

    def full_error(self, exc: Exception) -> StoreError | None:
        if not (isinstance(exc, sqlite3.OperationalError) and "full" in str(exc)):
            return None
        conn = self._conn
        pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
        size = pages * int(conn.execute("PRAGMA page_size").fetchone()[0])
        if self.max_bytes is not None and size + 65536 >= self.max_bytes:
            return StoreError(f"the store {self.path} is full: it reached its size limit of "
                              f"{self.max_bytes:,} bytes (--max-size)")
        return StoreError(f"the disk holding {self.path} is full ({first_line(exc)})")

    @property
    def _conn(self) -> sqlite3.Connection:
        assert isinstance(self.db, SqliteDb)
        return self.db.conn

    def append(self, frame: Any) -> None:
        super().append(frame)
        self._frames += 1
        if self._frames % CHECKPOINT_EVERY == 0:
            self.checkpoint()

    def before_write(self, t: int) -> None:
        """Nothing to prepare: the size limit is SQLite's own (``max_page_count``)."""

    def drop_before(self, cut: int) -> None:
        self.db.run("delete_frames_before", self.rec, cut)
        self.db.run("delete_changes_before", self.rec, sorted(self.fields.values()), cut)
        self.db.run("delete_events_before", self.rec, cut)
        self.db.run("delete_series_before", self.rec, cut)
        self.db.run("delete_log_errors_before", self.rec, cut)
        self.db.run("delete_log_slow_before", self.rec, cut)

    def after_maintain(self) -> None:
        self.checkpoint()

    def checkpoint(self) -> None:
        """Truncate the WAL, waiting briefly for readers (it is tried again later)."""
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}")
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except sqlite3.OperationalError:
            pass  # busy: a reader holds an old snapshot; the next checkpoint will do
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")

    def close(self) -> None:
        with suppress(sqlite3.Error):
            self._conn.close()
        self._lock.release()


class SqliteStore(ReadingStore):
    """A recording store in the SQLite file at ``path``."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool) -> None:
        self.path = Path(path)
        if not self.path.exists():
            if not create:
                raise StoreError(f"no recording store at {self.path}")
            if not self.path.parent.is_dir():
                raise StoreError(f"cannot create {self.path}: no directory "
                                 f"{self.path.parent}")
        meta = _inspect(self.path) if self.path.exists() else None
        if meta is None:
            if not create:
                raise StoreError(f"{self.path} is empty, not a pgcrisis recording store")
            try:
                _create(self.path)
            except sqlite3.Error as exc:
                raise StoreError(f"cannot create {self.path}: {first_line(exc)}") from None
            meta = _inspect(self.path)
        check_meta(meta or {}, str(self.path))
        self.codec = Codec()
        self._db = SqliteDb(_connect(self.path))
        self.reader = RecordingReader(self._db, self.codec, schema=schema_of(meta or {}))

    def writer(self, name: str, *, source: str, max_bytes: int | None = None) -> SqliteWriter:
        if self.reader.schema < SCHEMA_VERSION:
            try:
                _upgrade(self.path)
            except sqlite3.Error as exc:
                raise StoreError(f"cannot bring {self.path} up to date: "
                                 f"{first_line(exc)}") from None
            self.reader.schema = SCHEMA_VERSION
        return SqliteWriter(self.path, name, source=source, codec=self.codec,
                            max_bytes=max_bytes)

    def writer_locked(self, name: str, rec: int) -> bool | None:
        return flock_held(lock_path(self.path, name))

    def close(self) -> None:
        self._db.conn.close()
