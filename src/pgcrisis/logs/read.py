"""Reading a log, whatever its shape: inputs (:mod:`.sources`), their wrapper
(:mod:`.wrappers`), the server's format recognised from the content, its records
(:class:`LogRecord`), and what could not be read (:class:`Unread`), counted, never dropped.

STUB (interface only, filled by the reader work).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from pgcrisis.logs.record import LogRecord, Unread

#: called with (bytes read so far, bytes in all where known) as the reader goes
Progress = Callable[[int, int | None], None]


@dataclass(slots=True)
class ReadStats:
    """What a read found, complete once its records are consumed."""

    files: list[str] = field(default_factory=list)
    format: str = ""                      # jsonlog, csvlog, stderr
    wrapper: str = ""                     # "" or the transport's (``syslog (RFC 5424)``)
    prefix: str | None = None             # a stderr log's log_line_prefix
    prefix_source: str = ""               # "given", "server", "inferred"
    lines: int = 0
    records: int = 0
    severities: Counter[str] = field(default_factory=Counter)
    unread: Unread = field(default_factory=lambda: Unread(0))


class LogReader:
    """The records of the logs at ``paths`` (files, directories, ``-`` for stdin), in the
    order written; :attr:`stats` says what was read."""

    def __init__(self, paths: Sequence[str], fmt: str = "auto", prefix: str | None = None,
                 progress: Progress | None = None) -> None:
        self.paths = list(paths)
        self.fmt = fmt
        self.prefix = prefix
        self.progress = progress
        self.stats = ReadStats()

    def __iter__(self) -> Iterator[LogRecord]:
        raise NotImplementedError
