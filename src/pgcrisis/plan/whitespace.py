"""``explain --compact``: the same JSON with insignificant whitespace removed, streamed in
chunks. (Named for what it removes: a module named ``compact`` would shadow the package's
:func:`pgcrisis.plan.compact` once imported.)

Whitespace is insignificant exactly where it is outside strings, and outside strings every
byte up to 0x20 is whitespace. So per chunk, with numpy: escaped backslashes and escaped
quotes are first swapped for placeholder bytes valid JSON cannot contain (raw
``\\x00``/``\\x01``), after which every ``"`` delimits a string; the runs between quotes
alternate outside/inside (the parity is carried from chunk to chunk); bytes <= 0x20
outside strings are dropped, everything else is copied. String contents are never touched.
Bracket depth is counted (for PostgreSQL's indented layout, its unindented closing line is
checked instead) so a truncated input is reported instead of silently passed on.

JSON never has a raw line break inside a string, so a chunk that begins after a line break
begins outside any string: such chunks are independent, and are compacted by a small pool
of threads (numpy releases the GIL for the heavy loops), results written in order with a
bounded number in flight. Only a chunk cut in the middle of one enormous line (already
compact input) needs the previous chunk's parity, and waits for it.
"""

from __future__ import annotations

import ctypes
import os
import re
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from pgcrisis.errors import InputError

_INDENTED_START = re.compile(rb"\A\s*(?:\[[ \t]*\r?\n\s*)?\{[ \t]*\r?\n( *)\"[^\"\n]+\": ")
# A list whose first element is a scalar on its own line: not PostgreSQL's layout, which
# prints lists of scalars on one line.
_SCALAR_LIST_OVER_LINES = re.compile(rb": \[\r?\n *[^\s{\]]")

_ESCAPED_BACKSLASH = b"\\\\"
_ESCAPED_QUOTE = b'\\"'
_QUOTE, _SPACE = 0x22, 0x20
_OPEN = (0x7B, 0x5B)
_CLOSE = (0x7D, 0x5D)
THREADS = min(4, os.cpu_count() or 1)


@dataclass(frozen=True, slots=True)
class Piece:
    """One compacted chunk and what it does to the string parity and bracket depth."""

    data: bytes | memoryview
    flips: bool
    depth: int
    size: int


def compact_piece(chunk: bytes, in_string: bool = False, offset: int = 0,
                  name: str = "input", *, count_depth: bool = True) -> Piece:
    """Compact one chunk that starts inside a string if ``in_string``.

    The chunk must not split an escape sequence (``_source.Input`` never cuts right after
    a backslash). ``count_depth`` off saves a fifth of the time where the caller checks
    the end of the input another way.
    """
    size = len(chunk)
    escaped = b"\\" in chunk
    if escaped:
        if b"\x00" in chunk or b"\x01" in chunk:
            found = [i for i in (chunk.find(b"\x00"), chunk.find(b"\x01")) if i >= 0]
            raise InputError(f"{name}: binary data at byte offset {offset + min(found)}: "
                             f"not JSON")
        chunk = chunk.replace(_ESCAPED_BACKSLASH, b"\x00").replace(_ESCAPED_QUOTE, b"\x01")
    data = np.frombuffer(chunk, dtype=np.uint8)
    quotes = np.flatnonzero(data == _QUOTE)
    bounds = np.empty(len(quotes) + 2, dtype=np.int64)
    bounds[0] = 0
    bounds[1:-1] = quotes
    bounds[-1] = len(data)
    flags = np.zeros(len(bounds) - 1, dtype=np.bool_)
    flags[(0 if in_string else 1)::2] = True
    inside = np.repeat(flags, np.diff(bounds))
    keep = data > _SPACE
    depth = 0
    if count_depth:
        outside = ~inside
        depth = (int(np.count_nonzero(((data == _OPEN[0]) | (data == _OPEN[1])) & outside))
                 - int(np.count_nonzero(((data == _CLOSE[0]) | (data == _CLOSE[1])) & outside)))
    keep |= inside
    kept = data[keep]
    out: bytes | memoryview = kept.data
    if escaped:
        out = kept.tobytes().replace(b"\x01", _ESCAPED_QUOTE).replace(b"\x00",
                                                                      _ESCAPED_BACKSLASH)
    return Piece(out, len(quotes) % 2 == 1, depth, size)


def looks_indented(head: bytes) -> bool:
    """Whether the input starts in PostgreSQL's one-key-per-line indented layout, whose
    end (an unindented closing bracket) shows it is whole without counting brackets."""
    return (_INDENTED_START.match(head) is not None and b'"Node Type": ' in head
            and b"\r\n" not in head[:4096] and _SCALAR_LIST_OVER_LINES.search(head) is None)


def keep_freed_memory() -> None:
    """Ask glibc's allocator to keep freed memory for reuse instead of returning it to the
    system at once.

    Each chunk's numpy temporaries are freed and allocated again for the next chunk. In the
    worker threads' arenas glibc trims freed memory right away, so every allocation maps
    fresh pages: a 400 MiB input cost 400,000 page faults, 1.5 s of the 2.2 s it took
    (on this project's 2-core VM). With memory kept up to 256 MiB (the process peaks near
    40 MiB, so its footprint does not change) and chunks never mapped apart, there are
    6,000. Both settings are needed: fixing the trim threshold alone stops glibc adapting
    the mmap threshold, and every temporary is mapped. A C library without ``mallopt``
    (musl, macOS) is left as it is.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # <malloc.h>
    mallopt(m_mmap_threshold, 64 << 20)
    mallopt(m_trim_threshold, 256 << 20)


class Compactor:
    """Turns chunks of JSON into chunks of compact JSON; :meth:`finish` checks the end."""

    def __init__(self, name: str = "input") -> None:
        self._name = name
        self._in_string = False
        self._depth = 0
        self._offset = 0
        self.count_depth = True
        self._last = b""

    @property
    def in_string(self) -> bool:
        """Whether the input so far ends inside a string."""
        return self._in_string

    def chunks(self, chunks: Iterable[bytes], *,
               threads: int = THREADS) -> Iterator[bytes | memoryview]:
        """Compact every chunk (in parallel where they are independent), in order; then
        check that the input ended where JSON can end."""
        if threads <= 1:
            for chunk in chunks:
                yield self.compact(chunk)
            self.finish()
            return
        keep_freed_memory()
        pending: deque[tuple[Future[Piece], bool]] = deque()
        aligned = True  # the next chunk starts right after a line break: outside any string
        offset = 0
        with ThreadPoolExecutor(max_workers=threads) as pool:
            for chunk in chunks:
                ends_line = chunk.endswith(b"\n")
                if aligned:
                    future = pool.submit(compact_piece, chunk, False, offset, self._name,
                                         count_depth=self.count_depth)
                    pending.append((future, ends_line))
                else:
                    while pending:
                        yield self._take(*pending.popleft())
                    yield self.compact(chunk)
                aligned = ends_line
                offset += len(chunk)
                if chunk[-4096:].strip():
                    self._last = chunk[-4096:]
                while len(pending) > 2 * threads:
                    yield self._take(*pending.popleft())
            while pending:
                yield self._take(*pending.popleft())
        self.finish()

    def _take(self, future: Future[Piece], ends_line: bool) -> bytes | memoryview:
        piece = future.result()
        if ends_line and piece.flips != self._in_string:
            raise InputError(f"{self._name}: invalid JSON: a string runs over a line break "
                             f"after byte offset {self._offset}")
        return self.add(piece)

    def compact(self, chunk: bytes) -> bytes | memoryview:
        """One chunk (see :func:`compact_piece`)."""
        if chunk[-4096:].strip():
            self._last = chunk[-4096:]
        return self.add(compact_piece(chunk, self._in_string, self._offset, self._name,
                                      count_depth=self.count_depth))

    def add(self, piece: Piece) -> bytes | memoryview:
        """Account for a piece compacted elsewhere (a worker process); returns its bytes."""
        if piece.flips:
            self._in_string = not self._in_string
        self._depth += piece.depth
        self._offset += piece.size
        if self.count_depth and self._depth < 0:
            raise InputError(f"{self._name}: invalid JSON: a closing bracket without an "
                             f"opening one before byte offset {self._offset}")
        return piece.data

    def finish(self) -> None:
        """Raise :class:`InputError` when the input stopped inside a string or a container
        (or, without depth counting, did not end with an unindented closing bracket)."""
        if self._in_string:
            raise InputError(f"{self._name}: truncated plan: the input ends inside a string at "
                             f"byte offset {self._offset}")
        if self.count_depth:
            if self._depth != 0:
                raise InputError(f"{self._name}: truncated plan: the input ends with "
                                 f"{self._depth} unclosed bracket(s) at byte offset "
                                 f"{self._offset}")
            return
        last = self._last.rstrip().rsplit(b"\n", 1)[-1]
        if last not in (b"]", b"}"):
            shown = last[-40:].decode("utf-8", "replace")
            raise InputError(f"{self._name}: truncated plan: the input ends at byte offset "
                             f"{self._offset} after {shown!r}, inside the JSON; expected the "
                             f"closing '}}' / ']'")
