"""What every format's parser shares: lines fed in, records out as soon as each is complete,
what was pending given at the end of the input (or when a followed file is quiet), and the
lines not understood counted, never dropped."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from pgcrisis.logs.fields import record_of
from pgcrisis.logs.record import Line, LogRecord, Unread


class Parser:
    """One format's incremental parser (the same for a file and a followed log)."""

    #: the format's name (``stderr``, ``csvlog``, ``jsonlog``)
    format = ""

    def __init__(self) -> None:
        self.file = ""
        self.out: list[LogRecord] = []
        self.unread_count = 0
        #: lines read so far
        self.lines_seen = 0
        self._first_unread: tuple[str, int, str] | None = None

    def not_understood(self, number: int, text: str) -> None:
        """Count a line not understood (the first is kept, to be shown)."""
        self.unread_count += 1
        if self._first_unread is None:
            self._first_unread = (self.file, number, text[:200])

    @property
    def unread(self) -> Unread:
        """The lines not understood so far."""
        file, line, text = self._first_unread or ("", 0, "")
        return Unread(self.unread_count, file, line, text)

    def feed(self, text: str, number: int, line: Line | None = None) -> None:
        """Read one line (``line``: the wrapper's, for its time and pid)."""
        raise NotImplementedError

    def feed_fields(self, fields: dict[str, Any], number: int) -> None:
        """Read one record a wrapper gave as named fields."""
        try:
            self.out.append(record_of(fields, self.file, number))
        except ValueError:
            self.not_understood(number, str(fields))

    def flush(self) -> None:
        """The input ended (or a followed file is quiet): pending records are complete."""

    def records(self, lines: Iterable[tuple[int, str]]) -> Iterator[LogRecord]:
        """The records of raw lines (no wrapper), then of what was pending."""
        out, feed, n = self.out, self.feed, 0
        for number, text in lines:
            n += 1
            feed(text, number)
            if out:
                yield from out
                out.clear()
        self.lines_seen += n
        yield from self.drain(end=True)

    def wrapped(self, lines: Iterable[Line]) -> Iterator[LogRecord]:
        """The records of a wrapper's lines, then of what was pending."""
        out = self.out
        for line in lines:
            self.lines_seen += 1
            if line.fields:
                self.feed_fields(line.fields, line.number)
            else:
                self.feed(line.text, line.number, line)
            if out:
                yield from out
                out.clear()
        yield from self.drain(end=True)

    def drain(self, end: bool = False) -> list[LogRecord]:
        """The records complete so far (``end``: and those pending)."""
        if end:
            self.flush()
        done = self.out[:]
        self.out.clear()
        return done
