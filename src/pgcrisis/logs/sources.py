"""Where the log's bytes come from: files, directories (their files, oldest first), stdin
(``-``); compressed ones (gzip, bzip2, xz, zstd) recognised by their first bytes, never by
their name: a ``.gz`` copy that was never compressed is read as text, and a csvlog named
``postgresql.csv.log`` is a log like any other.

Each :class:`Input` streams its lines (one per server line, newline removed, numbered from 1)
without ever holding a whole file, and says how many of its bytes on disk were consumed so
far (:meth:`Input.position`), so a progress bar moves for compressed files too.

What is not a log stops the read with one line (:class:`InputError`) saying what was found
and what was expected: a binary file, a truncated or corrupt archive, a missing path, an
empty directory.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import sys
import zlib
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, cast

from pgcrisis.errors import InputError

if sys.version_info >= (3, 14):
    from compression.zstd import ZstdError, ZstdFile
else:
    from backports.zstd import ZstdError, ZstdFile

#: bytes read from disk at a time: large reads keep plain files near the disk's speed
BUFFER = 1 << 20
#: how much of the start is looked at to tell text from binary content
HEAD = 1024
#: first bytes of each compression this reader opens (bzip2's is followed by a level digit)
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
EXPECTED = "expected a PostgreSQL log (text, or gzip/bzip2/xz/zstd)"
#: errors a decompressor raises on content that is not what its first bytes promised
_CORRUPT = (OSError, zlib.error, lzma.LZMAError, ZstdError, ValueError)
#: control bytes that text logs do not carry (tab, newlines, form feed and escape they do)
_CONTROL = frozenset(range(32)) - {9, 10, 12, 13, 27}


def compression(head: bytes) -> str:
    """The compression whose magic bytes start ``head``; ``""`` for none.

    >>> compression(b"\\x1f\\x8b\\x08\\x00"), compression(b"BZh91AY"), compression(b"2026-12-06")
    ('gzip', 'bzip2', '')
    """
    for magic, kind in MAGIC:
        if head.startswith(magic) and (kind != "bzip2" or head[3:4].isdigit()):
            return kind
    return ""


def is_binary(head: bytes) -> bool:
    """Whether the first bytes of a stream are not text: a NUL, or more than one byte in
    ten a control character no log writes (latin-1 or other encodings still count as text).

    >>> is_binary(b"2026-12-06 08:00:01 UTC [42] LOG:  ready\\n"), is_binary(b"\\x7fELF\\x02\\x01")
    (False, True)
    """
    if b"\x00" in head:
        return True
    controls = sum(1 for byte in head if byte in _CONTROL)
    return controls * 10 > len(head)


def first_bytes(head: bytes) -> str:
    """The first bytes in hex, as said in a refusal (``7f 45 4c 46``)."""
    return " ".join(f"{b:02x}" for b in head[:4])


class _Counted(io.RawIOBase):
    """A raw stream that counts the bytes read through it: the position of a read in the
    bytes on disk, whatever decompressor sits above it (a pipe has no ``tell``)."""

    def __init__(self, raw: BinaryIO, counter: list[int], owned: bool) -> None:
        super().__init__()
        self._raw = raw
        self._counter = counter
        self._owned = owned

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self._counter[0] += n
        return n

    def close(self) -> None:
        if self._owned:  # a file opened here; never the process's stdin
            self._raw.close()
        super().close()


def _decompressor(kind: str, stream: BinaryIO) -> BinaryIO:
    """The decompressed stream of ``stream`` (every member of a multi-member file)."""
    if kind == "gzip":
        return cast(BinaryIO, gzip.GzipFile(fileobj=stream, mode="rb"))
    if kind == "bzip2":
        return cast(BinaryIO, bz2.BZ2File(stream))
    if kind == "xz":
        return cast(BinaryIO, lzma.LZMAFile(stream))
    return cast(BinaryIO, ZstdFile(stream))


@dataclass(frozen=True, slots=True)
class Input:
    """One input: ``name`` as shown to people, ``size`` its bytes on disk where known (for
    progress: compare with :meth:`position`); ``path`` None for stdin."""

    name: str
    path: Path | None
    size: int | None
    #: the compression found by the last :meth:`lines` (``""`` plain), for the report
    found: list[str] = field(default_factory=lambda: [""], repr=False, compare=False)
    _read: list[int] = field(default_factory=lambda: [0], repr=False, compare=False)

    def position(self) -> int:
        """Bytes of the input on disk consumed so far (compressed bytes when compressed)."""
        return self._read[0]

    @property
    def compression(self) -> str:
        """``gzip``, ``bzip2``, ``xz``, ``zstd`` once :meth:`lines` began; ``""`` plain."""
        return self.found[0]

    def lines(self) -> Generator[tuple[int, str], None, None]:
        """``(line number, text without its newline)`` of the decoded content (UTF-8, bytes
        of another encoding replaced, never a crash); raises :class:`InputError` on binary
        content and when an archive ends before its end marker (naming the line reached)."""
        self._read[0] = 0
        stream = io.BufferedReader(_Counted(self._raw(), self._read, self.path is not None),
                                   BUFFER)
        # a decompressor leaves the stream under it open: both are closed here
        with stream, self._open(stream) as text:
            number = 0
            try:
                for number, line in enumerate(text, 1):
                    yield number, line.rstrip("\r\n")
            except EOFError:
                raise InputError(
                    f"{self.name}: {self.compression} archive cut short after line {number:,},"
                    f" expected the end of its {self.compression} stream (a copy not"
                    " finished, or a file still being written)") from None
            except _CORRUPT as exc:
                raise InputError(
                    f"{self.name}: corrupt {self.compression or 'content'} after line"
                    f" {number:,} ({exc}), {EXPECTED}") from None

    def _raw(self) -> BinaryIO:
        if self.path is None:
            return sys.stdin.buffer
        try:
            return self.path.open("rb", buffering=0)
        except OSError as exc:
            raise InputError(f"{self.name}: cannot be read ({exc.strerror}), {EXPECTED}") from None

    def _open(self, stream: io.BufferedReader[_Counted]) -> io.TextIOWrapper:
        """The text of ``stream``, its compression recognised from its first bytes."""
        kind = ""
        try:
            head = stream.peek(HEAD)[:HEAD]
            kind = compression(head)
            self.found[0] = kind
            content = cast(BinaryIO, stream)
            if kind:
                content = _decompressor(kind, stream)
                head = content.peek(HEAD)[:HEAD]  # type: ignore[attr-defined]
            if is_binary(head):
                inside = f" inside {kind}" if kind else ""
                raise InputError(
                    f"{self.name}: binary content{inside} (first bytes {first_bytes(head)}),"
                    f" {EXPECTED}")
        except EOFError:
            raise InputError(f"{self.name}: {kind} archive cut short before its first line,"
                             f" expected a whole {kind} stream") from None
        except _CORRUPT as exc:
            raise InputError(f"{self.name}: corrupt {kind} content ({exc}), {EXPECTED}") from None
        text = io.TextIOWrapper(content, encoding="utf-8", errors="replace", newline="\n")
        text._CHUNK_SIZE = BUFFER  # type: ignore[attr-defined]  # fewer, larger decodes
        return text


def _stdin() -> Input:
    return Input("stdin", None, None)


def _directory(path: Path) -> list[Input]:
    """A directory's regular files, oldest first (modification time, then name): rotated
    logs read in the order written. Subdirectories are not descended: a log directory is
    flat, and a subdirectory there is an archive or something else, named on its own when
    wanted."""
    found: list[tuple[float, str, Path, int]] = []
    for child in path.iterdir():
        try:
            stat = child.stat()
        except OSError:
            continue
        if child.is_file():
            found.append((stat.st_mtime, child.name, child, stat.st_size))
    if not found:
        raise InputError(f"{path}: an empty directory (no files in it), expected a directory"
                         " of PostgreSQL log files")
    return [Input(str(child), child, size) for _, _, child, size in sorted(found)]


def inputs(paths: Sequence[str]) -> Iterator[Input]:
    """The inputs ``paths`` name, in the order to read them: each path in the order given,
    a directory's files oldest first, ``-`` for stdin. A path that does not exist stops
    the read before anything is read (the reader checks every path first)."""
    found: list[Input] = []
    for p in paths:
        if p == "-":
            found.append(_stdin())
            continue
        path = Path(p)
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise InputError(f"{p}: no such file or directory, expected a PostgreSQL log file,"
                             " a directory of them, or - for stdin") from None
        except OSError as exc:
            raise InputError(f"{p}: cannot be read ({exc.strerror}), {EXPECTED}") from None
        if path.is_dir():
            found.extend(_directory(path))
        else:
            found.append(Input(str(path), path, stat.st_size if path.is_file() else None))
    yield from found


def total_size(found: Sequence[Input]) -> int | None:
    """Bytes on disk of every input, None when one is a stream of unknown size (stdin)."""
    sizes = [i.size for i in found]
    return None if any(s is None for s in sizes) else sum(s for s in sizes if s is not None)

