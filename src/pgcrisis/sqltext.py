"""SQL identifiers as text, quoted the way PostgreSQL's own ``quote_ident()`` quotes them.

Shown SQL (a remedy, a ``cache prepare`` step, the journal) must run as printed and read
like the names the catalogue queries return (``quote_ident(nspname) || '.' || ...``). So a
name stays bare only when PostgreSQL would leave it bare: lower-case ``[a-z_][a-z0-9_]*``
and not a keyword outside the unreserved ones (``order``, ``user``, ``int``, ``left`` are
quoted); everything else is double-quoted, embedded quotes doubled. This is the one place
pgcrisis quotes an identifier by hand-written rule (psycopg.sql quotes every name, so its
statements would not read like the catalogue's).

>>> ident("customer_id"), ident("order"), ident("Total"), ident('a"b'), ident("name")
('customer_id', '"order"', '"Total"', '"a""b"', 'name')
>>> qualified("public", "order")
'public."order"'
"""

from __future__ import annotations

import re
from functools import cache

_BARE = re.compile(r"[a-z_][a-z0-9_]*")


@cache
def _quoted_keywords() -> frozenset[str]:
    """Keywords that cannot stand as a bare column name somewhere (ruleutils.c quotes them).

    pglast's keyword lists are PostgreSQL's own; they are loaded at the first name that
    could be one, because importing pglast loads its parser (judging a recording that
    quotes no name should not pay for it)."""
    from pglast.keywords import COL_NAME_KEYWORDS, RESERVED_KEYWORDS, TYPE_FUNC_NAME_KEYWORDS

    return frozenset(RESERVED_KEYWORDS | COL_NAME_KEYWORDS | TYPE_FUNC_NAME_KEYWORDS)


def ident(name: str) -> str:
    """``name`` as an SQL identifier: bare where PostgreSQL's ``quote_ident`` leaves it bare,
    else double-quoted with embedded quotes doubled (``quote_ident``'s own rule)."""
    if _BARE.fullmatch(name) and name not in _quoted_keywords():
        return name
    return '"' + name.replace('"', '""') + '"'


def qualified(*parts: str) -> str:
    """``schema.name`` (or any dotted path), each part through :func:`ident`."""
    return ".".join(ident(p) for p in parts)
