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
from collections.abc import Hashable, Iterable, Iterator
from datetime import datetime
from typing import Any

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


#: one chunk as a wrapper read it: ``(line number, text, key, seq, chunk, time, pid)``;
#: ``key`` tells processes apart, ``chunk`` None for a message sent whole (not split) or a
#: line with no header (given as it is)
Chunk = tuple[int, str, Hashable, int | None, int | None, datetime | None, int | None]
#: a message being put together, a list rather than an object (one is made for each line:
#: a list is the cheapest thing Python makes): its lines, then these fields by index
_KEY, _SEQ, _CHUNK, _SEEN, _DONE = 1, 2, 3, 4, 5


def assemble(chunks: Iterable[Chunk], file: str) -> Iterator[Line]:
    """Chunks in, the server's lines out, in the order their messages began.

    A message stays open until its process starts another (a ``[5-1]`` may yet be continued
    by ``[5-2]``) or :data:`WINDOW` chunks went by; messages that began after it wait behind
    it. The loop is written for a log of millions of lines: no call and no object but the
    line and its message's list for a message of one chunk, the fields of a message by
    their index (``1`` for :data:`_KEY`...: a global is looked up each time), a message
    sent whole with nothing waiting before it given at once.
    """
    new, window = tuple.__new__, WINDOW
    opened: dict[Hashable, list[Any]] = {}
    queue: deque[list[Any]] = deque()
    append, popleft, get = queue.append, queue.popleft, opened.get
    index = 0
    message: list[Any]
    for number, text, key, seq, chunk, time, pid in chunks:
        index += 1
        current = get(key)
        if (chunk is not None and chunk > 1 and current is not None and current[2] == seq
                and current[3] == chunk - 1):
            _continue(current, number, text, file, chunk, index)
        else:
            if current is not None:
                current[5] = True  # _DONE
            if "#01" in text:
                lines = [new(Line, (piece, number, file, time, pid, None))
                         for piece in unescape(text)]
            else:
                lines = [new(Line, (text, number, file, time, pid, None))]
            if chunk is None:
                if not queue:  # complete, and nothing waits before it
                    yield from lines
                    continue
                append([lines, key, seq, 1, index, True])
            else:
                # its chunk counted as 1 whatever its number, as it always was (a message
                # whose first chunks were lost is continued by a chunk 2, not by the next)
                opened[key] = message = [lines, key, seq, 1, index, False]
                append(message)
        # the oldest messages, done or left waiting too long (_DONE, _SEEN); none while the
        # oldest may still get chunks
        before = index - window
        while queue and (queue[0][5] or queue[0][4] < before):
            message = popleft()
            if get(message[1]) is message:  # _KEY
                del opened[message[1]]
            yield from message[0]
    for message in queue:  # the end of the input: every line still held
        yield from message[0]


def _continue(message: list[Any], number: int, text: str, file: str, chunk: int,
              index: int) -> None:
    """Chunk ``chunk`` of an open message added to it: joined to its last line (a line cut
    for its length) or as lines of their own."""
    message[_CHUNK], message[_SEEN] = chunk, index
    pieces = unescape(text)
    lines: list[Line] = message[0]
    last = lines[-1]
    if joins(last.text, pieces[0]):
        lines[-1] = last._replace(text=last.text + pieces[0])
        pieces = pieces[1:]
    lines.extend(Line(piece, number, file, last.time, last.pid) for piece in pieces)
