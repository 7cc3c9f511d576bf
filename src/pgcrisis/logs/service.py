"""``triage --log``: the past diagnosed from the server's log alone, as a triage report
(same renderers, same codes, same exit status as live triage and triage of a recording).

:func:`report_of` is the pure half (records in, report out); :func:`triage_log` reads the
files with :class:`~pgcrisis.logs.read.LogReader` and calls it. No server is read: the
report's snapshot is an empty one, which no live check judges.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from pgcrisis.checks.causes import link
from pgcrisis.checks.registry import CheckResults
from pgcrisis.dsn import Target
from pgcrisis.errors import ConfigError, InputError
from pgcrisis.judge import Recorded, TriageReport
from pgcrisis.logs.events import Event, classify
from pgcrisis.logs.findings import findings_of
from pgcrisis.logs.record import LogRecord
from pgcrisis.model.server import ServerInfo
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.when import parse_moment, shown

#: what the report says of the server's version: a log does not say it
VERSION = "(judged from its log)"


def window(start: str | None, end: str | None) -> tuple[datetime | None, datetime | None]:
    """``--from``/``--to`` as typed (ISO 8601 or HH:MM[:SS]); either may be left open."""
    first = parse_moment(start) if start is not None else None
    last = parse_moment(end) if end is not None else None
    if first is not None and last is not None and last <= first:
        raise ConfigError(f"--to ({shown(last)}) must be after --from ({shown(first)})")
    return first, last


def report_of(records: Iterable[LogRecord], files: Sequence[str], *,
              start: datetime | None = None, end: datetime | None = None,
              fmt: str = "") -> TriageReport:
    """The report on the records of ``files`` between ``start`` and ``end`` (open ends: the
    whole log); no record there is one clear error, naming what the log covers."""
    t0 = time.perf_counter()
    events: list[Event] = []
    count = 0
    databases: Counter[str] = Counter()
    seen: list[datetime] = []   # the first and last time of the whole log
    first = last = None
    for record in records:
        seen = [min(seen[0], record.time), max(seen[1], record.time)] if seen else \
            [record.time, record.time]
        if (start is not None and record.time < start) or (end is not None
                                                           and record.time > end):
            continue
        count += 1
        first = record.time if first is None else min(first, record.time)
        last = record.time if last is None else max(last, record.time)
        if record.database:
            databases[record.database] += 1
        event = classify(record)
        if event is not None:
            events.append(event)
    names = ", ".join(Path(f).name or f for f in files) or "the log"
    if first is None or last is None:
        if not seen:
            raise InputError(f"{names}: no record of the server's log read")
        raise ConfigError(f"the log ({names}) covers {shown(seen[0])} to {shown(seen[-1])}: "
                          "nothing of it falls in the window asked")
    findings = findings_of(events)
    database = databases.most_common(1)[0][0] if databases else "?"
    server = ServerInfo(0, VERSION, database, "", False, 0)
    judged_from, judged_to = start or first, end or last
    line = (f"{shown(judged_from)} – {shown(judged_to)}, {count:,} records of the log "
            f"({names}{', ' + fmt if fmt else ''})")
    return TriageReport(
        Target("", "log", label=f"log {names}"), Snapshot(server=server, taken_at=judged_to),
        CheckResults(findings, ()), judged_from, (time.perf_counter() - t0) * 1000,
        caused_by=link(findings), databases=(database,), queries=0,
        recording=Recorded(f"log {names}", judged_from, judged_to, line))


def triage_log(paths: Sequence[str], *, start: str | None = None, end: str | None = None,
               fmt: str = "auto", prefix: str | None = None) -> TriageReport:
    """``triage --log PATH...``: the files read by the log reader, then judged."""
    from pgcrisis.logs.read import LogReader

    first, last = window(start, end)
    reader = LogReader(paths, fmt=fmt, prefix=prefix)
    try:
        report = report_of(reader, paths, start=first, end=last)
    except NotImplementedError:  # a build without the log reader
        raise InputError("this build of pgcrisis cannot read a server's log yet") from None
    if reader.stats.format and report.recording is not None:
        said = replace(report.recording,
                       line=report.recording.line[:-1] + f", {reader.stats.format})")
        return replace(report, recording=said)
    return report
