"""Small wording helpers shared by checks (pure)."""

from __future__ import annotations

from pgcrisis.model.activity import Backend


def plural(n: int, word: str, many: str | None = None) -> str:
    """``3 sessions``, ``1 session``.

    >>> plural(1, "session"), plural(2, "lock")
    ('1 session', '2 locks')
    """
    return f"{n} {word if n == 1 else (many or word + 's')}"


def duration(seconds: float | None) -> str:
    """A compact human duration.

    >>> duration(41.2), duration(125), duration(7300), duration(None)
    ('41 s', '2 min 5 s', '2 h 1 min', '?')
    """
    if seconds is None:
        return "?"
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


def short_query(query: str, limit: int = 80) -> str:
    """One line of a query, cut to ``limit`` characters (with '…').

    >>> short_query("SELECT  *\\n  FROM orders")
    'SELECT * FROM orders'
    >>> short_query("SELECT a, b, c FROM t", 12)
    'SELECT a, b…'
    """
    one = " ".join(query.split())
    return one if len(one) <= limit else one[: limit - 1].rstrip() + "…"


def who(backend: Backend) -> str:
    """The name a person recognises a session by: application, else user."""
    return backend.application_name or backend.usename or backend.backend_type or "?"


def quote_literal(text: str) -> str:
    """A SQL string literal.

    >>> quote_literal("it's")
    "'it''s'"
    """
    return "'" + text.replace("'", "''") + "'"
