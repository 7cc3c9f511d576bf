"""Where an active session's time goes: wait classes as a load chart shows them, and which
waits are a data file's I/O or a writer's.

One place for how pg_stat_activity's ``state``, ``wait_event_type`` and ``wait_event`` are
read: the load window's probe, the recorder's frames, the saturation checks, ``top`` and
``serve`` all classify a session by these functions.
"""

from __future__ import annotations

#: the class of an active session with no wait event: running, or waiting for a core
CPU = "CPU"
#: wait events of a session waiting for a data file's block to be read or written (PostgreSQL
#: 18's asynchronous I/O waits for its reads as ``AioIoCompletion``); ``IPC``/``BufferIO`` is
#: waiting for another process's read or write of the same buffer
_DATA_FILE_PREFIXES = ("DataFile", "Aio")


#: the wait classes a chart of the load shows, in the order they stack (on CPU at the bottom);
#: every other wait event type (BufferPin, Extension, Timeout, Activity) is shown as ``Other``
SHOWN_CLASSES = ("CPU", "IO", "Lock", "LWLock", "IPC", "Client", "Other")
OTHER = "Other"


def shown_class(wait_class: str) -> str:
    """The class of :data:`SHOWN_CLASSES` a wait class is shown as.

    >>> shown_class("LWLock"), shown_class("BufferPin")
    ('LWLock', 'Other')
    """
    return wait_class if wait_class in SHOWN_CLASSES else OTHER


def wait_class(state: str | None, wait_event_type: str | None) -> str | None:
    """The class an active session's time goes to (``CPU`` with no wait event), or None for a
    session that is not active.

    >>> wait_class("active", None), wait_class("active", "IO"), wait_class("idle", "Client")
    ('CPU', 'IO', None)
    """
    if state != "active":
        return None
    return wait_event_type or CPU


def is_data_file_io(wait_event_type: str | None, wait_event: str | None) -> bool:
    """Whether a wait is for a data file's block (read, write, extend, prefetch, sync).

    >>> is_data_file_io("IO", "DataFileRead"), is_data_file_io("IO", "WALWrite")
    (True, False)
    >>> is_data_file_io("IO", "AioIoCompletion"), is_data_file_io("IPC", "BufferIO")
    (True, True)
    """
    if wait_event is None:
        return False
    if wait_event_type == "IO":
        return wait_event.startswith(_DATA_FILE_PREFIXES)
    return wait_event_type == "IPC" and wait_event == "BufferIO"


def is_write_wait(wait_event_type: str | None, wait_event: str | None) -> bool:
    """Whether a wait is a writer's: for the WAL (its insertion, write and flush, a
    synchronous standby's confirmation), or to extend a table (its lock, its new blocks).

    >>> is_write_wait("LWLock", "WALWrite"), is_write_wait("IO", "WalSync")
    (True, True)
    >>> is_write_wait("Lock", "extend"), is_write_wait("IO", "DataFileRead")
    (True, False)
    """
    event = (wait_event or "").lower()
    if wait_event_type in ("IO", "LWLock"):
        return event.startswith(("wal", "datafileextend", "relationextension"))
    if wait_event_type == "Lock":
        return event == "extend"
    return wait_event_type == "IPC" and event == "syncrep"
