"""The tables of the load profile: what each was read and written over a window, from the
statistics views' differences (``pg_statio_user_tables``, ``pg_stat_user_tables``); the I/O
and write checks name the tables that carry the load by them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RelationReads:
    """One table of the current database over the window (``pg_statio_user_tables``
    differences): blocks read from outside shared buffers and found in them, heap, indexes
    and TOAST (with its index) together."""

    name: str
    heap_blks_read: int
    heap_blks_hit: int
    idx_blks_read: int
    idx_blks_hit: int
    toast_blks_read: int = 0
    toast_blks_hit: int = 0

    @property
    def blks_read(self) -> int:
        return self.heap_blks_read + self.idx_blks_read + self.toast_blks_read

    @property
    def blks_hit(self) -> int:
        return self.heap_blks_hit + self.idx_blks_hit + self.toast_blks_hit


@dataclass(frozen=True, slots=True)
class RelationWrites:
    """One table of the current database over the window (``pg_stat_user_tables``
    differences): rows inserted, updated (those of them HOT: no index touched) and deleted.

    >>> RelationWrites("public.t", 10, 5, 3, 1).index_writes
    12
    """

    name: str
    n_tup_ins: int
    n_tup_upd: int
    n_tup_hot_upd: int
    n_tup_del: int
    relid: int = 0

    @property
    def written(self) -> int:
        """Rows inserted, updated and deleted."""
        return self.n_tup_ins + self.n_tup_upd + self.n_tup_del

    @property
    def index_writes(self) -> int:
        """Rows that added an entry to every index of the table: inserted, or updated other
        than HOT (a delete leaves the index entries for vacuum to remove)."""
        return self.n_tup_ins + self.n_tup_upd - self.n_tup_hot_upd
