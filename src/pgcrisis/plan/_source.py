"""Reading plan input: files or stdin, gzip transparently, in chunks that end at line breaks.

Everything downstream sees :class:`Input`: an iterator of byte chunks, each ending at a
newline (except the last), plus what was sniffed from the start (format, psql decoration)
and counters for progress and error messages. Nothing here holds more than one chunk.
"""

from __future__ import annotations

import gzip
import re
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, cast

from pgcrisis.errors import InputError

CHUNK_SIZE = 1 << 20
SNIFF_SIZE = 64 << 10
_GZIP_MAGIC = b"\x1f\x8b"
_PSQL_FOOTER = re.compile(rb"^\(\d+ rows?\)\s*$")
_PSQL_SEPARATOR = re.compile(rb"^-+\+?-*\s*$")
_TEXT_NODE = re.compile(rb"^\s*(?:->\s+)?[A-Z][A-Za-z ]+.*\((?:cost|actual)[=\s]")

Progress = Callable[[int], None]


class Readable(Protocol):
    """What :class:`Input` reads from: a file, stdin, a gzip stream."""

    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(slots=True)
class Position:
    """Where the reader is: bytes and lines before the current chunk (for error messages)."""

    offset: int = 0
    line: int = 1


class Input:
    """A plan source read in newline-aligned chunks; see the module docstring."""

    def __init__(self, stream: Readable, *, name: str, size: int | None,
                 raw: BinaryIO, chunk_size: int = CHUNK_SIZE, compressed: bool = True) -> None:
        self.name = name
        self.size = size
        self._stream = stream
        self._raw = raw
        self._chunk_size = chunk_size
        self.position = Position()
        self.progress: Progress | None = None
        #: Line numbers are for error messages only; compaction turns counting off.
        self.count_lines = True
        self.format = "json"
        self.decorated = False
        self.compressed = compressed
        self._aligned = False
        self._first = self._read_first()
        self.head = self._first[:SNIFF_SIZE]

    # -- public --------------------------------------------------------------------------

    def chunks(self) -> Iterator[bytes]:
        """Newline-aligned chunks of the (undecorated) input; advances :attr:`position`."""
        carry = self._first
        self._first = b""
        eof = False
        while not eof:
            data = self._read(self._chunk_size)
            eof = not data
            buffer = carry + data if carry else data
            if eof:
                chunk, carry = buffer, b""
            else:
                cut = buffer.rfind(b"\n") + 1
                if cut == 0:
                    # (text lines are parsed whole; JSON scanners carry what they need)
                    limit = self._chunk_size * (8 if self.format == "text" else 1)
                    if len(buffer) < limit:
                        carry = buffer
                        continue
                    # One enormous line (compacted JSON): cut anywhere but right after a
                    # backslash, so an escape sequence never straddles two chunks.
                    cut = len(buffer)
                    while cut > 1 and buffer[cut - 1] == 0x5C:
                        cut -= 1
                chunk, carry = buffer[:cut], buffer[cut:]
            if self.decorated:
                chunk = self._undecorate(chunk)
            if chunk:
                yield chunk
                self.position.offset += len(chunk)
                if self.count_lines:
                    self.position.line += chunk.count(b"\n")
            if self.progress is not None:
                self.progress(self._raw_offset())

    def close(self) -> None:
        """Close the underlying stream (not stdin)."""
        if self._raw is not sys.stdin.buffer:
            self._raw.close()

    # -- sniffing ------------------------------------------------------------------------

    def _read_first(self) -> bytes:
        head = self._read(SNIFF_SIZE)
        while head and b"\n" not in head[-4096:] and len(head) < 16 * SNIFF_SIZE:
            more = self._read(SNIFF_SIZE)
            if not more:
                break
            head += more
        if not head.strip():
            raise InputError(f"{self.name}: empty input: expected a PostgreSQL plan "
                             f"(EXPLAIN output in JSON or text format)")
        self._reject_binary(head)
        lines = head.split(b"\n")
        first = next((line for line in lines if line.strip()), b"")
        if b"QUERY PLAN" in first:
            self.decorated = True
            self._aligned = any(_PSQL_SEPARATOR.match(line) for line in lines[:4])
            head = self._undecorate_head(head)
        stripped = head.lstrip()
        if stripped[:1] in (b"[", b"{"):
            self.format = "json"
        elif _TEXT_NODE.match(stripped.split(b"\n", 1)[0]):
            self.format = "text"
        else:
            shown = stripped.split(b"\n", 1)[0][:60].decode("utf-8", "replace")
            raise InputError(
                f"{self.name}: not a PostgreSQL plan: line 1 should start a JSON plan ('[' or "
                f"'{{') or a text plan node like 'Seq Scan on t  (cost=...)', found {shown!r}")
        return head

    def _reject_binary(self, head: bytes) -> None:
        zero = head.find(b"\x00")
        if zero >= 0:
            raise InputError(f"{self.name}: binary input (a NUL byte at byte offset {zero}): "
                             f"expected a PostgreSQL plan as text")
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:
                raise InputError(
                    f"{self.name}: binary input (invalid UTF-8 at byte offset {exc.start}): "
                    f"expected a PostgreSQL plan as text") from None

    def _undecorate_head(self, head: bytes) -> bytes:
        lines = head.split(b"\n")
        start = 0
        for number, line in enumerate(lines[:4]):
            if b"QUERY PLAN" in line or _PSQL_SEPARATOR.match(line):
                start = number + 1
        dropped = b"\n".join(lines[:start]) + b"\n"
        self.position.offset += len(dropped)
        self.position.line += start
        return self._undecorate(b"\n".join(lines[start:]))

    def _undecorate(self, chunk: bytes) -> bytes:
        out: list[bytes] = []
        for raw in chunk.split(b"\n"):
            if _PSQL_FOOTER.match(raw):
                continue
            line = raw[1:] if self._aligned and raw[:1] == b" " else raw
            line = line.rstrip()
            if line.endswith(b"+"):
                line = line[:-1].rstrip()
            out.append(line)
        return b"\n".join(out)

    # -- reading -------------------------------------------------------------------------

    def _read(self, size: int) -> bytes:
        try:
            return self._stream.read(size)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{self.name}: cannot read (corrupt or truncated gzip?): "
                             f"{exc}") from None

    def _raw_offset(self) -> int:
        try:
            return int(self._raw.tell())
        except (OSError, ValueError):
            return self.position.offset


def open_input(path: str | Path, *, chunk_size: int = CHUNK_SIZE) -> Input:
    """Open ``path`` (``-`` for stdin), decompressing gzip transparently."""
    name = str(path)
    raw: BinaryIO
    size: int | None = None
    if name == "-":
        raw = sys.stdin.buffer
        name = "stdin"
    else:
        try:
            raw = open(path, "rb")  # noqa: SIM115 - closed by Input.close
            size = Path(path).stat().st_size
        except OSError as exc:
            raise InputError(f"cannot open {name}: {exc.strerror}") from None
    return from_stream(raw, name=name, size=size, chunk_size=chunk_size)


def from_stream(raw: BinaryIO, *, name: str, size: int | None = None,
                chunk_size: int = CHUNK_SIZE) -> Input:
    """Wrap an open binary stream (gzip detected by its magic bytes)."""
    peek = raw.read(2)
    if peek.startswith(_GZIP_MAGIC):
        unzipped = gzip.GzipFile(fileobj=cast(BinaryIO, _Prefixed(peek, raw)), mode="rb")
        return Input(unzipped, name=name, size=size, raw=raw, chunk_size=chunk_size)
    return Input(_Prefixed(peek, raw), name=name, size=size, raw=raw, chunk_size=chunk_size,
                 compressed=False)


class _Prefixed:
    """A stream with a few already-read bytes put back in front."""

    def __init__(self, prefix: bytes, stream: BinaryIO) -> None:
        self._prefix = prefix
        self._stream = stream

    def read(self, size: int = -1, /) -> bytes:
        if self._prefix:
            head, self._prefix = self._prefix, b""
            if size < 0:
                return head + self._stream.read()
            return head + self._stream.read(max(0, size - len(head)))
        return self._stream.read(size)

