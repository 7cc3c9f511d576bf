"""Durations and sizes in words, for renderers (terminal text and picture labels alike).

>>> human_s(42), human_s(600), human_s(10800)
('42.0 s', '10.0 min', '3.0 h')
>>> human_size(512), human_size(5 * 1024 * 1024)
('512 B', '5 MB')
"""

from __future__ import annotations


def human_s(seconds: float) -> str:
    """Seconds under two minutes, minutes under two hours, else hours."""
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def human_size(n: int) -> str:
    """Bytes in the largest binary unit under 1024 (whole units)."""
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1024:
            return f"{n:.0f} {unit}"
        n //= 1024
    return f"{n:.0f} TB"
