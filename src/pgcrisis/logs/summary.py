"""The report of ``pgcrisis logs``: what every renderer shows (:class:`LogReport`), made once
from the counts (:class:`pgcrisis.logs.minutes.Tally`), so the terminal, Markdown, HTML and
JSON say the same thing and none of them computes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from pgcrisis.logs.events import Kind
from pgcrisis.logs.kept import PER_KIND
from pgcrisis.logs.minutes import COLUMNS, OTHER, TROUBLE, Durations, Tally, minute_start
from pgcrisis.logs.record import SEVERITIES, Unread
from pgcrisis.model.findings import Finding, exit_code

#: the worst minutes the report names
WORST = 5
#: the quantile the statement tables show
QUANTILE = 0.95


@dataclass(frozen=True, slots=True)
class Source:
    """What was read: the files, their format as recognised, the stderr prefix and where it
    came from (``given``, ``server``, ``inferred``), lines and records, and the lines not
    understood (never dropped silently)."""

    files: tuple[str, ...]
    format: str
    wrapper: str = ""
    prefix: str | None = None
    prefix_source: str = ""
    lines: int = 0
    records: int = 0
    unread: Unread = field(default_factory=lambda: Unread(0))


@dataclass(frozen=True, slots=True)
class Minute:
    """One minute with something in it: its start (UTC), records, each column's count
    (:data:`pgcrisis.logs.minutes.COLUMNS`' keys), its errors by SQLSTATE (most first), and
    its longest slow statement."""

    start: datetime
    records: int
    counts: Mapping[str, int]
    sqlstates: tuple[tuple[str, int], ...]
    slow_max_ms: float | None


@dataclass(frozen=True, slots=True)
class ErrorGroup:
    """Errors of one severity and SQLSTATE (``""``: the log does not carry it)."""

    severity: str
    sqlstate: str
    count: int
    first: datetime
    last: datetime
    message: str
    statement: str


@dataclass(frozen=True, slots=True)
class TimedGroup:
    """Slow statements of one normalized text, or of one view (sqlcommenter tag)."""

    key: str
    count: int
    total_ms: float
    p95_ms: float
    max_ms: float


@dataclass(frozen=True, slots=True)
class LogReport:
    """Everything the renderers show. ``start``/``end``: the first and last record counted;
    ``asked``: the window given (``--from``/``--to``), None where not given; ``columns``: the
    minute table's columns that have something; ``notes``: what the reader of the report must
    know about how it was made (groups folded, findings judged on a part of the events).
    Times are aware; ``zone`` is the one they are shown in."""

    source: Source
    start: datetime
    end: datetime
    asked: tuple[datetime | None, datetime | None]
    records: int
    severities: tuple[tuple[str, int], ...]
    columns: tuple[tuple[str, str, str], ...]
    minutes: tuple[Minute, ...]
    worst: tuple[Minute, ...]
    errors: tuple[ErrorGroup, ...]
    slow: tuple[TimedGroup, ...]
    views: tuple[TimedGroup, ...]
    findings: tuple[Finding, ...]
    notes: tuple[str, ...]
    zone: tzinfo

    @property
    def exit_code(self) -> int:
        """Nagios convention, from the findings as triage's: 0, 1 warning, 2 critical."""
        return exit_code(self.findings)

    @property
    def errors_total(self) -> int:
        """ERROR, FATAL and PANIC records."""
        return sum(n for severity, n in self.severities if severity in ("ERROR", "FATAL",
                                                                         "PANIC"))


def _timed(groups: Mapping[str, Durations]) -> tuple[TimedGroup, ...]:
    """Groups by total time, largest first (the folded OTHER group last)."""
    rows = [TimedGroup(key, d.count, d.total_ms, d.quantile(QUANTILE), d.max_ms)
            for key, d in groups.items()]
    return tuple(sorted(rows, key=lambda g: (g.key == OTHER, -g.total_ms, g.key)))


def _minute(key: int, tally: Tally) -> Minute:
    m = tally.minutes[key]
    return Minute(minute_start(key), m.records, {str(k): n for k, n in m.columns.items()},
                  tuple(sorted(m.sqlstates.items(), key=lambda kv: (-kv[1], kv[0]))),
                  m.slow_max_ms or None)


def _notes(tally: Tally, capped: Mapping[Kind, int]) -> list[str]:
    notes = [f"findings judged on the first {PER_KIND:,} of {seen:,} {kind.value} events"
             for kind, seen in sorted(capped.items())]
    for what, n in sorted(tally.folded.items()):
        notes.append(f"{n:,} records of {what} beyond the first {len(getattr(tally, what)):,}"
                     f" groups counted together as {OTHER}")
    return notes


def summarize(tally: Tally, source: Source, *, findings: tuple[Finding, ...] = (),
              capped: Mapping[Kind, int] | None = None,
              asked: tuple[datetime | None, datetime | None] = (None, None),
              zone: tzinfo) -> LogReport:
    """The report of what ``tally`` counted; ``capped``: the kinds whose events the findings
    saw only in part (kind -> events seen), said in the notes."""
    if tally.first is None or tally.last is None:
        raise ValueError("summarize needs at least one record counted")
    keys = sorted(k for k, m in tally.minutes.items() if any(m.columns.values()))
    minutes = tuple(_minute(k, tally) for k in keys)
    used = {key for m in minutes for key, n in m.counts.items() if n}
    columns = tuple(column for column in COLUMNS if column[0] in used)
    troubled = [m for m in minutes if any(m.counts.get(k, 0) for k in TROUBLE)]
    worst = sorted(troubled, key=lambda m: tuple(-m.counts.get(k, 0) for k in TROUBLE))
    order = {s: i for i, s in enumerate(SEVERITIES)}
    severities = tuple(sorted(tally.severities.items(),
                              key=lambda kv: (-order.get(kv[0], -1), kv[0])))
    errors = tuple(sorted(
        (ErrorGroup(sev, state, e.count, e.first, e.last, e.message, e.statement)
         for (sev, state), e in tally.errors.items()),
        key=lambda g: (g.sqlstate == OTHER, -g.count, g.severity, g.sqlstate)))
    return LogReport(source, tally.first, tally.last, asked, tally.records, severities,
                     columns, minutes, tuple(worst[:WORST]), errors,
                     _timed(tally.statements), _timed(tally.views), findings,
                     tuple(_notes(tally, capped or {})), zone)
