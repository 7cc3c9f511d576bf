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
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from pgcrisis.logs.chunks import Assembler
from pgcrisis.logs.record import Line
from pgcrisis.logs.wrappers import Wrapper

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_PRI = r"(?:<\d{1,3}>)?"
_PROG = r"(?P<prog>[^\s\[:]+)(?:\[(?P<pid>\d+)\])?:(?: (?P<msg>.*))?$"
HEADERS = {
    "BSD": re.compile(
        _PRI + r"(?P<mon>" + "|".join(MONTHS) + r") {1,2}(?P<day>\d{1,2})"
        r" (?P<hms>\d\d:\d\d:\d\d) (?P<host>\S+) " + _PROG),
    "ISO 8601": re.compile(
        _PRI + r"(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?)"
        r" (?P<host>\S+) " + _PROG),
    "RFC 5424": re.compile(
        r"(?:\d+ )?" + _PRI + r"1 (?P<ts>\S+) (?P<host>\S+) (?P<prog>\S+) (?P<pid>\S+) \S+"
        r" (?P<sd>-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: \ufeff?(?P<msg>.*))?$"),
}
#: the server's tag: ``[seq-chunk]``, or ``[n]`` (a sequence number or a chunk number)
TAG = re.compile(r"\[(\d+)(?:-(\d+))?\](?: |$)")
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
        if time is None:
            return None
    else:
        try:
            time = datetime.fromisoformat(m["ts"]) if m["ts"] != "-" else None
        except ValueError:
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
        path = Path(file)
        written = datetime.fromtimestamp(path.stat().st_mtime) if path.is_file() else (
            datetime.now())
        assembler = Assembler(file)
        style, servers, mode = self.style, self.servers, self.mode
        for number, text in lines:
            header = parse_header(style, text, written.year, written.month)
            if header is None:  # no header: given as it is, for the reader to place
                yield from assembler.add(number, text)
                continue
            if header.program not in servers and not _is_server(header.program):
                self.others += 1
                continue
            message, seq, chunk = header.message, None, None
            tag = TAG.match(message) if mode != "none" else None
            if tag is not None:
                message = message[tag.end():]
                if mode == "seq":
                    seq, chunk = int(tag[1]), int(tag[2] or 1)
                elif mode == "chunk":
                    chunk = int(tag[1])
            yield from assembler.add(number, message, key=header.pid, seq=seq, chunk=chunk,
                                     time=header.time, pid=header.pid)
        yield from assembler.flush()
