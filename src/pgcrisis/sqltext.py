"""SQL identifiers as text, quoted the way PostgreSQL's own ``quote_ident()`` quotes them.

Shown SQL (a remedy, a ``cache prepare`` step, the journal) must run as printed and read
like the names the catalogue queries return (``quote_ident(nspname) || '.' || ...``). So a
name stays bare only when PostgreSQL would leave it bare: lower-case ``[a-z_][a-z0-9_]*``
and not a keyword outside the unreserved ones (``order``, ``user``, ``int``, ``left`` are
quoted); everything else is quoted by :class:`psycopg.sql.Identifier`, which doubles
embedded quotes. This is the one place pgcrisis quotes an identifier by hand-written rule.

>>> ident("customer_id"), ident("order"), ident("Total"), ident('a"b'), ident("name")
('customer_id', '"order"', '"Total"', '"a""b"', 'name')
>>> qualified("public", "order")
'public."order"'
"""

from __future__ import annotations

import re

from pglast.keywords import COL_NAME_KEYWORDS, RESERVED_KEYWORDS, TYPE_FUNC_NAME_KEYWORDS
from psycopg import sql
from psycopg.abc import AdaptContext

_BARE = re.compile(r"[a-z_][a-z0-9_]*")
#: keywords that cannot stand as a bare column name somewhere (ruleutils.c quotes them)
_QUOTED_KEYWORDS = frozenset(RESERVED_KEYWORDS | COL_NAME_KEYWORDS | TYPE_FUNC_NAME_KEYWORDS)


def ident(name: str) -> str:
    """``name`` as an SQL identifier: bare where PostgreSQL's ``quote_ident`` leaves it bare,
    else double-quoted."""
    if _BARE.fullmatch(name) and name not in _QUOTED_KEYWORDS:
        return name
    return sql.Identifier(name).as_string(None)


def qualified(*parts: str) -> str:
    """``schema.name`` (or any dotted path), each part through :func:`ident`."""
    return ".".join(ident(p) for p in parts)


class Ident(sql.Composable):
    """An identifier (or a dotted path) for :mod:`psycopg.sql` templates, rendered by
    :func:`qualified`: bare where PostgreSQL would leave it bare, so composed statements read
    exactly like the names the catalogue returns.

    >>> query = sql.SQL("SELECT {} FROM {}").format(Ident("order"), Ident("public", "t"))
    >>> query.as_string(None)
    'SELECT "order" FROM public.t'
    """

    def __init__(self, *parts: str) -> None:
        if not parts:
            raise TypeError("an identifier needs at least one part")
        super().__init__(parts)

    def as_bytes(self, context: AdaptContext | None = None) -> bytes:
        return qualified(*self._obj).encode()
