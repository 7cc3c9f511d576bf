"""Small wording helpers shared by checks (pure).

Durations, sizes, shortened text and quoting have modules of their own
(:mod:`pgcrisis.durations`, :mod:`pgcrisis.sizes`, :mod:`pgcrisis.shorten`,
:mod:`pgcrisis.sqltext`).
"""

from __future__ import annotations

from pgcrisis.model.activity import Backend


def plural(n: int, word: str, many: str | None = None) -> str:
    """``3 sessions``, ``1 session``.

    >>> plural(1, "session"), plural(2, "lock")
    ('1 session', '2 locks')
    """
    return f"{n} {word if n == 1 else (many or word + 's')}"


def who(backend: Backend) -> str:
    """The name a person recognises a session by: application, else user."""
    return backend.application_name or backend.usename or backend.backend_type or "?"
