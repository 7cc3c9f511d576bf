"""A JSON input's text, chunk by chunk, and where in the input any of it lies.

The node scanner reads a window of text: what is left of the buffer plus the next chunk,
decoded as UTF-8 (a character cut by a chunk's end waits for the next one). Lines are
counted once per chunk, with numpy for big chunks, and only ever read when an error names
a position: its line and byte offset in the whole input. The decoder's messages are said
in the scanner's words (what was found, what was expected).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable, Iterator
from typing import NoReturn

from pgcrisis.errors import InputError
from pgcrisis.plan._jsonscan import Truncated
from pgcrisis.plan._source import Position

#: JSON's whitespace
WHITESPACE = " \t\r\n"
#: chunks from this size on have their lines counted by numpy
_NUMPY_FROM = 256 << 10


class TextBuffer:
    """The input's position bookkeeping and its error messages, for a scanner that keeps
    its text in a local ``buf`` and hands it in."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._chunks: Iterator[bytes] = iter(())
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._eof = False
        self._base_offset = 0   # byte offset of the text buffer's first character
        self._first_line = 1    # the line the input starts at
        self._newlines = 0      # line breaks in all the text received so far
        self._buf_bytes = 0     # bytes behind the text buffer

    def _start(self, chunks: Iterable[bytes], position: Position) -> None:
        """Read ``chunks``, which start at ``position`` of the input."""
        self._chunks = iter(chunks)
        self._base_offset = position.offset
        self._first_line = position.line

    def _more(self, buf: str, pos: int) -> tuple[str, int]:
        """The buffer from ``pos`` on, with the next chunk of text after it."""
        keep = buf[pos:]
        kept_bytes = len(keep) if keep.isascii() else len(keep.encode())
        self._base_offset += self._buf_bytes - kept_bytes
        chunk = next(self._chunks, None)
        if chunk is None:
            self._eof = True
            text = self._utf8.decode(b"", True)
            size = 0
        else:
            # a character cut by the chunk's end waits in the decoder: count its bytes then
            pending = len(self._utf8.getstate()[0])
            text = self._utf8.decode(chunk)
            self._newlines += _newlines(chunk)
            size = len(chunk) + pending - len(self._utf8.getstate()[0])
        self._buf_bytes = kept_bytes + size
        return keep + text, 0

    # -- errors --------------------------------------------------------------------------

    def _cut(self, buf: str, exc: BaseException, default: int) -> bool:
        """Whether the decoder stopped because the buffer ends (more input may complete
        it), not because the text is wrong."""
        if self._eof:
            return False
        if isinstance(exc, json.JSONDecodeError) and exc.msg.startswith("Unterminated string"):
            return True
        return error_at(exc, default) >= len(buf) - 16

    def _where(self, buf: str, at: int) -> str:
        # (lines are only ever needed here: what is received, less what lies after ``at``)
        line = self._first_line + self._newlines - buf.count("\n", at)
        before = buf[:at]
        offset = self._base_offset + (len(before) if before.isascii() else len(before.encode()))
        return f"line {line:,}, byte offset {offset:,}"

    def _bad(self, buf: str, at: int, exc: BaseException) -> NoReturn:
        """A node or value the decoder refused at ``at`` (the buffer's index)."""
        message = exc.msg if isinstance(exc, json.JSONDecodeError) else "Expecting value"
        what, expected = _decoder_words(message)
        if self._eof and (at >= len(buf.rstrip(WHITESPACE)) - 1
                          or message.startswith("Unterminated string")):
            raise Truncated(f"{self._name}: truncated plan: the input ends at "
                            f"{self._where(buf, len(buf))}, inside the JSON ({what} at "
                            f"{self._where(buf, at)}; expected {expected})")
        self._fail(buf, at, what, expected)

    def _fail(self, buf: str, at: int, what: str, expected: str) -> NoReturn:
        found = buf[at:at + 20]
        raise InputError(f"{self._name}: invalid plan JSON at {self._where(buf, at)}: {what} "
                         f"(found {found!r}); expected {expected}")


def _newlines(chunk: bytes) -> int:
    """Line breaks in a chunk: in a big one counted by numpy, eight times faster than
    ``bytes.count`` on this project's machine (0.1 s instead of 0.9 s a GiB)."""
    if len(chunk) < _NUMPY_FROM:
        return chunk.count(b"\n")
    import numpy as np  # loaded by the first big chunk only (a small plan never needs it)

    return int(np.count_nonzero(np.frombuffer(chunk, np.uint8) == 0x0A))


#: the decoder's messages, in the words of :meth:`TextBuffer._fail`: what, and what was expected
_DECODER_WORDS = (
    ("Expecting ',' delimiter", "a missing ','", "','"),
    ("Expecting ':' delimiter", "a missing ':'", "':'"),
    ("Expecting value", "no value", "a value"),
    ("Expecting property name", "no key", "a key in double quotes"),
    ("Unterminated string", "a string that does not end", "its closing '\"'"),
    ("Invalid control character", "a raw control character in a string",
     "it escaped (\\n, \\t, \\u0000)"),
    ("Invalid \\", "an invalid escape in a string", "a JSON escape"),
)


def _decoder_words(message: str) -> tuple[str, str]:
    for start, what, expected in _DECODER_WORDS:
        if message.startswith(start):
            return what, expected
    return message[:1].lower() + message[1:], "valid JSON"


def error_at(exc: BaseException, default: int) -> int:
    """Where the decoder stopped: a JSONDecodeError's position, StopIteration's value."""
    if isinstance(exc, json.JSONDecodeError):
        return exc.pos
    if isinstance(exc, StopIteration) and isinstance(exc.value, int):
        return exc.value
    return default
