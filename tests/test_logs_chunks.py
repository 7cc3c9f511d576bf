"""The fast reading of syslog and logplex lines (:func:`pgcrisis.logs.chunks.assemble`, the
usual-shape regexes of :mod:`pgcrisis.logs.syslog` and :mod:`pgcrisis.logs.logplex`) against
a slow reference kept here: the straightforward reading they replaced (a header parsed,
then its tag; an object for each message). Both must give the same lines, in the same
order, with the same times and processes, and count the same other programs' lines, on
arbitrary streams: processes interleaved, multi-chunk messages continued after another
process's line, chunks lost or repeated, lines of no header, odd headers."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgcrisis.logs import chunks
from pgcrisis.logs.chunks import assemble, joins, unescape
from pgcrisis.logs.logplex import ATTACHMENT, DYNO, Logplex, parse_frame
from pgcrisis.logs.record import Line
from pgcrisis.logs.syslog import TAG, Syslog, _is_server, parse_header


@dataclass(slots=True)
class _Message:
    key: Hashable
    seq: int | None
    time: datetime | None
    pid: int | None
    numbers: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    chunk: int = 1
    seen: int = 0
    done: bool = False


class Reference:
    """The chunks joined one message object at a time (the reading before the fast one)."""

    def __init__(self, file: str, window: int) -> None:
        self.file, self.window = file, window
        self._open: dict[Hashable, _Message] = {}
        self._queue: deque[_Message] = deque()
        self._index = 0

    def add(self, number: int, text: str, key: Hashable = None, seq: int | None = None,
            chunk: int | None = None, time: datetime | None = None,
            pid: int | None = None) -> Iterator[Line]:
        self._index += 1
        pieces = unescape(text)
        current = self._open.get(key)
        if (chunk is not None and chunk > 1 and current is not None and current.seq == seq
                and current.chunk == chunk - 1):
            current.chunk, current.seen = chunk, self._index
            if joins(current.texts[-1], pieces[0]):
                current.texts[-1] += pieces[0]
                pieces = pieces[1:]
            current.numbers.extend(number for _ in pieces)
            current.texts.extend(pieces)
        else:
            if current is not None:
                current.done = True
            message = _Message(key, seq, time, pid, [number] * len(pieces), pieces,
                               seen=self._index, done=chunk is None)
            if chunk is not None:
                self._open[key] = message
            self._queue.append(message)
        head = self._queue[0]
        if not head.done and head.seen >= self._index - self.window:
            return iter(())
        return self._ready(self._index - self.window)

    def _ready(self, before: int) -> Iterator[Line]:
        queue = self._queue
        while queue and (queue[0].done or queue[0].seen < before):
            message = queue.popleft()
            if self._open.get(message.key) is message:
                del self._open[message.key]
            for number, text in zip(message.numbers, message.texts, strict=True):
                yield Line(text, number, self.file, message.time, message.pid)

    def flush(self) -> Iterator[Line]:
        yield from self._ready(self._index + 1)


def reference(stream: Iterable[chunks.Chunk], window: int) -> list[Line]:
    ref, out = Reference("f", window), []
    for number, text, key, seq, chunk, time, pid in stream:
        out += ref.add(number, text, key, seq, chunk, time, pid)
    return out + list(ref.flush())


T0 = datetime(2026, 12, 6, 8, 0, 1)
TEXTS = st.sampled_from(["LOG:  a", "DETAIL:  b", "\tmore", " rest of a line", "x" * 900,
                         "ERROR:  x#012#011y", "a#012", "", "#015z"])


@st.composite
def streams(draw: st.DrawFn) -> list[chunks.Chunk]:
    """Chunks of a few processes (and of no process: a line with no header), numbered as
    the server numbers them but now and then lost, repeated, continued late or whole."""
    out: list[chunks.Chunk] = []
    seqs: dict[Hashable, int] = {}
    parts: dict[Hashable, int] = {}
    for number in range(1, draw(st.integers(0, 60)) + 1):
        key = draw(st.sampled_from([101, 102, 103, None]))
        kind = draw(st.sampled_from(["next", "next", "new", "new", "whole", "skip", "again"]))
        if kind == "new" or key not in seqs:
            seqs[key], parts[key] = seqs.get(key, 0) + 1, 1
        elif kind == "next":
            parts[key] += 1
        elif kind == "skip":
            parts[key] += 2
        seq, chunk = seqs[key], parts[key]
        if kind == "whole":
            seq, chunk = None, None
        time = T0 if number % 3 else None
        out.append((number, draw(TEXTS), key, seq, chunk, time,
                    key if isinstance(key, int) else None))
    return out


@settings(max_examples=400, deadline=None)
@given(streams(), st.sampled_from([1, 2, 5, 1000]))
def test_assemble_gives_what_the_reference_gives(stream: list[chunks.Chunk],
                                                 window: int) -> None:
    """``window`` small: messages given before their process starts another, too."""
    chunks.WINDOW = window
    try:
        got = list(assemble(stream, "f"))
    finally:
        chunks.WINDOW = 1000
    assert got == reference(stream, window)


def test_a_message_continued_after_another_process_line_waits_for_it() -> None:
    """[7-1] of 101, then 102's line, then [7-2] of 101: 101's message is whole, and first."""
    stream: list[chunks.Chunk] = [
        (1, "LOG:  one", 101, 7, 1, T0, 101), (2, "LOG:  other", 102, 3, 1, T0, 102),
        (3, "\tcontinued", 101, 7, 2, T0, 101), (4, "LOG:  two", 101, 8, 1, T0, 101)]
    assert [(line.text, line.number) for line in assemble(stream, "f")] == [
        ("LOG:  one", 1), ("\tcontinued", 3), ("LOG:  other", 2), ("LOG:  two", 4)]


# --- the wrappers' lines: the usual shape read fast, every other the long way ----------

BSD = st.sampled_from(["Dec  6 08:00:01", "Dec 16 08:00:01", "Feb 30 08:00:01",
                       "Foo  6 08:00:01", "<13>Dec  6 08:00:01"])
ISO = st.sampled_from(["2026-12-06T08:00:01.123456+00:00", "2026-12-06T08:00:01Z",
                       "2026-12-06T08:00:01", "2026-13-06T08:00:01Z", "2026-12-06T08:00Z",
                       "2026-12-06T08:00:01+0000"])
RFC = st.sampled_from(["<134>1 2026-12-06T08:00:01Z", "<134>1 -", "134 <14>1 2026-12-06T08:00:01Z",
                       "1 2026-12-06T08:00:01Z", "<134>1 2026-12-06T25:00:01Z"])
PROGRAMS = st.sampled_from(["postgres", "postgres", "CRON", "postmaster"])
PIDS = st.sampled_from(["101", "102", "", "x"])
TAGS = st.sampled_from(["[5-1] ", "[5-2] ", "[6-1] ", "[6] ", "[1] ", "[2] ", "[5-1]", "[5-] ",
                        "[05-2] ", "", "[x] "])
BODIES = st.sampled_from(["LOG:  a", "\tmore", " rest", "ERROR:  x#012#011y", "", "[7-1] x"])


@st.composite
def syslog_lines(draw: st.DrawFn, style: str) -> str:
    tag, body = draw(TAGS), draw(BODIES)
    pid, program = draw(PIDS), draw(PROGRAMS)
    if draw(st.integers(0, 9)) == 0:
        return f"no header {body}"
    if style == "RFC 5424":
        sd = draw(st.sampled_from(["-", '[meta x="1"]', "-"]))
        bom = draw(st.sampled_from(["", "", "\ufeff"]))
        return f"{draw(RFC)} db1 {program} {pid or '-'} - {sd} {bom}{tag}{body}"
    when = draw(BSD if style == "BSD" else ISO)
    pid_part = f"[{pid}]" if pid else ""
    end = draw(st.sampled_from([f" {tag}{body}", f" {tag}{body}", "", ":x"]))
    return f"{when} db1 {program}{pid_part}:{end}"


def reference_syslog(wrapper: Syslog, lines: list[str], window: int) -> tuple[list[Line], int]:
    ref, out, others = Reference("f", window), [], 0
    for number, text in enumerate(lines, 1):
        now = datetime.now()  # "f" is no file: the wrapper takes this year and month
        header = parse_header(wrapper.style, text, now.year, now.month)
        if header is None:
            out += ref.add(number, text)
            continue
        if header.program not in wrapper.servers and not _is_server(header.program):
            others += 1
            continue
        message, seq, chunk = header.message, None, None
        tag = TAG.match(message) if wrapper.mode != "none" else None
        if tag is not None:
            message = message[tag.end():]
            if wrapper.mode == "seq":
                seq, chunk = int(tag[1]), int(tag[2] or 1)
            elif wrapper.mode == "chunk":
                chunk = int(tag[1])
        out += ref.add(number, message, header.pid, seq, chunk, header.time, header.pid)
    return out + list(ref.flush()), others


@pytest.mark.parametrize("style", ["BSD", "ISO 8601", "RFC 5424"])
@pytest.mark.parametrize("mode", ["seq", "chunk", "whole", "none"])
def test_syslog_reads_every_line_as_the_reference(style: str, mode: str) -> None:
    @settings(max_examples=150, deadline=None)
    @given(st.lists(syslog_lines(style), max_size=40), st.sampled_from([2, 1000]))
    def check(lines: list[str], window: int) -> None:
        chunks.WINDOW = window
        try:
            wrapper = Syslog(style, {"postgres"}, mode)
            got = list(wrapper.unwrap(enumerate(lines, 1), "f"))
            want, others = reference_syslog(wrapper, lines, window)
        finally:
            chunks.WINDOW = 1000
        assert got == want
        assert wrapper.others == others

    check()


LOGPLEX_HEADS = st.sampled_from([
    "2026-12-06T08:00:01.123456+00:00 app[postgres.{pid}]: ",
    "2026-12-06T08:00:01+00:00 app[postgres.{pid}]:",
    "2026-12-06T08:00:01Z app[postgres.{pid}]:  ",
    "2026-12-06T08:00:01 app[postgres.{pid}]: ",
    "2026-13-06T08:00:01Z app[postgres.{pid}]: ",
    "2026-12-06T08:00:01Z app[heroku-postgres]: ",
    "2026-12-06T08:00:01Z heroku[router]: ",
    "83 <134>1 2026-12-06T08:00:01+00:00 host app postgres.{pid} - ",
    "<134>1 2026-12-06T08:00:01+00:00 host app postgres.{pid} -",
    "<134>1 2026-12-06T08:00:01+00:00 host app postgres.{pid} -[DATABASE] ",
    "<134>1 2026-12-06T08:00:01+00:00 host app web.1 - ",
    "not a frame ",
])
LOGPLEX_BODIES = st.sampled_from(["[DATABASE] ", "[HEROKU_POSTGRESQL_RED] ", "[db] ", ""])


@st.composite
def logplex_lines(draw: st.DrawFn) -> str:
    head = draw(LOGPLEX_HEADS).format(pid=draw(st.sampled_from(["101", "102"])))
    return f"{head}{draw(LOGPLEX_BODIES)}{draw(TAGS)}{draw(BODIES)}"


def reference_logplex(lines: list[str], window: int) -> tuple[list[Line], int]:
    ref, out, others = Reference("f", window), [], 0
    for number, text in enumerate(lines, 1):
        frame = parse_frame(text)
        if frame is None:
            out += ref.add(number, text)
            continue
        dyno, attachment = DYNO.match(frame.dyno), ATTACHMENT.match(frame.message)
        if dyno is None or attachment is None:
            others += 1
            continue
        message, pid, seq, chunk = frame.message[attachment.end():], int(dyno[1]), None, None
        tag = TAG.match(message)
        if tag is not None:
            message = message[tag.end():]
            seq, chunk = int(tag[1]), int(tag[2] or 1)
        out += ref.add(number, message, (attachment[1], pid), seq, chunk, frame.time, pid)
    return out + list(ref.flush()), others


@settings(max_examples=400, deadline=None)
@given(st.lists(logplex_lines(), max_size=40), st.sampled_from([2, 1000]))
def test_logplex_reads_every_line_as_the_reference(lines: list[str], window: int) -> None:
    chunks.WINDOW = window
    try:
        wrapper = Logplex()
        got = list(wrapper.unwrap(enumerate(lines, 1), "f"))
        want, others = reference_logplex(lines, window)
    finally:
        chunks.WINDOW = 1000
    assert got == want
    assert wrapper.others == others


def test_a_real_file_year_is_used(tmp_path: Path) -> None:
    """The file's year (less one for December in a January file) on the fast path too."""
    path = tmp_path / "syslog"
    path.write_text("Dec  6 08:00:01 db1 postgres[1]: [1-1] LOG:  a\n")
    os.utime(path, (datetime(2027, 1, 2).timestamp(),) * 2)
    [line] = Syslog("BSD", {"postgres"}, "seq").unwrap([(1, path.read_text().strip())],
                                                        str(path))
    assert line.time == datetime(2026, 12, 6, 8, 0, 1)
