"""Where a materialized view's row key comes from, for the unique index CONCURRENTLY needs.

In order of trust: a key *declared* in the view's comment (``pgcrisis key: a, b``), the
view's own GROUP BY / DISTINCT columns (a key by construction), then columns that turn out
unique and never NULL in the data. Every candidate is verified against the data before an
index is built: a declared key that is not unique is refused, not forced.

>>> declared_key("Totals per customer. pgcrisis key: customer_id, day")
('customer_id', 'day')
>>> declared_key("no key here")
()
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DECLARED = re.compile(r"pgcrisis\s+key\s*[:=]\s*\(?([^);\n]+)\)?", re.IGNORECASE)


def declared_key(comment: str) -> tuple[str, ...]:
    """The key columns a comment declares, or ``()``."""
    match = _DECLARED.search(comment or "")
    if not match:
        return ()
    parts = [p.strip().strip('"').strip() for p in match.group(1).split(",")]
    return tuple(p for p in parts if p)


@dataclass(frozen=True, slots=True)
class KeyCheck:
    """What the data says about candidate key columns: rows, distinct keys, NULL keys."""

    rows: int
    distinct: int
    null_rows: int

    @property
    def unique(self) -> bool:
        """Unique and never NULL: a usable row key."""
        return self.distinct == self.rows and self.null_rows == 0


@dataclass(frozen=True, slots=True)
class PrepareStep:
    """What ``cache prepare`` does (or would do) for one view.

    ``status``: ``ready`` (nothing to do), ``index`` (build the unique index),
    ``populate`` (has its index; needs one plain refresh to be populated), ``refused``
    (the only key candidate is not unique or has NULLs), ``no-key`` (no candidate at all).
    """

    view: str
    status: str
    key: tuple[str, ...] = ()
    key_from: str = ""        # declared, definition, data
    sql: tuple[str, ...] = ()
    reason: str = ""
