"""The server's stderr lines read with their ``log_line_prefix``: a message's line starts a
record; its DETAIL, HINT, CONTEXT, QUERY, STATEMENT, LOCATION lines (same pid or session) fill
its fields; lines starting with a tab (a newline inside a message) join what they follow.

A record is given as soon as it is complete: when its process logs again, or a few messages
of other processes later (the server writes a message and its DETAIL/STATEMENT lines in one
write; lines of processes interleave only as far as that), or at the end of the input.
"""

from __future__ import annotations

import re
from datetime import datetime

from pgcrisis.logs.build import new_record
from pgcrisis.logs.parser import Parser
from pgcrisis.logs.prefix import Prefix
from pgcrisis.logs.record import Line
from pgcrisis.logs.severity_words import ENGLISH
from pgcrisis.logs.timestamps import epoch_time, parse_time

#: a record is complete once this many messages of other processes followed it
WINDOW = 8
#: an error's text when log_error_verbosity is verbose: the SQLSTATE comes first
_VERBOSE = re.compile(r"([0-9A-Z]{5}): ")
#: a line that starts like a log line of its own (not a continuation of a message)
_OWN_LINE = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d|[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:")
_FIELD = {"DETAIL": "detail", "HINT": "hint", "CONTEXT": "context", "QUERY": "internal_query",
          "STATEMENT": "statement", "LOCATION": "location", "BACKTRACE": "context"}


class _Pending:
    """A record being read: its main line's match, and the lines joined to it since."""

    __slots__ = ("fields", "last", "line", "match", "message", "number", "seq", "target")

    def __init__(self, match: re.Match[str], number: int, line: Line | None, seq: int) -> None:
        self.match = match
        self.number = self.last = number
        self.line = line
        self.seq = seq
        self.message: list[str] = [match.string[match.end():]]
        self.target = self.message
        self.fields: dict[str, list[str]] | None = None


class StderrParser(Parser):
    """stderr lines written with ``prefix``."""

    format = "stderr"

    def __init__(self, prefix: Prefix) -> None:
        super().__init__()
        self.prefix = prefix
        self._match = prefix.regex.match
        self._groups = prefix.groups
        self._pending: dict[str, _Pending] = {}
        self._current: _Pending | None = None
        self._seq = 0
        self._last_time: tuple[str, datetime] = ("", datetime.min)

    def feed(self, text: str, number: int, line: Line | None = None) -> None:
        current = self._current
        if text[:1] == "\t":
            if current is not None:
                current.target.append(text[1:])
                current.last = number
            else:
                self.not_understood(number, text)
            return
        m = self._match(text)
        level = ENGLISH.get(m["level"]) if m is not None else None
        if m is None or level is None:
            self._other(text, number)
            return
        who = m[self.prefix.who] if self.prefix.who else ""
        if not who and line is not None and line.pid is not None:
            who = str(line.pid)
        if level in _FIELD:
            self._attach(_FIELD[level], m, who, number)
            return
        self._seq += 1
        pending = self._pending
        done = pending.pop(who, None)
        if done is not None:  # its process logs again: it and all older ones are complete
            while pending and next(iter(pending.values())).seq < done.seq:
                self._emit(pending.pop(next(iter(pending))))
            self._emit(done)
        while pending and next(iter(pending.values())).seq < self._seq - WINDOW:
            self._emit(pending.pop(next(iter(pending))))
        self._current = pending[who] = _Pending(m, number, line, self._seq)

    def _attach(self, field: str, m: re.Match[str], who: str, number: int) -> None:
        """A DETAIL/STATEMENT... line: into the pending record of its process."""
        pending = self._pending.get(who) if who or not self._current else self._current
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
        self._current = pending

    def _other(self, text: str, number: int) -> None:
        """A line the prefix does not read: a continuation written without its tab (a
        transport lost it), else a line not understood."""
        current = self._current
        if current is not None and text and not _OWN_LINE.match(text):
            current.target.append(text)
            current.last = number
        elif text:
            self.not_understood(number, text)

    def flush(self) -> None:
        for pending in self._pending.values():
            self._emit(pending)
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

    def _emit(self, p: _Pending) -> None:
        m = p.match
        if p is self._current:
            self._current = None
        t, n, pid, user, db, app, client, btype, session, state, qid = m.group(*self._groups)
        try:
            moment = self._time(t, n, p.line)
        except ValueError:
            self.not_understood(p.number, m.string)
            return
        message = "\n".join(p.message) if len(p.message) > 1 else p.message[0]
        if not state:
            verbose = _VERBOSE.match(message)
            if verbose is not None:  # log_error_verbosity = verbose: "22012: division…"
                state, message = verbose.group(1), message[verbose.end():]
        f = {k: "\n".join(v) for k, v in p.fields.items()} if p.fields else {}
        if not pid and p.line is not None and p.line.pid is not None:
            pid = str(p.line.pid)
        self.out.append(new_record(
            moment, ENGLISH[m["level"]], state, message, f.get("statement", ""), app,
            int(qid) or None if qid else None, int(pid) if pid else None, user, db, client,
            f.get("detail", ""), f.get("hint", ""), f.get("context", ""),
            f.get("internal_query", ""), btype, session, self.file, p.number, p.last))
