"""The probes' queries: the named ``.sql`` files in ``collect/sql/``, in the variant for the
server version (read by :mod:`pgcrisis.sqlfiles`, which says how variants are named)."""

from __future__ import annotations

from pgcrisis import sqlfiles


def query(name: str, version_num: int = sqlfiles.LATEST) -> str:
    """The text of query ``name`` for a server of ``version_num``."""
    return sqlfiles.query("pgcrisis.collect", name, version_num)
