"""The log reader on real logs of many shapes, each count checked against an independent count
of the same events.

The lab (:mod:`tests.loglab`) makes a server log every event for real, to stderr, csvlog and
jsonlog at once. csvlog and jsonlog carry the severity and the SQLSTATE in fields of their
own: counted with :mod:`csv` and :mod:`json` (no code of the reader's), they are what the
reader must find in every shape of the same log: stderr under several prefixes (one without
``%e``), another language, syslog, logplex, Cloud Logging, CloudNativePG, compressed.

The first tests check the lab itself (the three destinations agree, the events made are all
there, the transports' forms keep every message), so the reader's tests stand on solid
ground.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from pgcrisis.logs.read import LogReader, ReadStats
from pgcrisis.logs.record import LogRecord
from tests.loglab import (
    FAILING_TAGGED,
    SLOW_TAGGED,
    Lab,
    Phase,
    lab_fixture,  # noqa: F401  (the session's fixture ``lab``)
)
from tests.loglab.transports import SYSLOG_LIMIT, messages, syslog_lines
from tests.loglab.workload import LONG_FAILING

#: the SQLSTATEs of the statements the workload makes fail (each at ERROR)
STATEMENT_ERRORS = ("22012", "42P01", "42601", "23505", "22P02", "42703", "P0001", "40P01",
                    "57014")


def phase(lab: Lab, name: str) -> Phase:
    """The lab's phase ``name``, or a skip saying why the lab could not make it."""
    if name not in lab.phases:
        pytest.skip(lab.skipped.get(name, f"no {name} phase"))
    return lab.phases[name]


# -- the lab itself ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["main", "rds", "badger", "fr"])
def test_csvlog_and_jsonlog_of_a_phase_count_the_same_records(lab: Lab, name: str) -> None:
    current = phase(lab, name)
    csv_counts, json_counts = current.csv_counts(), current.json_counts()
    assert csv_counts.severities == json_counts.severities
    assert csv_counts.errors == json_counts.errors
    # as sets of records: two processes' records may interleave differently in each file
    assert Counter(csv_counts.statements) == Counter(json_counts.statements)
    # every statement the workload made fail is there as often as it was made to
    for sqlstate in STATEMENT_ERRORS:
        assert csv_counts.errors[("ERROR", sqlstate)] == current.made[sqlstate], sqlstate


def test_the_main_phase_holds_every_real_event(lab: Lab) -> None:
    main = phase(lab, "main")
    counts = main.csv_counts()
    made = main.made
    assert made["40P01"] == 1 and made["53300"] >= 3 and made["crash"] == 1
    assert counts.errors[("FATAL", "53300")] == made["53300"]
    assert counts.errors[("FATAL", "28P01")] == made["28P01"] == 1
    assert counts.errors[("FATAL", "25P03")] == made["25P03"] == 1
    assert counts.with_text("still waiting for") >= made["lock_wait"] == 2
    assert counts.with_text("acquired") >= 2
    assert counts.with_text("deadlock detected") == 1
    assert counts.with_text("was terminated by signal 9") == 1
    assert counts.with_text("all server processes terminated; reinitializing") == 1
    assert counts.with_text("temporary file: path") >= 1
    assert counts.with_text("checkpoint complete") >= 1
    assert counts.with_text("duration:") >= made["slow"]
    assert counts.with_text("plan:") >= made["slow"], "auto_explain's plans"
    assert counts.statements.count(FAILING_TAGGED) == 1, "the multi-line statement, whole"
    assert counts.severities["WARNING"] >= made["25P01"]


def test_the_other_language_is_really_written(lab: Lab) -> None:
    french = phase(lab, "fr")
    text = french.stderr.read_text(encoding="utf-8")
    assert "ERREUR:  division par zéro" in text
    assert " ERROR:  " not in text
    assert french.csv_counts().errors[("ERROR", "22012")] == french.made["22012"]


def test_the_syslog_form_keeps_every_message_in_pieces_of_at_most_900_bytes(lab: Lab) -> None:
    main = phase(lab, "main")
    grouped = list(messages(main.stderr))
    assert len(grouped) == main.csv_counts().records
    lines = list(syslog_lines(main.stderr))
    bodies = [piece.split("] ", 1)[1] for _, piece in lines]
    assert max(len(body.encode()) for body in bodies) <= SYSLOG_LIMIT
    [long_one] = {id(m): m for m, _ in lines if LONG_FAILING in m.text}.values()
    pieces = [body for (m, _), body in zip(lines, bodies, strict=True) if m is long_one]
    assert len(pieces) >= 4, "the message, and its STATEMENT line cut in 3 at spaces"
    assert "".join(pieces) == long_one.text.replace("\n", "")


# -- the reader on each shape -----------------------------------------------------------------

@dataclass(frozen=True)
class Shape:
    """A log to read: the phase whose csvlog counts it must match, the file the lab wrote for
    it, what the reader must say of it, and whether it carries SQLSTATEs and statements."""

    id: str
    phase: str
    file: str                       # "stderr", "csv", "json", or a name in Lab.wrapped
    format: str | None              # None: either may be said (a wrapper carrying fields)
    wrapper: bool = False
    sqlstates: bool = True
    inferred: bool = False          # its SQLSTATE is %e of a prefix the reader must infer

    def path(self, lab: Lab) -> Path:
        if self.file in ("stderr", "csv", "json"):
            return Path(getattr(phase(lab, self.phase), self.file))
        if self.file not in lab.wrapped:
            pytest.skip(lab.skipped.get(self.file, f"no {self.file} form"))
        return lab.wrapped[self.file]


SHAPES = [
    Shape("stderr-main", "main", "stderr", "stderr", inferred=True),
    Shape("stderr-rds", "rds", "stderr", "stderr", sqlstates=False),
    Shape("stderr-badger", "badger", "stderr", "stderr", sqlstates=False),
    Shape("stderr-fr", "fr", "stderr", "stderr", inferred=True),
    Shape("csvlog", "main", "csv", "csvlog"),
    Shape("jsonlog", "main", "json", "jsonlog"),
    Shape("csvlog-fr", "fr", "csv", "csvlog"),
    Shape("syslog-bsd", "main", "syslog-bsd", "stderr", wrapper=True, inferred=True),
    Shape("syslog-iso", "main", "syslog-iso", "stderr", wrapper=True, inferred=True),
    Shape("syslog-5424", "main", "syslog-5424", "stderr", wrapper=True, inferred=True),
    Shape("logplex", "main", "logplex", "stderr", wrapper=True, inferred=True),
    Shape("cloud", "main", "cloud", "stderr", wrapper=True, inferred=True),
    Shape("cnpg", "main", "cnpg", None, wrapper=True),
    Shape("gz", "main", "gz", "stderr", inferred=True),
    Shape("bz2", "main", "bz2", "stderr", inferred=True),
    Shape("xz", "main", "xz", "stderr", inferred=True),
    Shape("zst", "main", "zst", "stderr", inferred=True),
    Shape("csv-gz", "main", "csv-gz", "csvlog"),
]


def read(path: Path, prefix: str | None = None) -> tuple[list[LogRecord], ReadStats]:
    """Every record of ``path`` and the read's stats; a skip while the reader is a stub."""
    reader = LogReader([str(path)], fmt="auto", prefix=prefix)
    try:
        records = list(reader)
    except NotImplementedError:
        pytest.skip("LogReader not available yet")
    return records, reader.stats


def error_counts(records: list[LogRecord]) -> Counter[tuple[str, str]]:
    return Counter((r.severity, r.sqlstate) for r in records
                   if r.severity in ("ERROR", "FATAL", "PANIC"))


@pytest.mark.parametrize("shape", SHAPES, ids=[s.id for s in SHAPES])
def test_the_reader_counts_what_csvlog_counts(lab: Lab, shape: Shape) -> None:
    path = shape.path(lab)
    expected = phase(lab, shape.phase).csv_counts()
    records, stats = read(path)
    where = f"{shape.id} ({path.name})"
    assert stats.unread.count == 0, f"{where}: unread {stats.unread}"
    assert Counter(r.severity for r in records) == expected.severities, where
    assert stats.severities == expected.severities, where
    assert stats.records == len(records) == expected.records, where
    assert shape.format is None or stats.format == shape.format, where
    assert bool(stats.wrapper) == shape.wrapper, f"{where}: wrapper {stats.wrapper!r}"
    if shape.file.startswith("syslog"):
        assert "syslog" in stats.wrapper, where
    by_severity = Counter(severity for severity, _ in expected.errors.elements())
    assert Counter(s for s, _ in error_counts(records).elements()) == by_severity, where
    if not shape.sqlstates:
        assert all(r.sqlstate == "" for r in records), f"{where}: no %e, no SQLSTATE"


@pytest.mark.parametrize("shape", [s for s in SHAPES if s.sqlstates],
                         ids=[s.id for s in SHAPES if s.sqlstates])
def test_the_reader_finds_each_errors_sqlstate(lab: Lab, shape: Shape) -> None:
    """ERROR/FATAL/PANIC by SQLSTATE, as csvlog's own field counts them (a stderr log's
    prefix inferred from its lines: its SQLSTATE, user and database read too)."""
    path = shape.path(lab)
    records, _ = read(path)
    assert error_counts(records) == phase(lab, shape.phase).csv_counts().errors, shape.id
    failing = [r for r in records if r.statement == FAILING_TAGGED]
    assert [r.sqlstate for r in failing] == ["42P01"], shape.id


@pytest.mark.parametrize("shape", SHAPES, ids=[s.id for s in SHAPES])
def test_multi_line_statements_are_read_whole(lab: Lab, shape: Shape) -> None:
    """The statement of a multi-line record, its tag on its last line, comes whole."""
    path = shape.path(lab)
    records, _ = read(path)
    failing = [r for r in records if r.severity == "ERROR" and r.statement == FAILING_TAGGED]
    assert len(failing) == 1, f"{shape.id}: {FAILING_TAGGED!r} in " + repr(
        [r.statement for r in records if "no_such_table" in r.statement])
    slow = [r for r in records if SLOW_TAGGED in r.statement or SLOW_TAGGED in r.message]
    assert slow, f"{shape.id}: the slow statement with view='slow_report' on its last line"


@pytest.mark.parametrize("name", ["main", "rds", "badger"])
def test_a_given_prefix_is_used_and_said(lab: Lab, name: str) -> None:
    current = phase(lab, name)
    records, stats = read(current.stderr, prefix=current.prefix)
    assert (stats.prefix, stats.prefix_source) == (current.prefix, "given")
    expected = current.csv_counts()
    assert Counter(r.severity for r in records) == expected.severities
    if "%e" in current.prefix:
        assert error_counts(records) == expected.errors


def test_each_stderr_file_holds_its_own_prefix_only(lab: Lab) -> None:
    """No line of one phase's prefix in another's file: each phase's lines start as its
    prefix makes them (the main prefix's time and pid, RDS's colon after the time...)."""
    starts = {"main": r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC \[\d+\] \w{5} ",
              "rds": r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC:[^:]*:[^@]*@[^:]*:\[\d+\]:",
              "badger": r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \[\d+\]: user=",
              "fr": r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC \[\d+\] \w{5} "}
    for name, start in starts.items():
        if name not in lab.phases:
            continue
        lines = lab.phases[name].stderr.read_text(encoding="utf-8").splitlines()
        strangers = [line for line in lines
                     if not line.startswith("\t") and not re.match(start, line)]
        assert strangers == [], name
