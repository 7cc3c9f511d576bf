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
from collections.abc import Sequence
from dataclasses import dataclass

from pgcrisis.model.matviews import Matview
from pgcrisis.sqltext import ident, qualified

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
class KeyIndex:
    """The unique index ``REFRESH ... CONCURRENTLY`` needs, on a view's row key.

    Built once (:func:`key_index`) and rendered from here only, for ``cache prepare`` and for
    triage's matview remedies alike, so the statement shown is the statement run, and the
    failed build's clean-up names the very index that was attempted.

    >>> ix = key_index(Matview(1, 'public."Sales"', True, False, relname="Sales",
    ...                        schema="public"), ["order"])
    >>> ix.create_sql()
    'CREATE UNIQUE INDEX CONCURRENTLY "Sales_order_key" ON public."Sales" ("order")'
    >>> ix.drop_sql()
    'DROP INDEX CONCURRENTLY IF EXISTS public."Sales_order_key"'
    """

    view: str                  # the view's canonical (quote_ident) name, from the catalogue
    schema: str                # unquoted; the index lives in its view's schema
    name: str                  # unquoted
    columns: tuple[str, ...]   # unquoted

    def create_sql(self) -> str:
        """``CREATE UNIQUE INDEX CONCURRENTLY name ON view (columns)``: the text that is
        shown, journaled and run."""
        return (f"CREATE UNIQUE INDEX CONCURRENTLY {ident(self.name)} ON {self.view} "
                f"({', '.join(ident(c) for c in self.columns)})")

    def drop_sql(self) -> str:
        """Drop what a failed concurrent build leaves behind (an invalid index)."""
        name = qualified(self.schema, self.name) if self.schema else ident(self.name)
        return f"DROP INDEX CONCURRENTLY IF EXISTS {name}"


def key_index(view: Matview, key: Sequence[str]) -> KeyIndex:
    """The unique index on ``key`` for ``view``, named ``<view>_<columns>_key`` (cut to
    PostgreSQL's 63 characters)."""
    name = f"{view.relname}_{'_'.join(key)}_key"[:63]
    return KeyIndex(view.name, view.schema, name, tuple(key))


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
    index: KeyIndex | None = None   # status ``index``: the index ``sql`` builds
