"""Heroku Postgres's log as Heroku's logplex carries it: ``heroku logs`` lines
(``2026-12-06T08:00:01+00:00 app[postgres.1234]: [DATABASE] [9-1] sql_error_code = 28000
FATAL:  ...``) or a log drain's frames (``83 <134>1 2026-12-06T08:00:01+00:00 host app
postgres.1234 - [DATABASE] [9-1] ...``). The server logs through syslog there, so its
``[seq-chunk]`` tags are joined as syslog's (:mod:`.chunks`). The app's other lines (the
router, web dynos, Heroku Postgres's metrics ``app[heroku-postgres]``) are other programs'.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import NamedTuple

from pgcrisis.logs.chunks import Chunk, assemble
from pgcrisis.logs.record import Line
from pgcrisis.logs.syslog import TAG
from pgcrisis.logs.wrappers import Wrapper

_TS = r"(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d))"
#: ``heroku logs``: time, source[dyno]: message
CLI = re.compile(_TS + r" (?P<source>[\w-]+)\[(?P<dyno>[^\]]+)\]: ?(?P<msg>.*)$")
#: a drain's frame: octet count, <pri>1 time host source dyno msgid message (no SD field)
DRAIN = re.compile(r"(?:\d+ )?<\d{1,3}>1 " + _TS
                   + r" \S+ (?P<source>\S+) (?P<dyno>\S+) \S+ ?(?P<msg>.*)$")
#: the server's dyno (``postgres.1234``: its process) and the database's attachment tag
DYNO = re.compile(r"postgres\.(\d+)$")
ATTACHMENT = re.compile(r"\[([A-Z0-9_]+)\] ")
#: the server's line in either form, its dyno, attachment and tag read in the same match:
#: where these match, :data:`CLI` or :data:`DRAIN`, then :data:`DYNO`, :data:`ATTACHMENT` and
#: :data:`~pgcrisis.logs.syslog.TAG` read the same (``?+`` and ``(?>...)`` keep what the
#: greedy ``?`` and ``\S+`` took there, as they do; no optional group, slow in Python's
#: regular expressions; nothing read after the tag); other lines are read by those
_USUAL_TS = r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+|)(?:Z|[+-]\d\d:\d\d))"
_USUAL = r"\[([A-Z0-9_]+)\] \[(\d+)(?:-(\d+)|)\] "
CLI_USUAL = re.compile(_USUAL_TS + r" [\w-]+\[postgres\.(\d+)\]: ?+" + _USUAL)
DRAIN_USUAL = re.compile(r"(?:\d+ |)<\d{1,3}>1 " + _USUAL_TS
                         + r" \S+ \S+ postgres\.(\d+) (?>\S+) ?+" + _USUAL)


class Frame(NamedTuple):
    """A logplex line, read: when, the dyno, the message."""

    time: datetime | None
    dyno: str
    message: str


def parse_frame(line: str) -> Frame | None:
    """The frame of a logplex line (either form); None for another line.

    >>> parse_frame("2026-12-06T08:00:01+00:00 app[postgres.42]: [DATABASE] [9-1] x").dyno
    'postgres.42'
    """
    m = CLI.match(line) or DRAIN.match(line)
    if m is None:
        return None
    return Frame(_time(m["ts"]), m["dyno"], m["msg"])


class Logplex(Wrapper):
    """Heroku logplex lines holding a Heroku Postgres server's lines."""

    name = "Heroku logplex"

    @classmethod
    def fits(cls, sample: Sequence[str]) -> Logplex | None:
        """A logplex wrapper when most lines are logplex frames and one is the server's."""
        lines = [s for s in sample if s.strip()]
        frames = [f for f in (parse_frame(s) for s in lines) if f is not None]
        if not frames or len(frames) * 2 < len(lines):
            return None
        if not any(DYNO.match(f.dyno) and ATTACHMENT.match(f.message) for f in frames):
            return None
        return cls()

    def unwrap(self, lines: Iterable[tuple[int, str]], file: str) -> Iterator[Line]:
        return assemble(self.chunks(lines, file), file)

    def chunks(self, lines: Iterable[tuple[int, str]], file: str) -> Iterator[Chunk]:
        """The server's chunks of ``lines``, read (other programs' lines counted)."""
        cli, drain = CLI_USUAL.match, DRAIN_USUAL.match
        last, time = "", None  # a time is read once for the lines of its text in a row
        for number, text in lines:
            m = cli(text) or drain(text)
            if m is None:
                yield from self._other(number, text)
                continue
            ts, pid_text, attachment, seq, chunk = m.groups()
            if ts != last:
                last, time = ts, _time(ts)
            pid = int(pid_text)
            yield (number, text[m.end():], (attachment, pid), int(seq), int(chunk or 1),
                   time, pid)

    def _other(self, number: int, text: str) -> Iterator[Chunk]:
        """A line that is not the server's in the usual form: another program's (counted),
        one with no frame (given as it is), or a server's line read the long way."""
        frame = parse_frame(text)
        if frame is None:
            yield number, text, None, None, None, None, None
            return
        dyno = DYNO.match(frame.dyno)
        attachment = ATTACHMENT.match(frame.message)
        if dyno is None or attachment is None:
            self.others += 1
            return
        message = frame.message[attachment.end():]
        pid = int(dyno[1])
        seq = chunk = None
        tag = TAG.match(message)
        if tag is not None:
            message = message[tag.end():]
            seq, chunk = int(tag[1]), int(tag[2] or 1)
        yield number, message, (attachment[1], pid), seq, chunk, frame.time, pid


def _time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
