"""Sizes in bytes: read as people type them, written in the style each place shows them in.

Every size pgcrisis reads or writes goes through here. Bytes in, text out:

- ``words``: ``3.5 MB``, ``120 MB``, ``40 GB``; findings (tables, indexes, views)
- ``binary``: ``512.0 MiB``, ``1.50 GiB``; the WAL a replication slot retains
- ``whole``: ``512 B``, ``5 kB``, ``3 GB``; ``cache``'s table of views
- ``megabytes``: ``1.5 MB``, ``1,536 MiB``; a figure always in MB (a plan's blocks read,
  ``top``'s retained WAL)
- ``setting_above``: ``64MB``; the memory setting (``work_mem``) that would hold it

Units are binary (a MB is 2^20 bytes), as PostgreSQL's ``pg_size_pretty`` counts them.

>>> words(3 * 2**20), binary(3 * 2**30 // 2), whole(5 * 2**20)
('3.0 MB', '1.50 GiB', '5 MB')
>>> parse("1GiB"), parse("10m")
(1073741824, 10485760)
"""

from __future__ import annotations

import math
import re

from pgcrisis.errors import ConfigError

_TYPED = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$")
_MB, _GB = 2**20, 2**30


def parse(text: str) -> int:
    """Bytes from ``500MB``, ``1GiB``, ``2g`` (binary units; a bare number is bytes).

    >>> parse("2GiB") == 2 * 2**30, parse("512")
    (True, 512)
    """
    match = _TYPED.match(text.strip().lower())
    if not match:
        raise ConfigError(f"{text!r} is not a size: give e.g. 500MB, 1GiB")
    power = " kmgt".index(match[2] or " ")
    return int(float(match[1]) * 1024 ** power)


def words(n_bytes: float, *, largest: str = "GB") -> str:
    """In MB, or GB from 1 GB (``largest="MB"``: always MB); whole with thousands separators,
    with one decimal under 10 units.

    >>> words(3 * 2**20), words(40 * 2**30), words(40 * 2**30, largest="MB")
    ('3.0 MB', '40 GB', '40,960 MB')
    """
    unit, size = ("GB", _GB) if largest == "GB" and n_bytes >= _GB else ("MB", _MB)
    value = n_bytes / size
    return f"{value:,.0f} {unit}" if value >= 10 else f"{value:,.1f} {unit}"


def binary(n_bytes: float) -> str:
    """GiB with two decimals from 1 GiB, else MiB with one.

    >>> binary(3 * 2**29), binary(5 * 2**20)
    ('1.50 GiB', '5.0 MiB')
    """
    if n_bytes >= _GB:
        return f"{n_bytes / _GB:,.2f} GiB"
    return f"{n_bytes / _MB:,.1f} MiB"


def whole(n_bytes: int) -> str:
    """In the largest unit under 1024 of it, whole units (rounded down).

    >>> whole(512), whole(5 * 2**20 + 1), whole(3 * 2**40)
    ('512 B', '5 MB', '3 TB')
    """
    n = n_bytes
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1024:
            return f"{n:.0f} {unit}"
        n //= 1024
    return f"{n:.0f} TB"


def megabytes(n_bytes: float, *, decimals: int = 1, unit: str = "MB") -> str:
    """Always in MB, with ``decimals`` and thousands separators (``unit``: what the place
    calls a MB).

    >>> megabytes(3 * 2**19), megabytes(1536 * 2**20, decimals=0, unit="MiB")
    ('1.5 MB', '1,536 MiB')
    """
    return f"{n_bytes / _MB:,.{decimals}f} {unit}"


def setting_above(n_bytes: float) -> str:
    """The next power-of-two MB at or above ``n_bytes`` (1MB at least), written as a memory
    setting takes it.

    >>> setting_above(3 * 2**20), setting_above(100), setting_above(2**30)
    ('4MB', '1MB', '1024MB')
    """
    megabytes = max(1.0, n_bytes / _MB)
    return f"{2 ** math.ceil(math.log2(megabytes))}MB"
