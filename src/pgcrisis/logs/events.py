"""What a log record tells about the server: a lock wait, a deadlock, a refused connection,
a cancelled statement, a crash, a checkpoint, a slow statement, a plan... (:class:`Event`).

The one place that reads meaning into messages (by SQLSTATE where the log has it, else by the
message, in every language the server ships: :mod:`.messages`); counts, findings and the
``logs`` report all take their events from here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum

from pgcrisis.logs.messages import match
from pgcrisis.logs.record import ERRORS, LogRecord


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
    STATEMENT = "statement"            # log_statement's "statement: ...", log_duration's pair
    PLAN = "plan"                      # auto_explain
    ERROR = "error"                    # any other ERROR/FATAL/PANIC


@dataclass(frozen=True, slots=True)
class Event:
    """One event: its kind, the record it was read from, and the figures it carries
    (``duration_ms`` of a slow statement or a lock wait, ``bytes`` of a temporary file).

    ``reason`` says which message it was (``statement-timeout``, ``terminated-by-signal``,
    ``ready``...: the keys of :mod:`.messages`); ``pid`` the process it is about (the waiter,
    the crashed backend: not always the record's, which may be the postmaster's);
    ``lock``/``target``/``relation`` what a lock wait waits for (mode, the lock's object as
    the server names it, the relation its CONTEXT names); ``holders``/``queue`` the pids
    holding the lock and waiting in line; ``statement`` the statement the event is about;
    ``plan`` an auto_explain plan; ``seconds`` a checkpoint's distance from the last;
    ``processes`` a deadlock's (pid, statement) of each process in it.
    """

    kind: Kind
    record: LogRecord
    duration_ms: float | None = None
    bytes: int | None = None
    reason: str = ""
    pid: int | None = None
    lock: str = ""
    target: str = ""
    relation: str = ""
    holders: tuple[int, ...] = ()
    queue: tuple[int, ...] = ()
    statement: str = ""
    plan: str = ""
    seconds: float | None = None
    processes: tuple[tuple[int, str], ...] = ()


#: the messages of the errors read by text where the log has no SQLSTATE, with their kind
_ERROR_TEXTS = (
    ("deadlock", Kind.DEADLOCK), ("too-many-clients", Kind.REFUSED),
    ("reserved-slots", Kind.REFUSED), ("role-limit", Kind.REFUSED),
    ("database-limit", Kind.REFUSED), ("out-of-shared-memory", Kind.OUT_OF_LOCKS),
    ("statement-timeout", Kind.CANCELLED), ("lock-timeout", Kind.CANCELLED),
    ("user-request", Kind.CANCELLED), ("idle-timeout", Kind.IDLE_TIMEOUT),
)
_BY_STATE = {"40P01": Kind.DEADLOCK, "53300": Kind.REFUSED, "53400": Kind.REFUSED,
             "53200": Kind.OUT_OF_LOCKS, "57014": Kind.CANCELLED, "25P03": Kind.IDLE_TIMEOUT}
#: the crash and restart messages, in the order a crash writes them
CRASH_REASONS = ("terminated-by-signal", "terminated-by-exception", "exited-with-code",
                 "terminating-others", "reinitializing")
RESTART_REASONS = ("not-shut-down", "interrupted", "ready")
_PLAN = re.compile(r"duration: (\d+(?:\.\d+)?) ms  plan:\s*\n(.*)\Z", re.S)
#: a line of a text plan (where auto_explain's "Query Text" ends)
_PLAN_LINE = re.compile(r"\(cost=|\(actual |^\s*->")
_PIDS = re.compile(r"\d+(?:\s*,\s*\d+)*")


def classify(record: LogRecord) -> Event | None:
    """The event a record is, None when it is none of them (an ordinary LOG line)."""
    if record.sqlstate in _BY_STATE:
        return _error(record, _BY_STATE[record.sqlstate])
    if record.severity in ERRORS and not record.sqlstate:
        for key, kind in _ERROR_TEXTS:
            if match(key, record.message) is not None:
                return _error(record, kind, key)
    event = _log_line(record)
    if event is not None:
        return event
    if record.severity == "PANIC":
        return Event(Kind.CRASH, record, reason="panic", pid=record.pid)
    if record.severity in ERRORS:
        return Event(Kind.ERROR, record)
    return None


def _error(record: LogRecord, kind: Kind, key: str = "") -> Event | None:
    """An error whose kind is known (by SQLSTATE, or by its text as ``key``)."""
    if kind is Kind.OUT_OF_LOCKS and "max_locks_per_transaction" not in record.hint:
        return Event(Kind.ERROR, record)  # out of shared memory for another reason
    if kind is Kind.DEADLOCK:
        return _deadlock(record)
    if not key and kind in (Kind.REFUSED, Kind.CANCELLED):
        keys = [k for k, kk in _ERROR_TEXTS if kk is kind]
        key = next((k for k in keys if match(k, record.message) is not None), "other")
    return Event(kind, record, reason=key, pid=record.pid, statement=record.statement)


def _log_line(record: LogRecord) -> Event | None:
    """A message recognised by its text: lock waits, crashes, checkpoints, durations..."""
    text = record.message
    args = match("lock-wait", text) or match("lock-acquired", text)
    if args is not None:
        return _lock(record, args, match("lock-wait", text) is not None)
    for key in CRASH_REASONS:
        args = match(key, text)
        if args is not None and not (key == "exited-with-code" and args[-1] == "0"):
            pid = int(args[1]) if key in CRASH_REASONS[:3] else None
            return Event(Kind.CRASH, record, reason=key, pid=pid,
                         statement=_failed_statement(record))
    for key in RESTART_REASONS:
        if match(key, text) is not None:
            return Event(Kind.RESTART, record, reason=key)
    args = match("checkpoints-frequent", text)
    if args is not None:
        return Event(Kind.CHECKPOINT_FREQUENT, record, seconds=float(args[0]))
    args = match("wraparound-vacuum", text)
    if args is not None:
        return Event(Kind.WRAPAROUND_VACUUM, record, reason="wraparound-vacuum",
                     relation=f"{args[1]}.{args[2]}", target=args[0])
    args = match("must-vacuum", text)
    if args is not None:
        return Event(Kind.WRAPAROUND_VACUUM, record, reason="must-vacuum", target=args[0])
    args = match("temp-file", text)
    if args is not None:
        return Event(Kind.TEMP_FILE, record, bytes=int(args[1]), pid=record.pid,
                     statement=record.statement, target=args[0])
    return _timed(record)


def query_text(plan: str) -> str:
    """The statement of an auto_explain plan (its ``Query Text``, every line of it, in the
    text or the JSON format).

    >>> query_text('Query Text: SELECT *\\n  FROM t\\nSeq Scan on t  (cost=0.00..1.01 rows=1)')
    'SELECT *\\n  FROM t'
    >>> query_text('{"Query Text": "SELECT 1\\\\n", "Plan": {}}')
    'SELECT 1'
    """
    text = plan.strip()
    if text.startswith("{"):
        try:
            found = json.loads(text).get("Query Text", "")
        except (ValueError, AttributeError):
            return ""
        return str(found).strip()
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.lstrip().startswith("Query Text:"):
            out = [line.split("Query Text:", 1)[1].strip()]
            for more in lines[i + 1:]:
                if _PLAN_LINE.search(more):
                    break
                out.append(more)
            return "\n".join(out).strip()
    return ""


def _timed(record: LogRecord) -> Event | None:
    """A duration (log_min_duration_statement, log_duration), a plan, a logged statement."""
    text = record.message
    plan = _PLAN.match(text)
    if plan is not None:
        body = plan.group(2)
        statement = query_text(body) or record.statement
        return Event(Kind.PLAN, record, duration_ms=float(plan.group(1)), pid=record.pid,
                     statement=statement, plan=body)
    args = match("duration-statement", text)
    if args is not None:
        return Event(Kind.SLOW, record, duration_ms=float(args[0]), pid=record.pid,
                     statement=args[1])
    args = match("duration-execute", text)
    if args is not None:
        return Event(Kind.SLOW, record, duration_ms=float(args[0]), pid=record.pid,
                     statement=args[5], reason=args[1])
    args = match("duration", text)
    if args is not None:
        return Event(Kind.SLOW, record, duration_ms=float(args[0]), pid=record.pid,
                     statement=record.statement)
    args = match("statement", text)
    if args is not None:
        return Event(Kind.STATEMENT, record, pid=record.pid, statement=args[0])
    return None


def _lock(record: LogRecord, args: tuple[str, ...], waiting: bool) -> Event:
    """A lock wait ("still waiting") or its end ("acquired"), with who holds the lock and
    who waits in line (the DETAIL), and the relation (the CONTEXT) where it names one."""
    pid, mode, target, whole, frac = args
    lists = _PIDS.findall(record.detail)
    holders = _pids(lists[0]) if lists else ()
    queue = _pids(lists[1]) if len(lists) > 1 else ()
    return Event(Kind.LOCK_WAIT if waiting else Kind.LOCK_ACQUIRED, record,
                 duration_ms=float(f"{whole}.{frac}"), pid=int(pid), lock=mode, target=target,
                 relation=_context_relation(record.context) or target, holders=holders,
                 queue=queue, statement=record.statement)


def _pids(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.split(r"\s*,\s*", text) if p)


def _context_relation(context: str) -> str:
    """The relation a lock wait's CONTEXT names ("while updating tuple (0,1) in relation
    \"accounts\"": not schema-qualified: the server writes it so)."""
    for line in context.splitlines():
        args = match("while-tuple", line.strip())
        if args is not None:
            return args[2]
    return ""


def _failed_statement(record: LogRecord) -> str:
    """What a crashed process was running (its DETAIL "Failed process was running: ...")."""
    head, _, rest = record.detail.partition(":")
    return rest.strip() if head and rest else ""


def _deadlock(record: LogRecord) -> Event:
    """A deadlock with each process's wait (who blocked whom) and statement (the DETAIL)."""
    statements: dict[int, list[str]] = {}
    blockers: list[int] = []
    current: list[str] | None = None
    for line in record.detail.splitlines():
        waits = match("deadlock-waits", line.strip())
        if waits is not None:
            blockers.append(int(waits[3]))
            current = None
            continue
        said = match("deadlock-statement", line.strip())
        if said is not None and said[0].isdigit():
            current = statements.setdefault(int(said[0]), [said[1]])
        elif current is not None:
            current.append(line)
    processes = tuple((pid, "\n".join(lines).strip()) for pid, lines in statements.items())
    return Event(Kind.DEADLOCK, record, pid=record.pid, statement=record.statement,
                 holders=tuple(blockers), processes=processes)
