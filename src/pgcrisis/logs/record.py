"""What the log reader gives: one :class:`LogRecord` per message the server wrote, whatever
the format or the transport, with where it was read (file and line numbers).

This module is the one interface between the log's readers (:mod:`.sources`,
:mod:`.wrappers`, the format parsers) and what uses their records (counts per minute,
events, findings, the ``logs`` report, ``record --log``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

#: the severities counted as errors (the others are not errors of a statement)
ERRORS = frozenset({"ERROR", "FATAL", "PANIC"})
#: every severity a record may carry, in English whatever ``lc_messages`` was
SEVERITIES = ("DEBUG", "DEBUG1", "DEBUG2", "DEBUG3", "DEBUG4", "DEBUG5", "LOG", "INFO",
              "NOTICE", "WARNING", "ERROR", "FATAL", "PANIC")
#: the formats of the server's own lines (what ``log_destination`` names)
FORMATS = ("jsonlog", "csvlog", "stderr")


class Line(NamedTuple):
    """One line of the server's log as a transport delivered it, its wrapper removed.

    ``text`` is what the server wrote (a stderr, csvlog or jsonlog line, no newline);
    ``number`` its 1-based line number in ``file`` (the name shown to people). A wrapper that
    carries the message's fields itself (CloudNativePG, a Cloud Logging ``jsonPayload``) gives
    them in ``fields`` (jsonlog's or csvlog's names) and ``text`` is ``""``; one that carries
    the time (a syslog header) gives it in ``time`` for a prefix without one; ``pid`` likewise.
    """

    text: str
    number: int
    file: str
    time: datetime | None = None
    pid: int | None = None
    fields: dict[str, Any] | None = None


@dataclass(slots=True)
class LogRecord:
    """One message of the log, its continuation lines (DETAIL, HINT, CONTEXT, QUERY,
    STATEMENT, a multi-line statement or plan) joined in.

    Not frozen, unlike the project's other models, and only for speed: a reader builds one
    per message of a log of gigabytes, and a frozen dataclass's ``__init__`` sets each of
    its 20 fields through ``object.__setattr__`` (3 µs a record, most of a line's budget).
    Nothing changes a record once read (:func:`dataclasses.replace` makes another).

    ``severity`` is English whatever the server's ``lc_messages`` (``ERROR``, ``LOG``...);
    ``sqlstate`` is ``""`` when the log does not carry it; ``statement`` is the statement the
    message is about (csvlog's ``query``, jsonlog's ``statement``, stderr's STATEMENT line);
    ``internal_query`` is a QUERY line (a statement run inside a function).
    ``file``/``line``/``last_line``: where it was read (``line``: its first line).
    """

    time: datetime
    severity: str
    sqlstate: str
    message: str
    statement: str = ""
    application: str = ""
    queryid: int | None = None
    pid: int | None = None
    user: str = ""
    database: str = ""
    client: str = ""
    detail: str = ""
    hint: str = ""
    context: str = ""
    internal_query: str = ""
    backend_type: str = ""
    session: str = ""
    file: str = ""
    line: int = 0
    last_line: int = 0


@dataclass(frozen=True, slots=True)
class Unread:
    """Lines the reader could not understand: how many, and the first (never dropped
    silently: a report says "1,204 lines of 2.1 M not understood; first at line 88: …")."""

    count: int
    file: str = ""
    line: int = 0
    text: str = ""
