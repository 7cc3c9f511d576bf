"""The server's log as a syslog daemon wrote it: a header (BSD ``Dec  6 08:00:01 host
postgres[123]:``, ISO 8601 as rsyslog's high-precision format, or RFC 5424 ``<134>1
2026-12-06T08:00:01Z host postgres 123 - -``), then the server's sequence tag (``[5-1]``,
``[5]`` or ``[1]`` as ``syslog_sequence_numbers`` and ``syslog_split_messages`` have it, or
none) and a chunk of the server's text (joined back by :mod:`.chunks`).

The header's time and process are the only ones a server logging to syslog usually gives
(its prefix rarely has ``%m``): they are set on each :class:`Line`. A BSD header has no
year: the file's own year (its modification time), less one for a month later than that.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import NamedTuple

from pgcrisis.logs.chunks import Chunk, assemble
from pgcrisis.logs.record import Line
from pgcrisis.logs.wrappers import Wrapper

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_PRI = r"(?:<\d{1,3}>)?"
_PROG = r"(?P<prog>[^\s\[:]+)(?:\[(?P<pid>\d+)\])?:(?: (?P<msg>.*))?$"
HEADERS = {
    "BSD": re.compile(
        _PRI + r"(?P<ts>(?P<mon>" + "|".join(MONTHS) + r") {1,2}(?P<day>\d{1,2})"
        r" (?P<hms>\d\d:\d\d:\d\d)) (?P<host>\S+) " + _PROG),
    "ISO 8601": re.compile(
        _PRI + r"(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?)"
        r" (?P<host>\S+) " + _PROG),
    "RFC 5424": re.compile(
        r"(?:\d+ )?" + _PRI + r"1 (?P<ts>\S+) (?P<host>\S+) (?P<prog>\S+) (?P<pid>\S+) \S+"
        r" (?P<sd>-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: \ufeff?(?P<msg>.*))?$"),
}
#: the server's tag: ``[seq-chunk]``, or ``[n]`` (a sequence number or a chunk number)
TAG = re.compile(r"\[(\d+)(?:-(\d+))?\](?: |$)")
#: each header with the server's tag read in the same match (``msg`` is the message with its
#: tag, ``rest`` without): one match a line, where a log has millions
TAGGED = {style: re.compile(header.pattern.replace(
    "(?P<msg>.*)", r"(?P<msg>(?:\[(?P<seq>\d+)(?:-(?P<chunk>\d+))?\](?: |$))?(?P<rest>.*))"))
    for style, header in HEADERS.items()}
#: the usual server line's header and tag (a process id, ``[seq-chunk] `` or ``[n] ``, no
#: priority before a BSD time, no structured data): read with no optional group (slow in
#: Python's regular expressions) and with nothing after the tag; a line of another shape
#: is read by :data:`TAGGED`. Where these match, :data:`TAGGED` reads the same: the time
#: (loose here) is checked once per distinct text (:func:`_usual_time`)
_USUAL_TAG = r"\[(\d+)(?:-(\d+)|)\] "
USUAL = {
    "BSD": re.compile(r"(\w\w\w {1,2}\d{1,2} \d\d:\d\d:\d\d) \S+ ([^\s\[:]+)\[(\d+)\]: "
                      + _USUAL_TAG),
    "ISO 8601": re.compile(r"(\d{4}-\d\d-\d\dT[\d:.Z+-]+) \S+ ([^\s\[:]+)\[(\d+)\]: "
                           + _USUAL_TAG),
    "RFC 5424": re.compile(r"<\d{1,3}>1 (\S+) \S+ (\S+) (\d+) \S+ - " + _USUAL_TAG),
}
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?")
#: words that say a line is the server's, whatever the program was named (syslog_ident)
_SERVER_WORDS = re.compile(r"\b(?:LOG|ERROR|FATAL|PANIC|WARNING|DETAIL|HINT|STATEMENT):  ")
_SERVER_NAMES = ("postgres", "postmaster")


class Header(NamedTuple):
    """A syslog line's header, read: when, which program and process, and its message."""

    time: datetime | None
    program: str
    pid: int | None
    message: str


def parse_header(style: str, line: str, year: int | None = None,
                 month: int | None = None) -> Header | None:
    """The header of ``line`` in ``style`` (a key of :data:`HEADERS`); None when it has
    none. A BSD time takes ``year`` (less one for a month after ``month``: December's lines
    in a file last written in January).

    >>> parse_header("BSD", "Dec  6 08:00:01 db1 postgres[123]: [5-1] LOG:  x", 2027, 1)
    Header(time=datetime.datetime(2026, 12, 6, 8, 0, 1), program='postgres', pid=123, \
message='[5-1] LOG:  x')
    """
    m = HEADERS[style].match(line)
    if m is None:
        return None
    pid_text = m["pid"]
    pid = int(pid_text) if pid_text and pid_text.isdigit() else None
    if style == "BSD":
        time = _bsd_time(m["mon"], m["day"], m["hms"], year, month)
    else:
        time = _iso_time(m["ts"])
    if time is None and m["ts"] != "-":
        return None
    return Header(time, m["prog"], pid, m["msg"] or "")


@lru_cache(maxsize=4096)
def _bsd_time(mon: str, day: str, hms: str, year: int | None,
              month: int | None) -> datetime | None:
    """A BSD header's time (cached: a busy log has many lines a second)."""
    when_month = MONTHS.index(mon) + 1
    when_year = year if year is not None else datetime.now().year
    if month is not None and when_month > month:
        when_year -= 1
    h, mi, s = (int(x) for x in hms.split(":"))
    try:
        return datetime(when_year, when_month, int(day), h, mi, s)
    except ValueError:
        return None


def _iso_time(text: str) -> datetime | None:
    """An ISO 8601 or RFC 5424 header's time; None for ``-`` (RFC 5424's none) or no time."""
    try:
        return datetime.fromisoformat(text) if text != "-" else None
    except ValueError:
        return None


def _is_server(program: str) -> bool:
    lowered = program.lower()
    return any(name in lowered for name in _SERVER_NAMES)


def _tag_mode(tags: list[tuple[int | None, re.Match[str] | None]]) -> str:
    """How the server tagged its lines, from a sample of (pid, tag): ``seq`` ([5-1]),
    ``chunk`` ([1] [2]: chunk numbers without sequence numbers), ``whole`` ([5]: sequence
    numbers, messages not split) or ``none`` (no tag: a ``[123]`` there is the prefix's)."""
    if not tags:
        return "none"
    if any(m is not None and m[2] is not None for _, m in tags):
        return "seq"
    numbered = [(pid, int(m[1])) for pid, m in tags if m is not None]
    if len(numbered) * 10 < len(tags) * 9 or sum(pid == n for pid, n in numbered) * 2 > len(
            numbered):
        return "none"
    pids = {pid for pid, _ in numbered}
    firsts = sum(n == 1 for _, n in numbered)
    return "chunk" if firsts > len(pids) else "whole"


class Syslog(Wrapper):
    """A syslog file (or a syslog stream on stdin) holding the server's lines."""

    def __init__(self, style: str, servers: set[str], mode: str) -> None:
        super().__init__()
        self.style = style
        self.name = f"syslog ({style})"
        self.servers = servers
        self.mode = mode

    @classmethod
    def fits(cls, sample: Sequence[str]) -> Syslog | None:
        """A syslog wrapper when most of ``sample``'s lines have a syslog header and one of
        their programs is the server (by name, or by what it writes)."""
        lines = [s for s in sample if s.strip()]
        for style in HEADERS:
            headers = [h for h in (parse_header(style, s) for s in lines) if h is not None]
            if not headers or len(headers) * 2 < len(lines):
                continue
            servers = {h.program for h in headers
                       if _is_server(h.program) or TAG.match(h.message)
                       or _SERVER_WORDS.search(h.message)}
            tags = [(h.pid, TAG.match(h.message)) for h in headers if h.program in servers]
            return cls(style, servers, _tag_mode(tags))
        return None

    def unwrap(self, lines: Iterable[tuple[int, str]], file: str) -> Iterator[Line]:
        return assemble(self.chunks(lines, file), file)

    def chunks(self, lines: Iterable[tuple[int, str]], file: str) -> Iterator[Chunk]:
        """The server's chunks of ``lines``, read (other programs' lines counted): a line
        of the usual shape by :data:`USUAL` (its time checked by :func:`_usual_time`), any
        other by :data:`TAGGED`."""
        path = Path(file)
        written = datetime.fromtimestamp(path.stat().st_mtime) if path.is_file() else (
            datetime.now())
        year, month = written.year, written.month
        style, servers, mode = self.style, self.servers, self.mode
        parse = partial(_usual_time, style, year, month)
        usual = USUAL[style].match if mode != "none" else _never
        last, time = "", None  # a time is read once for the lines of its text in a row
        for number, text in lines:
            m = usual(text)
            if m is None:
                found = self._read(number, text, parse)
                if found is not None:
                    yield found
                continue
            ts, program, pid_text, first, second = m.groups()
            if ts != last:
                last, time = ts, parse(ts)
            if time is None and ts != "-":  # not a time: read the long way
                found = self._read(number, text, parse)
                if found is not None:
                    yield found
            elif program not in servers and not _is_server(program):
                self.others += 1
            elif mode == "seq":
                pid = int(pid_text)
                yield (number, text[m.end():], pid, int(first), int(second or 1), time, pid)
            else:
                pid = int(pid_text)
                yield (number, text[m.end():], pid, None,
                       int(first) if mode == "chunk" else None, time, pid)

    def _read(self, number: int, text: str,
              parse: Callable[[str], datetime | None]) -> Chunk | None:
        """A line not of the usual shape, read by :data:`TAGGED`: a chunk, or None for
        another program's line (counted)."""
        m = TAGGED[self.style].match(text)
        if m is None:  # no header: given as it is, for the reader to place
            return number, text, None, None, None, None, None
        ts, program, pid_text, message, seq, chunk, rest = m.group(
            "ts", "prog", "pid", "msg", "seq", "chunk", "rest")
        time = parse(ts)
        if time is None and ts != "-":  # a time that is no date: not a header
            return number, text, None, None, None, None, None
        if program not in self.servers and not _is_server(program):
            self.others += 1
            return None
        pid = int(pid_text) if pid_text and pid_text.isdigit() else None
        if self.mode == "none" or seq is None:
            return number, message or "", pid, None, None, time, pid
        if self.mode == "seq":
            return number, rest, pid, int(seq), int(chunk or 1), time, pid
        if self.mode == "chunk":
            return number, rest, pid, None, int(seq), time, pid
        return number, rest, pid, None, None, time, pid


def _never(text: str) -> None:
    """No line is of the usual shape (the server's lines carry no tag)."""
    return None


def _usual_time(style: str, year: int, month: int, text: str) -> datetime | None:
    """A header's time; None when :data:`HEADERS` would not have read it as one (a BSD
    month that is no month, an ISO 8601 time of another shape) or it is no date."""
    if style == "BSD":
        mon, day, hms = text.split()
        return _bsd_time(mon, day, hms, year, month) if mon in MONTHS else None
    if style == "ISO 8601" and ISO_TIME.fullmatch(text) is None:
        return None
    return _iso_time(text)
