"""What marks a recording store, and which versions of it this pgcrisis can read.

Both stores keep a ``meta`` table: ``store`` (this mark), ``schema`` (the tables' version)
and ``format`` (the encoding's, :data:`pgcrisis.store._codec.FORMAT_VERSION`). A store whose
schema or format is newer than this pgcrisis knows is refused rather than misread; an older
schema is read as it is (what it lacks reads as empty, or is derived again from the frames) and
brought up to date (:func:`upgrade_statements`) when a recorder opens it to write.
"""

from __future__ import annotations

from collections.abc import Mapping

from pgcrisis import sqlfiles
from pgcrisis.errors import StoreError
from pgcrisis.store._codec import FORMAT_VERSION
from pgcrisis.store._db import PACKAGE

#: the value of ``meta.store`` in every recording store
STORE_MARK = "pgcrisis-record"
#: the version of the tables (bump with a migration when they change): 2 added ``series`` (the
#: per-minute figures of the charts) and ``log_errors`` (errors counted from the server's log);
#: 3 added the load by wait class, the CPU count and the statements' span to ``series``;
#: 4 is the load frames' (another change); 5 added the role and database to ``log_errors``
#: and the slow statements of the log (``log_slow``); 6 the daily rollups (``rollup_*``)
SCHEMA_VERSION = 6
#: the schema from which ``log_errors`` has ``role_name``/``db_name`` and ``log_slow`` exists
#: (renumbering this change is this, :data:`SCHEMA_VERSION` and ``sql/schema_v5.sql``' name)
LOG_DIMENSIONS_SCHEMA = 5
#: the schema from which a store keeps daily rollups (renumbering this change is this,
#: :data:`SCHEMA_VERSION` and ``sql/schema_v6.sql``' name)
ROLLUPS_SCHEMA = 6
#: the tables a SQLite store makes ``WITHOUT ROWID`` (their rows are their keys: one copy)
_WITHOUT_ROWID = "CREATE TABLE IF NOT EXISTS rollup_"


def meta_rows() -> list[tuple[str, str]]:
    """The ``meta`` rows of a store this pgcrisis creates."""
    return [("store", STORE_MARK), ("schema", str(SCHEMA_VERSION)),
            ("format", str(FORMAT_VERSION))]


def check_meta(meta: Mapping[str, str], where: str) -> None:
    """Refuse, with one line, a store that is not one or that is newer than this pgcrisis."""
    if meta.get("store") != STORE_MARK:
        raise StoreError(f"{where} is not a pgcrisis recording store")
    try:
        schema, fmt = int(meta["schema"]), int(meta["format"])
    except (KeyError, ValueError):
        raise StoreError(f"{where} is a damaged pgcrisis recording store (no version)") from None
    if schema > SCHEMA_VERSION or fmt > FORMAT_VERSION:
        raise StoreError(f"{where} was written by a newer pgcrisis (store schema {schema}, "
                         f"encoding {fmt}; this one reads up to {SCHEMA_VERSION} and "
                         f"{FORMAT_VERSION}): upgrade pgcrisis to read it")


def schema_of(meta: Mapping[str, str]) -> int:
    """The schema version of a store whose meta :func:`check_meta` accepted."""
    return int(meta["schema"])


def upgrade_statements(schema: int, *, sqlite: bool = False) -> list[str]:
    """The DDL that brings a store of ``schema`` to :data:`SCHEMA_VERSION` (both kinds: the
    ``schema_v<N>.sql`` files are written in SQL both dialects read; for ``sqlite``, the
    rollup tables are made ``WITHOUT ROWID``, which halves them)."""
    out: list[str] = []
    for version in range(schema + 1, SCHEMA_VERSION + 1):
        out += sqlfiles.statements(PACKAGE, f"schema_v{version}")
    if sqlite:
        out = [s + " WITHOUT ROWID" if s.startswith(_WITHOUT_ROWID) else s for s in out]
    return out
