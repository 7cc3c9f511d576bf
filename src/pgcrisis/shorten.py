"""Text shortened to fit: a statement on one line in a title, a job's command as its label,
a long value in a narrow pane. Every cut pgcrisis makes goes through here.

>>> query("SELECT  *\\n  FROM orders   WHERE id = $1", 15)
'SELECT * FROM…'
>>> one_line("SELECT  *\\n  FROM orders", 12)
'SELECT * FR…'
>>> first_line("ERROR: division by zero\\nCONTEXT: ...", 14)
'ERROR: divi...'
"""

from __future__ import annotations

from collections.abc import Sequence


def cut(text: str, limit: int, *, mark: str = "…", trim: bool = False) -> str:
    """``text`` if it fits in ``limit`` characters, else its start and ``mark``, ``limit``
    characters in all (``trim``: the start's trailing blanks dropped before the mark).

    >>> cut("SELECT * FROM t", 10), cut("SELECT * FROM t", 10, trim=True)
    ('SELECT * …', 'SELECT *…')
    >>> cut("abcdef", 5, mark="...")
    'ab...'
    >>> cut("short", 5)
    'short'
    """
    if len(text) <= limit:
        return text
    start = text[: limit - len(mark)]
    return (start.rstrip() if trim else start) + mark


def one_line(text: str, limit: int, *, mark: str = "…", trim: bool = False) -> str:
    """``text`` with every run of white space (newlines too) made one space, then
    :func:`cut`."""
    return cut(" ".join(text.split()), limit, mark=mark, trim=trim)


def query(text: str, limit: int = 80) -> str:
    """A statement on one line, as findings name it: cut after a word's end where it can be.

    >>> query("SELECT a, b, c FROM t", 12)
    'SELECT a, b…'
    """
    return one_line(text, limit, trim=True)


def listed(names: Sequence[str], limit: int = 6) -> str:
    """``a, b, c and 4 more``: a long list in text stays short (every name is in the JSON).

    >>> listed(["a", "b", "c"], limit=2), listed(["a", "b"])
    ('a, b and 1 more', 'a, b')
    """
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f" and {len(names) - limit} more"


def first_line(text: str | None, limit: int, *, mark: str = "...") -> str:
    """The first line of ``text`` (outer blanks dropped), cut to ``limit`` characters."""
    stripped = (text or "").strip()
    return cut(stripped.splitlines()[0] if stripped else "", limit, mark=mark)
