"""The central recording store: the same tables in a PostgreSQL database, for a team that
records many servers in one place (one recorder per server, each under its own name).

Everything lives in the schema :data:`SCHEMA` (created on first use). Each recording has its
own partition of every table (list on ``rec``), and its frames, changes and events are
partitioned again by day (range on ``t``): retention drops whole days, never deletes rows
one by one, and one recorder's upkeep never touches another's tables. Day partitions are
created ahead (:data:`DAYS_AHEAD`), built apart and attached (``ATTACH PARTITION`` takes a
lock that does not stop readers or writers). DDL runs with a short ``lock_timeout``: if a
reader is in the way, dropping an old day waits for the next maintenance.

A second recorder of the same name is refused: the writer holds a session advisory lock
(``pg_try_advisory_lock``) on its recording, which the server releases when the writer's
connection ends, however it ends.

The queries are the SQLite store's (:mod:`._db`); only partitions and locks are this module's
(their statements are the ``pg_*`` files of ``sql/``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import errors as pgerrors
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from pgcrisis import sqlfiles
from pgcrisis.dsn import redact
from pgcrisis.errors import StoreError, first_line
from pgcrisis.store._codec import Codec
from pgcrisis.store._db import PACKAGE, Db, to_us
from pgcrisis.store._meta import (
    SCHEMA_VERSION,
    check_meta,
    meta_rows,
    schema_of,
    upgrade_statements,
)
from pgcrisis.store._reader import ReadingStore, RecordingReader
from pgcrisis.store._writer import RecordingWriter, recording_id

#: the schema that holds a central store
SCHEMA = "pgcrisis_record"
#: the first key of every advisory lock the store takes (the second: 0 for the schema's
#: creation and catalog rows, the recording's id for its writer)
LOCK_CLASS = 0x70677263  # "pgrc"
DAY_US = 86_400 * 1_000_000
#: day partitions kept ready after the current one
DAYS_AHEAD = 2
#: how long DDL waits for a lock before giving up until later
DDL_LOCK_TIMEOUT = "2s"
#: frames between two checks of the recording's size against ``max_bytes``
SIZE_CHECK_EVERY = 30
APPLICATION_NAME = "pgcrisis-record"
#: the tables with one partition per recording; those with day partitions under it
TABLES = ("frames", "changes", "events", "content")
BY_DAY = ("frames", "changes", "events")


class PgDb(Db):
    """One psycopg connection in autocommit mode; transactions are explicit."""

    placeholder = "%s"
    id_list = "SELECT unnest(?::bigint[])"
    rec_by_id = "rec"

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        super().__init__()
        self.conn = conn

    def rows(self, query: str, params: Sequence[Any]) -> list[Any]:
        cur = self.conn.execute(query.encode(), params)
        return cur.fetchall() if cur.description is not None else []

    def insert_many(self, name: str, rows: Sequence[Sequence[Any]]) -> list[int]:
        """All in one pipeline (one round trip, not one per row)."""
        if not rows:
            return []
        ids: list[int] = []
        with self.lock, self.conn.cursor() as cur:
            cur.executemany(self.text(name).encode(), [self.params(r) for r in rows],
                            returning=True)
            while True:
                row = cur.fetchone()
                assert row is not None
                ids.append(int(row[0]))
                if not cur.nextset():
                    break
        return ids

    @contextmanager
    def write(self) -> Iterator[None]:
        with self.lock, self.conn.transaction():
            yield

    @contextmanager
    def read(self) -> Iterator[None]:
        with self.lock:
            if self.conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                yield
                return
            with self.conn.transaction():
                yield

    def serialize(self) -> None:
        self.run("pg_lock_catalog", LOCK_CLASS)


def _composed(name: str, **fields: sql.Composable) -> sql.Composed:
    """Statement ``sql/<name>.sql`` with its ``{field}`` parts filled (names, literals)."""
    return sql.SQL(sqlfiles.query(PACKAGE, name)).format(**fields)


def _where(dsn: str) -> str:
    """How messages name the store: its database, host and schema, without secrets."""
    params = conninfo_to_dict(dsn)
    return redact(f"{params.get('dbname', '?')} on {params.get('host', 'localhost')} "
                  f"(schema {SCHEMA})")


def _connect(dsn: str, *, read_only: bool = False) -> psycopg.Connection[Any]:
    try:
        conn = psycopg.connect(dsn, autocommit=True, application_name=APPLICATION_NAME,
                               connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise StoreError(redact(f"cannot connect to the central store: {first_line(exc)}")
                         ) from None
    conn.execute(_composed("pg_search_path", schema=sql.Identifier(SCHEMA)))
    if read_only:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
    return conn


def _store_exists(db: PgDb) -> tuple[bool, bool]:
    """Whether the store's schema exists, and its ``meta`` table."""
    row = db.one("pg_store_exists", SCHEMA, f"{SCHEMA}.meta")
    return (bool(row[0]), bool(row[1])) if row else (False, False)


def _inspect(db: PgDb, where: str) -> dict[str, str] | None:
    """The store's meta rows, read without writing; ``None``: no schema yet."""
    schema, meta = _store_exists(db)
    if not schema:
        return None
    if not meta:
        raise StoreError(f"{where}: the schema exists but is not a pgcrisis recording store")
    return {str(k): str(v) for k, v in db.all("meta")}


def _create(db: PgDb) -> None:
    """Create the schema and its tables (once, whoever comes first)."""
    with db.write():
        db.run("pg_lock_catalog", LOCK_CLASS)
        if _store_exists(db)[0]:
            return
        db.conn.execute(_composed("pg_create_schema", schema=sql.Identifier(SCHEMA)))
        db.conn.execute(sqlfiles.query(PACKAGE, "schema_postgres").encode())
        for statement in upgrade_statements(1):
            db.conn.execute(statement.encode())
        for key, value in meta_rows():
            db.run("insert_meta", key, value)


def _relation_exists(db: PgDb, name: str) -> bool:
    """Whether table ``name`` of the store's schema exists."""
    row = db.one("pg_relation_exists", f"{SCHEMA}.{name}")
    return bool(row and row[0])


def _day_name(table: str, rec: int, day: int) -> str:
    return f"{table}_r{rec}_{datetime.fromtimestamp(day * 86_400, UTC):%Y%m%d}"


def _upgrade(db: PgDb) -> None:
    """Bring the store's tables to this pgcrisis' schema (once, whoever comes first)."""
    with db.write():
        db.run("pg_lock_catalog", LOCK_CLASS)
        row = db.one("schema_version")
        for statement in upgrade_statements(int(row[0]) if row else SCHEMA_VERSION):
            db.conn.execute(statement.encode())
        db.run("set_schema_version", str(SCHEMA_VERSION))


class PgWriter(RecordingWriter):
    """The writer of one recording in a central store."""

    def __init__(self, dsn: str, name: str, *, source: str, codec: Codec,
                 max_bytes: int | None) -> None:
        self.where = _where(dsn)
        self.max_bytes = max_bytes
        conn = _connect(dsn)
        try:
            db = PgDb(conn)
            _upgrade(db)
            rec = recording_id(db, name, source)
            row = db.one("pg_lock_recording", LOCK_CLASS, rec)
            if not (row and row[0]):
                raise StoreError(f"recording {name!r} in {self.where} is being written by "
                                 "another recorder")
            self._conn = conn
            self._pg = db
            self._days: set[int] = set()
            self._frames = 0
            self._full = False
            self._recording_partitions(db, rec)
            super().__init__(db, rec, codec)
            self._size_check()
        except BaseException:
            conn.close()
            raise

    # -- partitions ------------------------------------------------------------------------

    def _ddl(self, statement: sql.Composed) -> None:
        """Run ``statement`` in a transaction of its own, waiting at most
        :data:`DDL_LOCK_TIMEOUT` for its lock."""
        with self._pg.write():
            self._pg.run("pg_ddl_lock_timeout", DDL_LOCK_TIMEOUT)
            self._conn.execute(statement)

    def _recording_partitions(self, db: PgDb, rec: int) -> None:
        for table in TABLES:
            partition = f"{table}_r{rec}"
            if _relation_exists(db, partition):
                continue
            by_day = sql.SQL("PARTITION BY RANGE (t)" if table in BY_DAY else "")
            self._ddl(_composed("pg_recording_partition", partition=sql.Identifier(partition),
                                parent=sql.Identifier(table), by_day=by_day,
                                rec=sql.Literal(rec)))

    def _ensure_days(self, first: int, last: int) -> None:
        """Day partitions for days ``first`` to ``last`` (days since the epoch)."""
        for day in range(first, last + 1):
            if day in self._days:
                continue
            for table in BY_DAY:
                partition = _day_name(table, self.rec, day)
                if not _relation_exists(self._pg, partition):
                    self._ddl(_composed(
                        "pg_day_partition", partition=sql.Identifier(partition),
                        parent=sql.Identifier(f"{table}_r{self.rec}"),
                        start=sql.Literal(day * DAY_US), end=sql.Literal((day + 1) * DAY_US)))
            self._days.add(day)

    def _day_partitions(self, table: str) -> list[tuple[int, str]]:
        """(day, name) of the day partitions of one of this recording's tables."""
        rows = self._pg.all("pg_day_partitions", f"{SCHEMA}.{table}_r{self.rec}")
        out = []
        for (name,) in rows:
            stamp = datetime.strptime(name.rsplit("_", 1)[1], "%Y%m%d").replace(tzinfo=UTC)
            out.append((to_us(stamp) // DAY_US, str(name)))
        return sorted(out)

    # -- hooks of the shared writer --------------------------------------------------------

    def before_write(self, t: int) -> None:
        day = t // DAY_US
        if day not in self._days:
            try:
                self._ensure_days(day, day + DAYS_AHEAD)
            except pgerrors.LockNotAvailable:
                raise StoreError(f"cannot create the day's partition in {self.where}: a "
                                 "lock was not granted in time") from None
        self._frames += 1
        if self._full or self._frames % SIZE_CHECK_EVERY == 0:
            self._size_check()

    def _size_check(self) -> None:
        """Refuse to write once the recording takes ``max_bytes`` (checked every few frames,
        and at every write once it was full: maintenance may have made room)."""
        if self.max_bytes is None:
            return
        row = self._pg.one("pg_recording_size",
                          [f"{SCHEMA}.{table}_r{self.rec}" for table in TABLES])
        size = int(row[0]) if row else 0
        self._full = size >= self.max_bytes
        if self._full:
            raise StoreError(f"the recording in {self.where} is full: it takes {size:,} bytes, "
                             f"its size limit is {self.max_bytes:,} (--max-size)")

    def full_error(self, exc: Exception) -> StoreError | None:
        if isinstance(exc, pgerrors.DiskFull):
            return StoreError(f"the server holding {self.where} is out of disk space "
                              f"({first_line(exc)})")
        return None

    def retention_cut(self, cut: int) -> int:
        return cut - cut % DAY_US

    def drop_before(self, cut: int) -> None:
        for table in BY_DAY:
            for day, name in self._day_partitions(table):
                if (day + 1) * DAY_US > cut:
                    continue
                with suppress(pgerrors.LockNotAvailable):
                    self._ddl(_composed("pg_drop_day", partition=sql.Identifier(name)))
                self._days.discard(day)
        with self._conn.transaction():
            self.db.run("delete_series_before", self.rec, cut)
            self.db.run("delete_log_errors_before", self.rec, cut)
            self.db.run("delete_log_slow_before", self.rec, cut)

    def after_maintain(self) -> None:
        today = to_us(datetime.now(UTC)) // DAY_US
        with suppress(pgerrors.LockNotAvailable):
            self._ensure_days(today, today + DAYS_AHEAD)

    def close(self) -> None:
        with suppress(psycopg.Error):
            self._conn.close()


class PgStore(ReadingStore):
    """A recording store in the PostgreSQL database at ``dsn``."""

    def __init__(self, dsn: str, *, create: bool) -> None:
        self.dsn = dsn
        self.where = _where(dsn)
        conn = _connect(dsn)
        try:
            db = PgDb(conn)
            meta = _inspect(db, self.where)
            if meta is None:
                if not create:
                    raise StoreError(f"no recording store in {self.where}")
                _create(db)
                meta = _inspect(db, self.where)
            check_meta(meta or {}, self.where)
        except psycopg.Error as exc:
            conn.close()
            raise StoreError(f"cannot use {self.where}: {first_line(exc)}") from None
        except BaseException:
            conn.close()
            raise
        conn.close()
        self.codec = Codec()
        self._conn = _connect(dsn, read_only=True)
        self.reader = RecordingReader(PgDb(self._conn), self.codec,
                                      schema=schema_of(meta or {}))

    def writer(self, name: str, *, source: str, max_bytes: int | None = None) -> PgWriter:
        writer = PgWriter(self.dsn, name, source=source, codec=self.codec, max_bytes=max_bytes)
        self.reader.schema = SCHEMA_VERSION  # the writer brought the tables up to date
        return writer

    def writer_locked(self, name: str, rec: int) -> bool | None:
        row = self.reader.db.one("pg_writer_locked", LOCK_CLASS, rec)
        return bool(row and row[0])

    def close(self) -> None:
        with suppress(psycopg.Error):
            self._conn.close()
