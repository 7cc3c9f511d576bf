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

from pgcrisis.logs.chunks import Assembler
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
    try:
        time = datetime.fromisoformat(m["ts"])
    except ValueError:
        time = None
    return Frame(time, m["dyno"], m["msg"])


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
        assembler = Assembler(file)
        for number, text in lines:
            frame = parse_frame(text)
            if frame is None:
                yield from assembler.add(number, text)
                continue
            dyno = DYNO.match(frame.dyno)
            attachment = ATTACHMENT.match(frame.message)
            if dyno is None or attachment is None:
                self.others += 1
                continue
            message = frame.message[attachment.end():]
            pid = int(dyno[1])
            seq = chunk = None
            tag = TAG.match(message)
            if tag is not None:
                message = message[tag.end():]
                seq, chunk = int(tag[1]), int(tag[2] or 1)
            yield from assembler.add(number, message, key=(attachment[1], pid), seq=seq,
                                     chunk=chunk, time=frame.time, pid=pid)
        yield from assembler.flush()
