"""The SQL both stores share, and the small connection interface they each implement.

The SQLite file and the PostgreSQL schema have the same tables with the same columns (the
PostgreSQL ones partitioned, see :mod:`._postgres`), so every query is written once, in
``sql/<name>.sql`` (read by :mod:`pgcrisis.sqlfiles`), with ``?`` placeholders, ``{ids}``
where a list of ids goes (``IN ({ids})``) and ``{rec}`` for the recording's column in a
lookup by id; each dialect spells those its own way. What only one store runs is in the same
folder, named for it (``sqlite_*``, ``pg_*``; a ``pg_*`` file with ``{name}`` fields is a
statement composed with :mod:`psycopg.sql`). Times are integers: microseconds since the Unix epoch,
UTC, in both stores.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from pgcrisis import sqlfiles

#: the package whose ``sql`` folder holds the store's statements
PACKAGE = "pgcrisis.store"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)

Row = tuple[Any, ...]


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch, UTC (a naive datetime is taken as UTC).

    >>> to_us(datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=UTC))
    1000005
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _US


def from_us(us: int) -> datetime:
    """The UTC datetime of :func:`to_us`."""
    return _EPOCH + timedelta(microseconds=us)


class Fetched:
    """A statement's rows, fetched at once (so the connection is free for the next one)."""

    def __init__(self, rows: list[Any]) -> None:
        self._rows = rows

    def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[Any]:
        return self._rows


class Db(ABC):
    """One connection to a store, in the store's dialect; usable from several threads, one
    statement (or one transaction) at a time."""

    #: how the dialect writes a placeholder, and a list of ids to compare with ``IN``
    placeholder: str = "?"
    id_list: str = "SELECT value FROM json_each(?)"
    #: the recording's column where a lookup goes by id: SQLite must not take ``rec = ?``
    #: for a reason to scan the recording's index (``+rec`` is no index's column), while
    #: PostgreSQL needs it plain to pick the recording's partition
    rec_by_id: str = "+rec"

    def __init__(self) -> None:
        self._texts: dict[str, str] = {}
        self.lock = threading.RLock()

    def text(self, name: str) -> str:
        """Query ``name`` in this dialect."""
        if name not in self._texts:
            raw = sqlfiles.query(PACKAGE, name).replace(
                "{ids}", self.id_list.replace("?", "\x00")).replace("{rec}", self.rec_by_id)
            self._texts[name] = raw.replace("?", self.placeholder).replace(
                "\x00", self.placeholder)
        return self._texts[name]

    @abstractmethod
    def rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """Run ``sql``; its rows (none for a statement that returns none)."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Fetched:
        with self.lock:
            return Fetched(self.rows(sql, params))

    @abstractmethod
    @contextmanager
    def write(self) -> Iterator[None]:
        """One write transaction (committed on leaving, rolled back on an exception)."""

    @abstractmethod
    @contextmanager
    def read(self) -> Iterator[None]:
        """One consistent read (a snapshot of the store for the queries inside)."""

    @abstractmethod
    def serialize(self) -> None:
        """Inside a write: wait for other writers' catalog changes (fields, layouts)."""

    def params(self, params: Sequence[Any]) -> Sequence[Any]:
        """Parameters as the driver takes them (lists of ids as the dialect passes them)."""
        return params

    def one(self, name: str, *params: Any) -> Row | None:
        row = self.execute(self.text(name), self.params(params)).fetchone()
        return None if row is None else tuple(row)

    def all(self, name: str, *params: Any) -> list[Row]:
        return [tuple(r) for r in self.execute(self.text(name), self.params(params)).fetchall()]

    def run(self, name: str, *params: Any) -> None:
        self.execute(self.text(name), self.params(params))

    def insert(self, name: str, *params: Any) -> int:
        """Run an ``INSERT ... RETURNING id``; the id."""
        row = self.one(name, *params)
        assert row is not None
        return int(row[0])

    def insert_many(self, name: str, rows: Sequence[Sequence[Any]]) -> list[int]:
        """Run an ``INSERT ... RETURNING id`` for each of ``rows``; their ids, in order."""
        return [self.insert(name, *row) for row in rows]
