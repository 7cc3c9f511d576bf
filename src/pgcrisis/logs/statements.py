"""What a logged statement is grouped by besides the error it raised: its normalized form (its
literals as ``?``, the same statement with other values in one group), and the tag of a
sqlcommenter-style comment (``/* view='customer_report' */``), which is how an application says
which of its views ran it.

Normalizing goes through PostgreSQL's own parser (pglast's ``normalize``, what
pg_stat_statements does to a statement's constants) when the statement parses; a statement
that does not (cut, a syntax error, another dialect) falls back to regular expressions. Both
write one form, so the same statement's variants group together whichever way they went:

- every constant is ``?`` (pglast's ``$1``, ``$2``... are written ``?``, and so is a ``$n``
  parameter the client sent: ``WHERE id = $1`` and ``WHERE id = 5`` are one statement);
- a list of constants is one: ``IN (?)``;
- comments are gone, runs of white space are one space, a final ``;`` is dropped;
- the result is cut at :data:`STATEMENT_MAX` characters (a group's key, not the statement's
  record).

A log repeats the same statement texts millions of times: both functions keep their latest
answers (:data:`CACHE_SIZE`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import unquote

from pglast.parser import ParseError
from pglast.parser import normalize as parsed_normalize

#: how many statement texts' answers are kept
CACHE_SIZE = 65_536
#: a normalized statement is cut here (it is a group's key, not the statement's record)
STATEMENT_MAX = 400
#: the keys taken as a tag, in this order (sqlcommenter writes ``route``, ``controller``...)
TAG_KEYS = ("view", "tag", "route", "controller", "action", "framework")

_COMMENT = re.compile(r"/\*(.*?)\*/", re.S)
_LINE_COMMENT = re.compile(r"--[^\n]*")
_PAIR = re.compile(r"""(\w[\w.-]*)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|"([^"]*)"|([^\s,]+))""")
_STRING = re.compile(r"(?<!\w)[eE]'(?:[^'\\]|\\.|'')*'|'(?:[^']|'')*'")
_DOLLAR = re.compile(r"\$(\w*)\$.*?\$\1\$", re.S)
_NUMBER = re.compile(r"(?<![\w$.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b")
_PARAM = re.compile(r"(?<![\w$])\$\d+\b")
_LIST = re.compile(r"\(\s*\?(?:\s*,\s*\?)+\s*\)")
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=CACHE_SIZE)
def tag_of(statement: str) -> str:
    """The tag of a sqlcommenter-style comment: the ``view`` key's value, else another known
    key as ``key=value``; ``""`` when there is none (values are URL-decoded).

    >>> tag_of("SELECT 1 /* view='customer_report',db_driver='psycopg' */")
    'customer_report'
    >>> tag_of("/*route='%2Forders'*/ SELECT 1")
    'route=/orders'
    >>> tag_of("SELECT 1")
    ''
    """
    pairs: dict[str, str] = {}
    for comment in _COMMENT.findall(statement):
        for key, q1, q2, bare in _PAIR.findall(comment):
            pairs.setdefault(key.lower(), unquote(q1 or q2 or bare))
    for key in TAG_KEYS:
        if key in pairs:
            return pairs[key] if key == "view" else f"{key}={pairs[key]}"
    return ""


@lru_cache(maxsize=CACHE_SIZE)
def normalize(statement: str) -> str:
    """The statement in its normalized form (the module's docstring): by PostgreSQL's parser
    where it parses, else by :func:`rough`.

    >>> normalize("SELECT * FROM t WHERE id IN (1, 2, 3) AND name = 'x' /* view='a' */")
    'SELECT * FROM t WHERE id IN (?) AND name = ?'
    >>> normalize("SELECT * FROM t WHERE id = $1 -- a comment")
    'SELECT * FROM t WHERE id = ?'
    """
    try:
        text = parsed_normalize(statement)
    except ParseError:
        return rough(statement)
    # the constants are gone: what is left of '/*' or '--' is a comment (or an identifier's)
    text = _LINE_COMMENT.sub(" ", _COMMENT.sub(" ", text))
    return _written(_PARAM.sub("?", text))


def rough(statement: str) -> str:
    """The normalized form by regular expressions, for a statement PostgreSQL's parser does
    not take: comments, dollar-quoted and quoted strings, numbers.

    >>> rough("SELEC * FROM t WHERE id IN (1, 2, 3) AND name = 'x' /* view='a' */")
    'SELEC * FROM t WHERE id IN (?) AND name = ?'
    """
    text = _COMMENT.sub(" ", statement)
    text = _DOLLAR.sub("?", text)
    text = _STRING.sub("?", text)
    text = _NUMBER.sub("?", text)
    return _written(_PARAM.sub("?", text))


def _written(text: str) -> str:
    """Lists of constants as one, white space collapsed, no final ``;``, cut."""
    text = _LIST.sub("(?)", text)
    return _SPACE.sub(" ", text).strip().rstrip(";").strip()[:STATEMENT_MAX]
