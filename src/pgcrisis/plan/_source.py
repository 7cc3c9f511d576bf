"""Reading plan input: files or stdin, gzip transparently, in chunks that end at line breaks.

Everything downstream sees :class:`Input`: an iterator of byte chunks, each ending at a
newline (except the last), plus what was sniffed from the start (format, psql decoration)
and counters for progress and error messages. Nothing here holds more than one chunk.
"""

from __future__ import annotations

import codecs
import gzip
import re
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, cast

from pgcrisis.errors import InputError
from pgcrisis.plan._textclean import clean, starts_plan

CHUNK_SIZE = 1 << 20
SNIFF_SIZE = 64 << 10
_GZIP_MAGIC = b"\x1f\x8b"
_PSQL_FOOTER = re.compile(rb"^\(\d+ rows?\)\s*$")
_FRAME_RULE = re.compile("^[\\s\\-+─┌┐└┘├┤┬┴┼]+$".encode())
_BAR_BYTES = (b"|", "│".encode())
_NEWLINE_MARK = "↵".encode()
_BARS = ("|", "│")
_PROMPT = re.compile(rb"^[\w.-]+[=\-(!'\"*^]?[#>](?: .*)?$")

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
        #: bytes read at a time (a scanner may lower it before reading starts)
        self.chunk_size = chunk_size
        self.position = Position()
        self.progress: Progress | None = None
        #: Line numbers are for error messages only; compaction turns counting off.
        self.count_lines = True
        self.format = "json"
        self.decorated = False
        self.compressed = compressed
        #: non-blank lines before the plan (a prompt, the echoed command, comments)
        self.skipped_lines = 0
        #: non-blank lines after psql's row-count footer, not read
        self.trailing_lines = 0
        self.trailing_plans = 0
        self._framed = False
        self._lead = 0
        self._ended = False
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._utf8_pending = 0
        self._first = self._read_first()
        self.head = self._first[:SNIFF_SIZE]
        if self.format == "json" and self.decorated:  # what the scanners will see
            self.head = self._undecorate(self.head)
            self._ended = False
            self.trailing_lines = self.trailing_plans = 0

    # -- public --------------------------------------------------------------------------

    def chunks(self) -> Iterator[bytes]:
        """Newline-aligned chunks of the (undecorated) input; advances :attr:`position`."""
        carry = self._first
        self._first = b""
        eof = False
        while not eof:
            data = self._read(self.chunk_size)
            eof = not data
            buffer = carry + data if carry else data
            if eof:
                chunk, carry = buffer, b""
                if self.format == "json":
                    chunk = self._drop_prompts(chunk)
            else:
                cut = buffer.rfind(b"\n") + 1
                if cut == 0:
                    # (text lines are parsed whole; JSON scanners carry what they need)
                    limit = self.chunk_size * (8 if self.format == "text" else 1)
                    if len(buffer) < limit:
                        carry = buffer
                        continue
                    # One enormous line (compacted JSON): cut at the end of what was read
                    # (no copy of the rest carried on: the next buffer is the next read),
                    # but never right after a backslash, so an escape sequence never
                    # straddles two chunks; at most the limit and one read
                    cut = len(buffer)
                    while cut > 1 and buffer[cut - 1] == 0x5C:
                        cut -= 1
                chunk, carry = buffer[:cut], buffer[cut:]
            if self.decorated and self.format == "json":
                chunk = self._undecorate(chunk)
            if chunk:
                self._check_bytes(chunk, eof)
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
        start = self._plan_start(lines)
        if start > 0:
            dropped = b"\n".join(lines[:start]) + b"\n"
            self.position.offset += len(dropped)
            self.position.line += start
            self.skipped_lines = sum(1 for line in lines[:start] if line.strip())
            head = b"\n".join(lines[start:])
        return head

    def _plan_start(self, lines: list[bytes]) -> int:
        """The index of the plan's first line; sets :attr:`format` and the decoration.

        Lines before it (a prompt, the echoed command, comments, psql's header and rule)
        are skipped; the caller notes how many.
        """
        for number, raw in enumerate(lines):
            line = raw.decode("utf-8", "replace")
            cell = clean(line)
            if cell is None:
                if "QUERY PLAN" in line:
                    self.decorated = True
                continue
            bare = cell.strip()
            if not bare:
                continue
            if bare[:1] in ("[", "{"):
                self.format = "json"
                if self.decorated or line.rstrip().endswith(("+", "↵")):
                    self.decorated = True
                    self._framed = line.lstrip()[:1] in _BARS
                    plain = line.lstrip()[1:] if self._framed else line
                    self._lead = len(plain) - len(plain.lstrip(" "))
                return number
            if starts_plan(cell):
                self.format = "text"
                self.decorated = False  # the text scanner reads psql's frames itself
                return number
        first = next((line for line in lines if line.strip()), b"").strip()
        shown = first[:60].decode("utf-8", "replace")
        raise InputError(
            f"{self.name}: not a PostgreSQL plan: expected a JSON plan ('[' or '{{') or a "
            f"text plan node like 'Seq Scan on t  (cost=...)', found only other text in "
            f"the first {sum(1 for line in lines if line.strip()):,} non-blank lines, "
            f"starting with {shown!r}")

    def _drop_prompts(self, chunk: bytes) -> bytes:
        """psql prompts after the JSON (``app=# \\q``): not part of the plan, not an error."""
        body = chunk.rstrip()
        while body:
            start = body.rfind(b"\n") + 1
            if not _PROMPT.match(body[start:]):
                break
            self.trailing_lines += 1
            body = body[:start].rstrip()
        return body + b"\n" if self.trailing_lines and body else chunk

    def _check_bytes(self, chunk: bytes, final: bool) -> None:
        """Every byte is text: no NUL, valid UTF-8 (a corrupt block anywhere is named by
        its offset, not just in the first 64 kB)."""
        zero = chunk.find(b"\x00")
        if zero >= 0:
            raise InputError(f"{self.name}: corrupt input: a NUL byte at byte offset "
                             f"{self.position.offset + zero:,}: expected a PostgreSQL plan "
                             f"as text")
        if chunk.isascii() and not self._utf8_pending:
            return
        try:
            self._utf8.decode(chunk, final)
        except UnicodeDecodeError as exc:
            raise InputError(f"{self.name}: corrupt input: invalid UTF-8 at byte offset "
                             f"{max(0, self.position.offset + exc.start - self._utf8_pending):,}"
                             f": expected a PostgreSQL plan as text") from None
        self._utf8_pending = len(self._utf8.getstate()[0])

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

    def _undecorate(self, chunk: bytes) -> bytes:
        """psql's decoration of a JSON plan off each line: frame, margin, '+' / '↵' marks."""
        out: list[bytes] = []
        lead = self._lead
        for raw in chunk.split(b"\n"):
            line = raw.rstrip()
            if self._ended:
                # after psql's "(1 row)": the next prompt, another command's output
                if line.strip():
                    self.trailing_lines += 1
                    self.trailing_plans += b"QUERY PLAN" in line
                continue
            if _PSQL_FOOTER.match(line):
                self._ended = True
                continue
            if _FRAME_RULE.match(line):
                continue
            if self._framed:
                line = line.lstrip()
                for bar in _BAR_BYTES:
                    if line.startswith(bar):
                        line = line[len(bar):]
                        break
                line = line.rstrip()
                for bar in _BAR_BYTES:
                    if line.endswith(bar):
                        line = line[:-len(bar)]
                        break
            if lead and line[:lead].isspace():
                line = line[lead:]
            line = line.rstrip()
            if line.endswith(b"+"):
                line = line[:-1].rstrip()
            elif line.endswith(_NEWLINE_MARK):
                line = line[:-len(_NEWLINE_MARK)].rstrip()
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

