"""Open a recording store by what the person typed: a file path, or a PostgreSQL DSN."""

from __future__ import annotations

from pgcrisis.record.frame import Store

_PG_SCHEMES = ("postgresql://", "postgres://")


def is_central(spec: str) -> bool:
    """Whether ``spec`` names a central PostgreSQL store (a URI DSN) rather than a file."""
    return spec.startswith(_PG_SCHEMES)


def open_store(spec: str, *, create: bool) -> Store:
    """The store at ``spec``: a SQLite file (created if ``create``), or a PostgreSQL database
    given by a ``postgresql://`` / ``postgres://`` DSN (its schema created if ``create``).
    Raises :class:`~pgcrisis.errors.StoreError` with one line when it cannot be used."""
    if is_central(spec):
        from pgcrisis.record.pg_store import PgStore
        return PgStore(spec, create=create)
    from pgcrisis.record.sqlite_store import SqliteStore
    return SqliteStore(spec, create=create)
