"""The server's stderr lines read with their ``log_line_prefix``: a message's line starts a
record; its DETAIL, HINT, CONTEXT, QUERY, STATEMENT, LOCATION lines (same pid or session) fill
its fields; lines starting with a tab (a newline inside a message) join what they follow.

A record is given as soon as it is complete: when its process logs again, or once a few
records of other processes are pending after it (the server writes a message and its
DETAIL/STATEMENT lines in one write; lines of processes interleave only as far as that), or at
the end of the input (a followed file: when it is quiet).
"""

from __future__ import annotations

import re
from datetime import datetime

from pgcrisis.logs.parser import Parser
from pgcrisis.logs.prefix import Prefix
from pgcrisis.logs.record import Line, LogRecord
from pgcrisis.logs.severity_words import ENGLISH
from pgcrisis.logs.timestamps import epoch_time, parse_time

#: a record is complete once this many records of other processes are pending after it
WINDOW = 8
#: an error's text when log_error_verbosity is verbose: the SQLSTATE comes first
_VERBOSE = re.compile(r"([0-9A-Z]{5}): ")
#: a line that starts like a log line of its own (not a continuation of a message)
#: the severities whose SQLSTATE tells something (the verbose form is looked for only there)
_VERBOSE_LEVELS = frozenset({"ERROR", "FATAL", "PANIC", "WARNING", "NOTICE"})
_OWN_LINE = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d|[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:")
_FIELD = {"DETAIL": "detail", "HINT": "hint", "CONTEXT": "context", "QUERY": "internal_query",
          "STATEMENT": "statement", "LOCATION": "location", "BACKTRACE": "context"}


class _Pending:
    """A record being read with lines joined to it (one without is kept as its main line's
    match and line number only: most records, read cheaply)."""

    __slots__ = ("fields", "last", "line", "match", "message", "number", "target")

    def __init__(self, match: re.Match[str], number: int, line: Line | None) -> None:
        self.match = match
        self.number = self.last = number
        self.line = line
        self.message: list[str] = [match.string[match.end():]]
        self.target = self.message
        self.fields: dict[str, list[str]] | None = None


_NONE: dict[str, str] = {}
_Entry = _Pending | tuple[re.Match[str], int]


class StderrParser(Parser):
    """stderr lines written with ``prefix``."""

    format = "stderr"

    def __init__(self, prefix: Prefix) -> None:
        super().__init__()
        self.prefix = prefix
        self._match = prefix.regex.match
        self._groups = prefix.groups
        self._who = prefix.regex.groupindex.get(prefix.who, 1) if prefix.who else 1
        #: the records being read, by process (pid or session), oldest first
        self._pending: dict[str, _Entry] = {}
        #: the process of the last line read (where a continuation line goes)
        self._current: str | None = None
        self._last_time: tuple[str, datetime] = ("", datetime.min)

    def feed(self, text: str, number: int, line: Line | None = None) -> None:
        if text.startswith("\t"):
            self._continue(text[1:], number)
            return
        m = self._match(text)
        level = ENGLISH.get(m["level"]) if m is not None else None
        if m is None or level is None:
            self._other(text, number)
            return
        who = m.group(self._who)
        if not who and line is not None and line.pid is not None:
            who = str(line.pid)
        if level in _FIELD:
            self._attach(_FIELD[level], m, who, number)
            return
        pending = self._pending
        if who in pending:  # its process logs again: it and all older ones are complete
            for key in list(pending):
                self._emit(pending.pop(key))
                if key == who:
                    break
        elif len(pending) >= WINDOW:
            self._emit(pending.pop(next(iter(pending))))
        pending[who] = (m, number) if line is None else _Pending(m, number, line)
        self._current = who

    def _open(self, who: str | None) -> _Pending | None:
        """The pending record of ``who``, ready for lines joined to it."""
        entry = self._pending.get(who) if who is not None else None
        if isinstance(entry, tuple):
            entry = self._pending[who] = _Pending(entry[0], entry[1], None)  # type: ignore[index]
        return entry

    def _continue(self, text: str, number: int) -> None:
        """A line of the message before it (a newline inside it, written with a tab)."""
        pending = self._open(self._current)
        if pending is None:
            self.not_understood(number, "\t" + text)
            return
        pending.target.append(text)
        pending.last = number

    def _attach(self, field: str, m: re.Match[str], who: str, number: int) -> None:
        """A DETAIL/STATEMENT... line: into the pending record of its process."""
        pending = self._open(who if who or self._current is None else self._current)
        if pending is None:
            self.not_understood(number, m.string)
            return
        if pending.fields is None:
            pending.fields = {}
        pending.target = pending.fields.setdefault(field, [])
        if pending.target:
            pending.target.append("")
        pending.target.append(m.string[m.end():])
        pending.last = number
        self._current = who

    def _other(self, text: str, number: int) -> None:
        """A line the prefix does not read: a continuation written without its tab (a
        transport lost it), else a line not understood."""
        if text and self._current in self._pending and not _OWN_LINE.match(text):
            self._continue(text, number)
        elif text:
            self.not_understood(number, text)

    def flush(self) -> None:
        for entry in self._pending.values():
            self._emit(entry)
        self._pending.clear()
        self._current = None

    def _time(self, text: str, epoch: str, line: Line | None) -> datetime:
        """The record's time: the prefix's (the last one parsed again only when it
        changed), else the transport's."""
        if text:
            last = self._last_time
            if last[0] == text:
                return last[1]
            moment = parse_time(text)
            self._last_time = (text, moment)
            return moment
        if epoch:
            return epoch_time(epoch)
        if line is not None and line.time is not None:
            return line.time
        raise ValueError("no time")

    def _emit(self, entry: _Entry) -> None:
        if isinstance(entry, tuple):
            (m, number), line, fields, last = entry, None, None, entry[1]
            message = m.string[m.end():]
        else:
            m, number, line, fields, last = (entry.match, entry.number, entry.line,
                                             entry.fields, entry.last)
            message = "\n".join(entry.message)
        t, n, pid, user, db, app, client, btype, session, state, qid = m.group(*self._groups)
        last_time = self._last_time
        if t and last_time[0] == t:
            moment = last_time[1]
        else:
            try:
                moment = self._time(t, n, line)
            except ValueError:
                self.not_understood(number, m.string)
                return
        severity = ENGLISH[m["level"]]
        if not state and severity in _VERBOSE_LEVELS:
            verbose = _VERBOSE.match(message)
            if verbose is not None:  # log_error_verbosity = verbose: "22012: division…"
                state, message = verbose.group(1), message[verbose.end():]
        f = {k: "\n".join(v) for k, v in fields.items()} if fields else _NONE
        if not pid and line is not None and line.pid is not None:
            pid = str(line.pid)
        record = LogRecord(
            moment, severity, state, message, f.get("statement", ""), app,
            int(qid) or None if qid else None, int(pid) if pid else None, user, db, client,
            f.get("detail", ""), f.get("hint", ""), f.get("context", ""),
            f.get("internal_query", ""), btype, session, self.file, number, last)
        self.out.append(record)
