"""The two things errors are grouped by besides SQLSTATE: the statement, normalized
(literals become ``?``), and the tag of a sqlcommenter-style comment
(``/* view='customer_report' */``), which is how an application says which of its views ran
the statement.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

# -- the statement and its tag -----------------------------------------------------------------

_COMMENT = re.compile(r"/\*(.*?)\*/", re.S)
_PAIR = re.compile(r"""(\w[\w.-]*)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|"([^"]*)"|([^\s,]+))""")
#: the keys taken as a tag, in this order (sqlcommenter writes ``route``, ``controller``...)
TAG_KEYS = ("view", "tag", "route", "controller", "action", "framework")


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


_STRING = re.compile(r"(?:[eE])?'(?:[^']|'')*'")
_DOLLAR = re.compile(r"\$(\w*)\$.*?\$\1\$", re.S)
_NUMBER = re.compile(r"(?<![\w$.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b")
_LIST = re.compile(r"\(\s*\?(?:\s*,\s*\?)+\s*\)")
_SPACE = re.compile(r"\s+")
#: a normalized statement is cut here (it is a group's key, not the statement's record)
STATEMENT_MAX = 400


def normalize(statement: str) -> str:
    """The statement without comments, its literals as ``?``, lists of them as one, spaces
    collapsed.

    >>> normalize("SELECT * FROM t WHERE id IN (1, 2, 3) AND name = 'x' /* view='a' */")
    'SELECT * FROM t WHERE id IN (?) AND name = ?'
    """
    text = _COMMENT.sub(" ", statement)
    text = _DOLLAR.sub("?", text)
    text = _STRING.sub("?", text)
    text = _NUMBER.sub("?", text)
    text = _LIST.sub("(?)", text)
    return _SPACE.sub(" ", text).strip().rstrip(";").strip()[:STATEMENT_MAX]
