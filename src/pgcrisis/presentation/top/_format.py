"""Layout helpers shared by the screens: short durations, one-line query excerpts.

>>> age(None), age(4.2), age(184), age(7300), age(200000)
('', '4s', '3m04s', '2h01m', '2d07h')
>>> excerpt("SELECT *\\n  FROM orders   WHERE id = 1", 20)
'SELECT * FROM order…'
"""

from __future__ import annotations


def age(seconds: float | None) -> str:
    """A compact duration: ``4s``, ``3m04s``, ``2h01m``, ``2d07h``."""
    if seconds is None:
        return ""
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def excerpt(text: str, width: int) -> str:
    """``text`` on one line (whitespace collapsed), cut to ``width`` with an ellipsis."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"
