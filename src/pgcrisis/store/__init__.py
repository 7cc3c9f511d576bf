"""The recording store: where ``pgcrisis record`` keeps its frames and events, and where every
question about the past (``triage --at``, ``top --store``, ``serve``) reads them back.

This is the public surface: :func:`open_store` opens one by what a person typed (a SQLite
file, or a central PostgreSQL database by its ``postgresql://`` DSN) and gives a
:class:`Store` (reading, and a :class:`StoreWriter` per recording); a :class:`Frame` is what
the recorder hands it, a snapshot and the parts read at its moment; :mod:`.series` is the
per-minute figures it derives at write time. Everything else is the engine's own, in private
modules, from the outside in:

- ``_sqlite`` and ``_postgres``: what differs between the two stores (connections, locks,
  size limits, partitions); ``_writer`` and ``_reader``: what they share (frames written as
  changes, ``snapshot_at``, thinning and retention), over the SQL in ``sql/`` (``_db``);
  ``_meta``: which store versions this pgcrisis reads;
- ``_codec``: field values to compact bytes and back (``_layout`` for the dataclasses'
  positional form, ``_clocks`` for ages), ``_content``: each piece of it stored once,
  ``_stored_frame``: a frame row, ``_thinning``: what old detail goes (pure planning).

Judging a recording loads no database driver: the PostgreSQL store is imported only when a
``postgresql://`` store is opened.
"""

from __future__ import annotations

from pgcrisis.store._db import from_us, to_us
from pgcrisis.store._interface import (
    FIGURES,
    Event,
    Frame,
    LogErrorCount,
    LogSlowCount,
    SeriesColumns,
    Store,
    StoreWriter,
    Writing,
)

__all__ = ["FIGURES", "Event", "Frame", "LogErrorCount", "LogSlowCount", "SeriesColumns",
           "Store", "StoreWriter", "Writing", "from_us", "is_central", "open_store", "to_us"]

_PG_SCHEMES = ("postgresql://", "postgres://")


def is_central(spec: str) -> bool:
    """Whether ``spec`` names a central PostgreSQL store (a URI DSN) rather than a file."""
    return spec.startswith(_PG_SCHEMES)


def open_store(spec: str, *, create: bool) -> Store:
    """The store at ``spec``: a SQLite file (created if ``create``), or a PostgreSQL database
    given by a ``postgresql://`` / ``postgres://`` DSN (its schema created if ``create``).
    Raises :class:`~pgcrisis.errors.StoreError` with one line when it cannot be used."""
    if is_central(spec):
        from pgcrisis.store._postgres import PgStore
        return PgStore(spec, create=create)
    from pgcrisis.store._sqlite import SqliteStore
    return SqliteStore(spec, create=create)
