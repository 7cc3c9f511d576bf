"""The probes' queries: the named ``.sql`` files in ``collect/sql/``, in the variant for the
server version (read by :mod:`pgcrisis.sqlfiles`, which says how variants are named).

Where only a part of a query differs between versions, that part is a *fragment*: a file of
its own with a variant per version, named in the query as a ``{placeholder}`` and filled in
by :func:`composed`, so the rest of the query is written once.
"""

from __future__ import annotations

import string
from typing import TYPE_CHECKING

from pgcrisis import sqlfiles

if TYPE_CHECKING:
    from psycopg import sql as psql

PACKAGE = "pgcrisis.collect"


def query(name: str, version_num: int = sqlfiles.LATEST) -> str:
    """The text of query ``name`` for a server of ``version_num``."""
    return sqlfiles.query(PACKAGE, name, version_num)


def composed(name: str, version_num: int = sqlfiles.LATEST,
             **identifiers: psql.Composable) -> psql.Composed:
    """Query ``name`` with its ``{placeholders}`` filled in: each by ``identifiers`` where
    given (names built with psycopg.sql), else by the fragment file of that name, in its
    variant for a server of ``version_num``. Literal braces are doubled in such a file."""
    from psycopg import sql as psql

    text = query(name, version_num)
    wanted = {field for _, field, _, _ in string.Formatter().parse(text) if field}
    fill: dict[str, psql.Composable] = {
        field: psql.SQL(query(field, version_num).strip()) for field in wanted - set(identifiers)}
    return psql.SQL(text).format(**fill, **identifiers)
