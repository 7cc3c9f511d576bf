"""What a log record tells about the server: a lock wait, a deadlock, a refused connection,
a cancelled statement, a crash, a checkpoint, a slow statement, a plan... (:class:`Event`).

The one place that reads meaning into messages (by SQLSTATE where the log has it, else by the
message, in every language the reader knows); counts, findings and the ``logs`` report all
take their events from here.

STUB (interface only, filled by the log-findings work).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pgcrisis.logs.record import LogRecord


class Kind(StrEnum):
    """The kinds of event the log shows."""

    LOCK_WAIT = "lock-wait"            # "still waiting for ShareLock ... after 1000 ms"
    LOCK_ACQUIRED = "lock-acquired"    # "acquired ShareLock ... after 4000 ms"
    DEADLOCK = "deadlock"              # 40P01
    REFUSED = "refused-connection"     # 53300, 53400
    OUT_OF_LOCKS = "out-of-locks"      # 53200 out of shared memory / max_locks_per_transaction
    CANCELLED = "cancelled"            # 57014: statement timeout, lock timeout, user request
    IDLE_TIMEOUT = "idle-timeout"      # 25P03 idle-in-transaction timeout
    CRASH = "crash"                    # "terminated by signal 9", PANIC, OOM
    RESTART = "restart"                # recovery, "database system is ready"
    CHECKPOINT_FREQUENT = "checkpoint-frequent"
    CHECKPOINT = "checkpoint"          # "checkpoint complete: ..." (log_checkpoints)
    WRAPAROUND_VACUUM = "wraparound-vacuum"
    TEMP_FILE = "temp-file"            # log_temp_files
    SLOW = "slow-statement"            # "duration: 1234.5 ms  statement: ..."
    PLAN = "plan"                      # auto_explain
    ERROR = "error"                    # any other ERROR/FATAL/PANIC


@dataclass(frozen=True, slots=True)
class Event:
    """One event: its kind, the record it was read from, and the figures it carries
    (``duration_ms`` of a slow statement or a lock wait, ``bytes`` of a temporary file)."""

    kind: Kind
    record: LogRecord
    duration_ms: float | None = None
    bytes: int | None = None


def classify(record: LogRecord) -> Event | None:
    """The event a record is, None when it is none of them (an ordinary LOG line)."""
    if record.severity in ("ERROR", "FATAL", "PANIC"):
        return Event(Kind.ERROR, record)
    return None
