"""Lines of a PostgreSQL server log to :class:`LogRecord`: jsonlog and csvlog name their fields;
stderr is read only with the ``log_line_prefix`` it was written with, verified against the
lines (a prefix that does not match is one clear error, never "0 errors").

Also the two things errors are grouped by besides SQLSTATE: the statement, normalized
(literals become ``?``), and the tag of a sqlcommenter-style comment
(``/* view='customer_report' */``), which is how an application says which of its views ran
the statement.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from pgcrisis.errors import InputError
from pgcrisis.logs.statements import STATEMENT_MAX, TAG_KEYS, normalize, tag_of  # noqa: F401  (re-exported: their home is logs.statements)

#: the severities counted (the others are not errors of a statement)
ERRORS = frozenset({"ERROR", "FATAL", "PANIC"})
FORMATS = ("jsonlog", "csvlog", "stderr")


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One message of the log (``statement``: the one that failed, when logged)."""

    time: datetime
    severity: str
    sqlstate: str
    message: str
    statement: str = ""
    application: str = ""
    queryid: int | None = None
    pid: int | None = None


# -- jsonlog and csvlog -----------------------------------------------------------------------

def _time(text: str) -> datetime:
    """A log's timestamp (``2026-11-26 09:14:03.250 UTC``, ``... +01``, ISO 8601)."""
    value = text.strip()
    parts = value.rsplit(" ", 1)
    zone = parts[1] if len(parts) == 2 and not parts[1][:1].isdigit() else ""
    if zone in ("UTC", "GMT", "Z"):
        value = parts[0] + "+00:00"
    elif zone and zone[0] in "+-":
        value = parts[0] + zone + (":00" if len(zone) == 3 else "")
    elif zone:
        value = parts[0]  # a zone by abbreviation: taken as UTC (the server's log_timezone)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"{text!r} is not a timestamp of the log") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _int(text: object) -> int | None:
    try:
        return int(str(text)) if text not in (None, "") else None
    except ValueError:
        return None


def jsonlog(lines: Iterable[str]) -> Iterator[LogRecord]:
    """Records of jsonlog lines (one JSON object a line, PostgreSQL 15+)."""
    for line in lines:
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            raise InputError(f"not a jsonlog line: {line[:80]!r}") from None
        if not isinstance(obj, dict) or "error_severity" not in obj:
            raise InputError(f"not a jsonlog line: {line[:80]!r}")
        qid = _int(obj.get("query_id"))
        yield LogRecord(_time(str(obj.get("timestamp", ""))), str(obj["error_severity"]),
                        str(obj.get("state_code", "")), str(obj.get("message", "")),
                        str(obj.get("statement", "")), str(obj.get("application_name", "")),
                        qid or None, _int(obj.get("pid")))


#: csvlog's columns (PostgreSQL 13 added backend_type, 14 leader_pid and query_id)
CSV_FIELDS = ("log_time", "user_name", "database_name", "process_id", "connection_from",
              "session_id", "session_line_num", "command_tag", "session_start_time",
              "virtual_transaction_id", "transaction_id", "error_severity", "sql_state_code",
              "message", "detail", "hint", "internal_query", "internal_query_pos", "context",
              "query", "query_pos", "location", "application_name", "backend_type",
              "leader_pid", "query_id")


def csvlog(text: str) -> Iterator[LogRecord]:
    """Records of csvlog text (a record may span lines: a field can hold newlines)."""
    for row in csv.reader(io.StringIO(text)):
        if not row:
            continue
        if len(row) < 23:
            raise InputError(f"not a csvlog record ({len(row)} fields, 23 at least): "
                             f"{','.join(row)[:80]!r}")
        f = dict(zip(CSV_FIELDS, row, strict=False))
        yield LogRecord(_time(f["log_time"]), f["error_severity"], f["sql_state_code"],
                        f["message"], f["query"], f["application_name"],
                        _int(f.get("query_id")) or None, _int(f["process_id"]))


# -- stderr, with its log_line_prefix ----------------------------------------------------------

#: what each escape of log_line_prefix reads as (a named group where it is used)
_ESCAPES = {
    "a": r"(?P<app>.*?)", "u": r"(?P<user>\S*?)", "d": r"(?P<db>\S*?)",
    "r": r"(?:\S*?)", "h": r"(?:\S*?)", "b": r"(?:.*?)", "p": r"(?P<pid>\d+)",
    "P": r"(?:\d*)", "t": r"(?P<t>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?: \S+)?)",
    "m": r"(?P<m>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+(?: \S+)?)",
    "n": r"(?P<n>\d+\.\d+)", "i": r"(?:.*?)", "e": r"(?P<state>[0-9A-Z]{5})",
    "c": r"(?P<session>[0-9a-f]+\.[0-9a-f]+)", "l": r"(?:\d+)",
    "s": r"(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?: \S+)?)", "v": r"(?:\S*)", "x": r"(?:\d+)",
    "Q": r"(?P<qid>-?\d+)", "%": "%",
}
_LEVEL = (r"(?P<level>DEBUG\d?|LOG|INFO|NOTICE|WARNING|ERROR|FATAL|PANIC|DETAIL|HINT|"
          r"STATEMENT|CONTEXT|QUERY|LOCATION):  (?P<text>.*)")


def prefix_pattern(prefix: str) -> re.Pattern[str]:
    """The regular expression of a line written with ``log_line_prefix``; an escape it cannot
    read, or a prefix with no time in it, is one clear error.

    >>> bool(prefix_pattern("%m [%p] ").match("2026-11-26 09:14:03.250 UTC [42] ERROR:  x"))
    True
    """
    out, i, optional = [], 0, False
    while i < len(prefix):
        ch = prefix[i]
        if ch != "%":
            out.append(re.escape(ch))
            i += 1
            continue
        i += 1
        while i < len(prefix) and (prefix[i].isdigit() or prefix[i] == "-"):
            i += 1  # padding: %-10a
        esc = prefix[i] if i < len(prefix) else ""
        i += 1
        if esc == "q":
            out.append("(?:")
            optional = True
            continue
        if esc not in _ESCAPES:
            raise InputError(f"log_line_prefix {prefix!r}: cannot read the escape %{esc}")
        out.append(_ESCAPES[esc])
    if not any(f"%{e}" in prefix for e in "mtn"):
        raise InputError(f"log_line_prefix {prefix!r} has no time (%m, %t or %n): the "
                         "errors cannot be placed on the timeline; add %m to it")
    body = "".join(out) + (")?" if optional else "")
    # a named group used twice is not allowed: keep the first
    seen: set[str] = set()

    def once(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in seen:
            return "(?:"
        seen.add(name)
        return m.group(0)

    return re.compile("^" + re.sub(r"\(\?P<(\w+)>", once, body) + _LEVEL + "$")


#: an error's text when log_error_verbosity is verbose: the SQLSTATE comes first
_VERBOSE = re.compile(r"([0-9A-Z]{5}): (.*)")


class StderrLog:
    """Lines of a stderr log written with ``prefix``: an ERROR line, then its STATEMENT line
    (matched by pid, or session id) make one record. The SQLSTATE is read from the prefix's
    ``%e``, else from the text where ``log_error_verbosity`` is ``verbose``; else it is not
    in the log at all (:attr:`knows_sqlstate`)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.pattern = prefix_pattern(prefix)
        self._open: dict[str, LogRecord] = {}  # by pid or session: the error awaiting its
        self.seen = self.matched = 0
        #: the prefix writes each message's SQLSTATE (``%e``)
        self.knows_sqlstate = "%e" in prefix

    def _who(self, m: re.Match[str]) -> str:
        groups = m.groupdict()
        return str(groups.get("pid") or groups.get("session") or "")

    def verify(self, lines: Iterable[str], most: int = 200) -> None:
        """Refuse a log whose lines do not start with the prefix (none of the first ``most``
        matches, though some look like messages)."""
        seen = matched = 0
        for line in lines:
            if not line.strip() or line[:1] in " \t":
                continue
            seen += 1
            matched += bool(self.pattern.match(line))
            if seen >= most:
                break
        if seen and not matched:
            raise InputError(f"the log's lines do not start with log_line_prefix "
                             f"{self.prefix!r} (none of {seen} lines read): give the "
                             "prefix the server writes with --log-line-prefix")

    def records(self, lines: Iterable[str]) -> Iterator[LogRecord]:
        """The records of ``lines`` (an error is given when its statement, or the next
        message of its session, is read; :meth:`flush` gives the rest)."""
        for line in lines:
            m = self.pattern.match(line)
            if m is None:
                continue  # a continuation line of a multi-line message
            who, level, text = self._who(m), m["level"], m["text"]
            pending = self._open.pop(who, None)
            if level == "STATEMENT" and pending is not None:
                yield replace(pending, statement=text)
                continue
            if level in ("DETAIL", "HINT", "CONTEXT", "QUERY", "LOCATION") and pending:
                self._open[who] = pending
                continue
            if pending is not None:
                yield pending
            if level in ERRORS:
                g = m.groupdict()
                when = (datetime.fromtimestamp(float(g["n"]), UTC) if g.get("n")
                        else _time(g.get("m") or g.get("t") or ""))
                state = g.get("state") or ""
                verbose = None if state else _VERBOSE.match(text)
                if verbose is not None:  # log_error_verbosity = verbose: "22012: division…"
                    state, text = verbose.group(1), verbose.group(2)
                self._open[who] = LogRecord(when, level, state, text, "",
                                            g.get("app") or "", _int(g.get("qid")) or None,
                                            _int(g.get("pid")))

    def flush(self) -> Iterator[LogRecord]:
        """The errors still awaiting a statement line."""
        pending, self._open = self._open, {}
        yield from pending.values()


def detect(names: Iterable[str]) -> str:
    """The format of a log directory by its files' names: ``.json`` jsonlog, ``.csv``
    csvlog, anything else stderr."""
    names = list(names)
    if any(n.endswith(".json") for n in names):
        return "jsonlog"
    if any(n.endswith(".csv") for n in names):
        return "csvlog"
    return "stderr"
