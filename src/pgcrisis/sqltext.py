"""Names and values in SQL text: the one place pgcrisis writes a quoted identifier or literal.

A statement that runs is composed with ``psycopg.sql`` (``sql.Identifier``, ``sql.Literal``);
what is shown (a remedy, a ``cache prepare`` step, an action in the journal) is its text,
written here without loading psycopg, because judging a recording must not load the driver.
``tests/test_sqltext.py`` proves each rule writes what psycopg composes and what the server's
own ``quote_ident()`` returns.

Identifiers are written two ways, each kept exactly as the triage contract shows it:

- :func:`ident` / :func:`qualified`: the way PostgreSQL's ``quote_ident()`` writes them, so a
  name reads like the ones the catalogue queries return (``quote_ident(nspname) || '.' ||
  ...``). A name stays bare only when PostgreSQL would leave it bare: lower-case
  ``[a-z_][a-z0-9_]*`` and not a keyword outside the unreserved ones (``order``, ``user``,
  ``int``, ``left`` are quoted); any other is :func:`quoted`.
- :func:`quoted`: every part double-quoted, embedded quotes doubled, as ``sql.Identifier``
  writes it (``ALTER ROLE "app" ...``).

A string (:func:`literal`) is standard SQL, quotes doubled, a backslash itself: what
``sql.Literal`` writes for text without a backslash (with one it writes ``E'a\\\\b'``, which a
server reads as the same string as ``'a\\b'`` with ``standard_conforming_strings`` on, the
default of every supported PostgreSQL).

>>> ident("customer_id"), ident("order"), ident("Total"), ident('a"b'), ident("name")
('customer_id', '"order"', '"Total"', '"a""b"', 'name')
>>> qualified("public", "order"), quoted("app"), quoted("public", "orders")
('public."order"', '"app"', '"public"."orders"')
>>> literal("it's")
"'it''s'"
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
    return quoted(name)


def qualified(*parts: str) -> str:
    """``schema.name`` (or any dotted path), each part through :func:`ident`."""
    return ".".join(ident(p) for p in parts)


def quoted(*parts: str) -> str:
    """``"schema"."name"``: every part double-quoted, embedded quotes doubled."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in parts)


def literal(text: str) -> str:
    """``text`` as a standard SQL string literal: single quotes doubled.

    >>> literal("a\\\\b"), literal("")
    ("'a\\\\b'", "''")
    """
    return "'" + text.replace("'", "''") + "'"
