"""``pgcrisis logs``' one orchestration entry: read the log (:class:`LogReader`), classify
each record (:func:`classify`), count it (:class:`Tally`), keep what findings need
(:class:`Kept`), judge (:func:`findings_of`), and return the :class:`LogReport`.

One pass, streaming: no record outlives its turn but the few events kept for the findings.
A log that yields nothing readable, or nothing in the window asked, is an error (one line,
exit 3), never a report of "0 errors".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo

from pgcrisis.errors import ConfigError, InputError
from pgcrisis.logs.events import classify
from pgcrisis.logs.findings import findings_of
from pgcrisis.logs.kept import Kept
from pgcrisis.logs.minutes import Tally
from pgcrisis.logs.read import LogReader, Progress, ReadStats
from pgcrisis.logs.record import LogRecord
from pgcrisis.logs.summary import LogReport, Source, summarize
from pgcrisis.shorten import one_line
from pgcrisis.when import shown


def count(records: Iterable[LogRecord], start: datetime | None = None,
          end: datetime | None = None) -> tuple[Tally, Kept]:
    """Count the records between ``start`` and ``end`` (inclusive, either open), keeping
    the events the findings need."""
    tally, kept = Tally(), Kept()
    for record in records:
        if (start is not None and record.time < start) or (end is not None
                                                           and record.time > end):
            continue
        event = classify(record)
        tally.add(record, event)
        if event is not None:
            kept.add(event)
    return tally, kept


def source_of(stats: ReadStats) -> Source:
    """What the reader says it read."""
    return Source(tuple(stats.files), stats.format, stats.wrapper, stats.prefix,
                  stats.prefix_source, stats.lines, stats.records, stats.unread)


def judge(tally: Tally, kept: Kept, source: Source, *, zone: tzinfo,
          asked: tuple[datetime | None, datetime | None] = (None, None)) -> LogReport:
    """The report of what was counted, the findings on top; an error when nothing was."""
    if tally.records == 0:
        raise InputError(_nothing(source, asked, zone))
    return summarize(tally, source, findings=findings_of(kept.events), capped=kept.capped(),
                     asked=asked, zone=zone)


def _nothing(source: Source, asked: tuple[datetime | None, datetime | None],
             zone: tzinfo) -> str:
    """The one line said when no record was counted: what was found, what was expected."""
    where = ", ".join(source.files) or "the input"
    if source.records:
        start, end = asked
        window = (f"{shown(start, zone) if start else 'the start'} to "
                  f"{shown(end, zone) if end else 'the end'}")
        return (f"{where}: {source.records:,} records, none from {window}: give a window "
                "the log covers")
    if source.lines == 0:
        return f"{where}: empty, expected a PostgreSQL server log (jsonlog, csvlog or stderr)"
    first = source.unread
    return (f"{where}: none of its {source.lines:,} lines is a PostgreSQL log record "
            f"(first at line {first.line}: {one_line(first.text, 80)!r}); expected jsonlog, "
            "csvlog or stderr" + (f" with log_line_prefix {source.prefix!r}"
                                  if source.prefix else ""))


def read_report(paths: Sequence[str], *, fmt: str = "auto", prefix: str | None = None,
                start: datetime | None = None, end: datetime | None = None,
                progress: Progress | None = None, zone: tzinfo) -> LogReport:
    """Read the logs at ``paths`` and report them (``start``/``end``: the window asked)."""
    if start is not None and end is not None and end < start:
        raise ConfigError(f"--to ({shown(end, zone)}) is before --from ({shown(start, zone)})")
    reader = LogReader(paths, fmt, prefix, progress)
    tally, kept = count(reader, start, end)
    return judge(tally, kept, source_of(reader.stats), zone=zone, asked=(start, end))
