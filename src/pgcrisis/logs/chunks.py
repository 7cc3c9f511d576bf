"""PostgreSQL's syslog chunks joined back into the lines the server would have written to
stderr. Shared by the syslog and Heroku logplex wrappers (Heroku's server logs through
syslog too).

What the server does (``write_syslog`` in ``src/backend/utils/error/elog.c``): a message
is the text it would write to stderr — its first line, then each DETAIL, HINT, CONTEXT,
STATEMENT line with the prefix again, a newline inside a field followed by a tab — ending
with a newline. With ``syslog_split_messages`` on (the default) it is sent in chunks: cut at
each newline (the newline dropped), and a line longer than ``PG_SYSLOG_LIMIT`` (900 bytes)
cut at the last space before the limit (the space starts the next chunk) or, with no space,
at the limit itself. Each chunk goes out as ``[seq-n] chunk`` (``[n] chunk`` without
``syslog_sequence_numbers``), ``seq`` counted per process. So chunk ``n > 1`` of a message
is either a new line of the server (after a newline: it starts with the prefix or a tab) or
the rest of a long line (it starts with the space cut at, or the chunk before is a full 900
bytes): the first is given as a line of its own, the second joined to the line before with
nothing added.

Chunks of different processes interleave in a syslog file, so a message is held until it is
complete (its process starts another, or :data:`WINDOW` lines went by) and messages are
given in the order they began.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from pgcrisis.logs.record import Line

#: the server's chunk size (``PG_SYSLOG_LIMIT``), in bytes of the server's encoding
LIMIT = 900
#: lines after which a message still waiting for chunks is given as it is: the chunks of
#: one message are sent in one loop, so they are never far apart
WINDOW = 1000


def unescape(text: str) -> list[str]:
    """A syslog message's text with the daemon's escapes undone: rsyslog writes a tab as
    ``#011`` and a newline as ``#012`` (a message sent whole, ``syslog_split_messages``
    off): the server's lines in it.

    >>> unescape("ERROR:  x#012#011more")
    ['ERROR:  x', '\\tmore']
    """
    if "#01" not in text:
        return [text]
    text = text.replace("#011", "\t")
    return text.replace("#015", "").rstrip("\n").split("#012") if "#012" in text else [text]


def joins(before: str, chunk: str) -> bool:
    """Whether ``chunk`` is the rest of the line ``before`` ends (cut for its length), not
    a new line of the server (cut at a newline).

    >>> joins("x" * 10, " rest"), joins("x" * 900, "rest"), joins("LOG:  a", "DETAIL:  b")
    (True, True, False)
    """
    if chunk.startswith(" "):
        return True
    return len(before.encode("utf-8", "replace")) >= LIMIT - 3  # cut at a character's end


@dataclass(slots=True)
class _Message:
    """One message of the server being put together from its chunks."""

    key: Hashable
    seq: int | None
    time: datetime | None
    pid: int | None
    numbers: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    chunk: int = 1
    seen: int = 0
    done: bool = False


class Assembler:
    """Chunks in, the server's lines out, in the order their messages began."""

    def __init__(self, file: str) -> None:
        self.file = file
        self._open: dict[Hashable, _Message] = {}
        self._queue: deque[_Message] = deque()
        self._index = 0

    def add(self, number: int, text: str, *, key: Hashable = None, seq: int | None = None,
            chunk: int | None = None, time: datetime | None = None,
            pid: int | None = None) -> Iterator[Line]:
        """One chunk (``chunk`` None: a whole message, not split); the lines now complete."""
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
        if not head.done and head.seen >= self._index - WINDOW:
            return iter(())  # the oldest message may still get chunks: nothing yet
        return self._ready(self._index - WINDOW)

    def _ready(self, before: int) -> Iterator[Line]:
        queue = self._queue
        while queue and (queue[0].done or queue[0].seen < before):
            message = queue.popleft()
            if self._open.get(message.key) is message:
                del self._open[message.key]
            for number, text in zip(message.numbers, message.texts, strict=True):
                yield Line(text, number, self.file, message.time, message.pid)

    def flush(self) -> Iterator[Line]:
        """Every line still held (the end of the input)."""
        yield from self._ready(self._index + 1)
