"""Contention: many short waits on the same thing, changing hands (issue 20, point 4).

A lock chain has a culprit when its root holds the lock for a meaningful time (an idle
transaction, a long statement, an orphaned prepared transaction). Under contention there is
none: a hundred clients update the same five rows, or insert into the same table, and each
holds the row, the extension lock or the buffer for a millisecond before the next takes it.
What to act on is the contended thing and the load that makes it: the table, the statement,
the clients. Three kinds, each acted on differently:

- :data:`ROW_LOCKS`: waits for a row another transaction has locked (``Lock``/
  ``transactionid``: the row's updater has not committed yet; ``Lock``/``tuple``: queued
  behind the first waiter for the same row). Hot rows: spread them, batch their updates.
- :data:`EXTENSION`: waits to extend a relation by a page (``Lock``/``extend``; ``page`` is
  the same for a GIN index's pending list or a hash index). Concurrent inserts into one
  table: batch them, partition the table.
- :data:`LWLOCK`: waits for one of the server's lightweight locks (``LWLock``/*): a hot
  page's content (``BufferContent``: a table's last page, an index's right-most leaf, a
  few hot rows' page), the WAL (``WALInsert``, ``WALWrite``, ``WALBufMapping``: many
  small commits), the lock manager (``LockManager``: statements locking many relations)...

Pure, like the rest of :mod:`pgcrisis.model`: the load profile counts sessions per kind
(:func:`kind_of` is what the collector classifies by), the contention checks judge them.
"""

from __future__ import annotations

from typing import Final, Literal

#: the kinds, named as the load profile's fields that count them
ROW_LOCKS: Final = "row_locks"
EXTENSION: Final = "extension"
LWLOCK: Final = "lwlock"
Kind = Literal["row_locks", "extension", "lwlock"]
KINDS: tuple[Kind, ...] = ("row_locks", "extension", "lwlock")

#: heavyweight lock waits (``wait_event`` of ``Lock``) of each kind
ROW_LOCK_EVENTS = frozenset({"transactionid", "tuple"})
EXTENSION_EVENTS = frozenset({"extend", "page"})
#: LWLocks of the write-ahead log (PostgreSQL 13+ names; ``WALWriteLock`` before)
WAL_LWLOCKS = frozenset({"WALInsert", "WALWrite", "WALWriteLock", "WALBufMapping",
                         "WALBufMappingLock", "WALInsertLock"})
#: LWLocks on the contents and the mapping of shared buffers
BUFFER_LWLOCKS = frozenset({"BufferContent", "buffer_content", "BufferMapping",
                            "buffer_mapping"})
LOCK_MANAGER_LWLOCKS = frozenset({"LockManager", "lock_manager"})


def kind_of(wait_event_type: str | None, wait_event: str | None) -> Kind | None:
    """The contention kind of a session's wait, or None for any other wait.

    >>> kind_of("Lock", "tuple"), kind_of("Lock", "extend"), kind_of("LWLock", "WALWrite")
    ('row_locks', 'extension', 'lwlock')
    >>> kind_of("Lock", "relation") is None, kind_of("IO", "WALWrite") is None
    (True, True)
    """
    if wait_event_type == "Lock":
        if wait_event in ROW_LOCK_EVENTS:
            return "row_locks"
        if wait_event in EXTENSION_EVENTS:
            return "extension"
        return None
    return "lwlock" if wait_event_type == "LWLock" else None


def lwlock_family(name: str | None) -> str:
    """What an LWLock guards, as a remedy is chosen by: ``wal``, ``buffer``, ``lock manager``
    or ``other``.

    >>> lwlock_family("WALInsert"), lwlock_family("BufferContent"), lwlock_family("XidGen")
    ('wal', 'buffer', 'other')
    """
    if name in WAL_LWLOCKS:
        return "wal"
    if name in BUFFER_LWLOCKS:
        return "buffer"
    if name in LOCK_MANAGER_LWLOCKS:
        return "lock manager"
    return "other"


#: what each kind is, for titles and details
NOUNS: dict[Kind, str] = {
    "row_locks": "row locks",
    "extension": "the relation extension lock",
    "lwlock": "LWLocks",
}
