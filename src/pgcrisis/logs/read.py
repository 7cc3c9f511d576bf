"""Reading a log, whatever its shape: inputs (:mod:`.sources`), their wrapper
(:mod:`.wrappers`), the server's format recognised from the content (:mod:`.detect`), its
records (:class:`LogRecord`), and what could not be read (:class:`Unread`), counted, never
dropped. Nothing read from a log that gave no record is ever reported as "0 errors": the
reader says what it found instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path

from pgcrisis.errors import InputError
from pgcrisis.logs import detect, sources, wrappers
from pgcrisis.logs.csvlog import CsvlogParser
from pgcrisis.logs.jsonlog import JsonlogParser
from pgcrisis.logs.parser import Parser
from pgcrisis.logs.prefix import Prefix, infer
from pgcrisis.logs.record import FORMATS, Line, LogRecord, Unread
from pgcrisis.logs.stderr import StderrParser

#: called with (bytes read so far, bytes in all where known) as the reader goes
Progress = Callable[[int, int | None], None]
#: the lines a format, a wrapper and a prefix are recognised from
SAMPLE = 500
#: records between two calls of a progress callback
PROGRESS_EVERY = 20_000


def _format_of(source: sources.Input) -> str:
    """The format of an input's first lines, their wrapper removed ("" when not told)."""
    lines = source.lines()
    try:
        head = list(islice(lines, 50))
    except InputError:
        return ""  # refused when read for real, with its reason
    finally:
        lines.close()
    wrapper = wrappers.recognise([text for _, text in head])
    sample = (list(wrapper.unwrap(head, source.name)) if wrapper is not None
              else [Line(text, number, source.name) for number, text in head])
    return detect.payload_format(sample)


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
    #: files left out, and why (a directory's copies of the same messages in another format)
    skipped: list[str] = field(default_factory=list)


def stderr_prefix(sample: Sequence[Line], given: str | None, source: str = "given") -> Prefix:
    """The prefix to read ``sample``'s stderr lines with: ``given`` (checked against them),
    else inferred from them; one line saying what was found when neither reads them."""
    texts = [line.text for line in sample if line.text and line.text[0] not in " \t"]
    if given is not None:
        prefix = Prefix(given)
        if texts and not prefix.matches(texts):
            raise InputError(f"the log's lines do not start with log_line_prefix {given!r} "
                             f"(none of {len(texts)} lines read; the first: {texts[0][:80]!r})"
                             ": give the prefix the server writes with --log-line-prefix")
    else:
        found = infer(texts)
        if found is None:
            raise InputError("no log_line_prefix reads the log's lines (expected a "
                             "PostgreSQL stderr log: a prefix, then LOG:, ERROR:...; the "
                             f"first line: {texts[0][:80] if texts else ''!r})")
        prefix = found
    if not prefix.has_time and not any(line.time for line in sample):
        raise InputError(f"the log's lines have no time (log_line_prefix {prefix.prefix!r} "
                         "has no %m, %t or %n, and no transport gave one): expected a time "
                         "on each line; add %m to log_line_prefix")
    return prefix


def make_parser(fmt: str, sample: Sequence[Line], prefix: str | None,
                source: str = "given") -> Parser:
    """The parser of a log in ``fmt`` whose first lines are ``sample``."""
    if fmt == "jsonlog":
        return JsonlogParser()
    if fmt == "csvlog":
        return CsvlogParser()
    if fmt == "stderr":
        return StderrParser(stderr_prefix(sample, prefix, source))
    raise InputError(f"no log format recognised in the lines (the first: "
                     f"{next((x.text[:80] for x in sample if x.text), '')!r}); expected "
                     f"one PostgreSQL writes: {', '.join(FORMATS)}")


class LogReader:
    """The records of the logs at ``paths`` (files, directories, ``-`` for stdin), in the
    order written; :attr:`stats` says what was read."""

    def __init__(self, paths: Sequence[str], fmt: str = "auto", prefix: str | None = None,
                 progress: Progress | None = None, prefix_source: str = "given") -> None:
        if fmt != "auto" and fmt not in FORMATS:
            raise InputError(f"log format {fmt!r}: expected auto, {', '.join(FORMATS)}")
        self.paths = list(paths)
        self.fmt = fmt
        self.prefix = prefix
        self.prefix_source = prefix_source
        self.progress = progress
        self.stats = ReadStats()

    def __iter__(self) -> Iterator[LogRecord]:
        stats, parsers = self.stats, dict[str, Parser]()
        found = self._one_format_per_directory(list(sources.inputs(self.paths)))
        total, done = sources.total_size(found), 0
        for source in found:
            stats.files.append(source.name)
            yield from self._read(source, parsers, done, total)
            done += source.size or source.position()
            if self.progress is not None:
                self.progress(done, total)
        unread = [p.unread for p in parsers.values() if p.unread.count]
        if unread:
            stats.unread = Unread(sum(u.count for u in unread), unread[0].file,
                                  unread[0].line, unread[0].text)
        if stats.lines and not stats.records:
            u = stats.unread
            raise InputError(f"no record read from {stats.lines} lines of "
                             f"{', '.join(stats.files)}: {u.count} not understood, the first "
                             f"at {u.file}:{u.line}: {u.text[:80]!r}")

    def _one_format_per_directory(self, found: list[sources.Input]) -> list[sources.Input]:
        """The inputs to read: of a directory holding the same log in several formats (a
        server writing stderr, csvlog and jsonlog at once), the files of one format only, the
        one with most fields (:data:`detect.PREFERRED`), the others said in the stats;
        counted three times, every message would be."""
        if self.fmt != "auto":
            return found
        folders = {Path(p).resolve() for p in self.paths if p != "-" and Path(p).is_dir()}
        formats: dict[str, str] = {}
        for source in found:
            if source.path is not None and source.path.resolve().parent in folders:
                formats[source.name] = _format_of(source)
        kinds = {f for f in formats.values() if f}
        if len(kinds) < 2:
            return found
        keep = next(f for f in detect.PREFERRED if f in kinds)
        out = []
        for source in found:
            fmt = formats.get(source.name, keep)
            if fmt and fmt != keep:
                self.stats.skipped.append(f"{source.name} ({fmt}: the same messages as the "
                                          f"directory's {keep} files)")
            else:
                out.append(source)
        return out

    def _read(self, source: sources.Input, parsers: dict[str, Parser], done: int = 0,
              total: int | None = None) -> Iterator[LogRecord]:
        """The records of one input (its parser kept across inputs of the same format)."""
        raw = source.lines()
        head = list(islice(raw, SAMPLE))
        if not head:
            return
        stats = self.stats
        wrapper = wrappers.recognise([text for _, text in head])
        sample = (list(wrapper.unwrap(head, source.name)) if wrapper is not None
                  else [Line(text, number, source.name) for number, text in head])
        fmt = detect.payload_format(sample) if self.fmt == "auto" else self.fmt
        parser = parsers.get(fmt)
        if parser is None:
            parser = parsers[fmt] = make_parser(fmt, sample, self.prefix, self.prefix_source)
            if isinstance(parser, StderrParser):
                stats.prefix = parser.prefix.prefix
                stats.prefix_source = self.prefix_source if self.prefix is not None \
                    else "inferred"
        stats.format = ", ".join(dict.fromkeys([*filter(None, stats.format.split(", ")),
                                                fmt]))
        if wrapper is not None:
            stats.wrapper = wrapper.name
        parser.file = source.name
        lines = chain(head, raw)
        records = (parser.wrapped(wrapper.unwrap(lines, source.name)) if wrapper is not None
                   else parser.records(lines))
        severities, progress = stats.severities, self.progress
        n, before = 0, parser.lines_seen
        for record in records:
            n += 1
            severities[record.severity] += 1
            if progress is not None and not n % PROGRESS_EVERY:
                progress(done + source.position(), total)
            yield record
        stats.records += n
        stats.lines += parser.lines_seen - before


def records_of(texts: Sequence[str], fmt: str = "auto", prefix: str | None = None,
               file: str = "") -> list[LogRecord]:
    """The records of a log's lines held in memory (a test's, a snippet's), read as a file's.

    >>> [r.severity for r in records_of(["2026-11-26 09:14:03.250 UTC [42] FEHLER:  x"])]
    ['ERROR']
    """
    lines = [Line(text, number, file) for number, text in enumerate(texts, 1)]
    sample = lines[:SAMPLE]
    parser = make_parser(detect.payload_format(sample) if fmt == "auto" else fmt, sample,
                         prefix)
    parser.file = file
    return list(parser.records((line.number, line.text) for line in lines))
