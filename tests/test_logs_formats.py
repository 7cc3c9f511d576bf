"""csvlog (every version's columns, a row spanning lines, a bad row counted), jsonlog (a line
that is not JSON counted), a wrapper's fields and time, and bad input said in one line
(issue 21, failure class 5 and "nothing not understood counted as 0 errors")."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pgcrisis.errors import InputError
from pgcrisis.logs.csvlog import CsvlogParser
from pgcrisis.logs.jsonlog import JsonlogParser
from pgcrisis.logs.prefix import Prefix
from pgcrisis.logs.read import LogReader, records_of
from pgcrisis.logs.record import Line
from pgcrisis.logs.stderr import StderrParser

ROW = ["2026-11-26 09:14:03.250 UTC", "alice", "shop", "42", "10.0.0.7:51234", "6745a1b2.2a",
       "3", "SELECT", "2026-11-26 09:00:00 UTC", "3/15", "0", "ERROR", "22012",
       "division by zero", "", "", "", "", "", "SELECT 1/0\n/* view='r' */", "", "", "psql",
       "client backend", "", "-77"]


def _csv(row: list[str]) -> list[str]:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(row)
    return out.getvalue().splitlines()


@pytest.mark.parametrize("columns", [22, 23, 24, 26])
def test_csvlog_of_every_version(columns: int) -> None:
    [record] = records_of(_csv(ROW[:columns]), "csvlog", file="pg.csv")
    assert (record.severity, record.sqlstate, record.user, record.database, record.pid,
            record.session, record.client) == ("ERROR", "22012", "alice", "shop", 42,
                                               "6745a1b2.2a", "10.0.0.7:51234")
    assert record.statement == "SELECT 1/0\n/* view='r' */" and (record.line,
                                                               record.last_line) == (1, 2)
    assert record.application == ("psql" if columns >= 23 else "")
    assert record.queryid == (-77 if columns == 26 else None)


def test_a_bad_csvlog_row_is_counted_not_raised(tmp_path: Path) -> None:
    log = tmp_path / "pg.csv.log"  # the name says nothing: the content does
    bad = ROW.copy()
    bad[0] = "not a time"
    log.write_text("\n".join([*_csv(ROW), *_csv(bad), "a,b,c", *_csv(ROW)]) + "\n")
    reader = LogReader([str(log)])
    assert len(list(reader)) == 2 and reader.stats.format == "csvlog"
    assert (reader.stats.unread.count, reader.stats.unread.line) == (2, 3)


def test_a_csvlog_row_cut_mid_way_waits_for_its_rest() -> None:
    parser = CsvlogParser()
    first, second = _csv(ROW)
    parser.feed(first, 1)
    assert parser.drain() == [] and parser.waiting
    parser.feed(second, 2)
    assert [r.statement for r in parser.drain()] == ["SELECT 1/0\n/* view='r' */"]


def test_jsonlog_reads_its_fields_and_counts_other_lines() -> None:
    obj = {"timestamp": "2026-11-26 09:14:03.250 UTC", "user": "alice", "dbname": "shop",
           "pid": 42, "remote_host": "10.0.0.7", "remote_port": 51234,
           "session_id": "6745a1b2.2a", "error_severity": "FATAL", "state_code": "53300",
           "message": "remaining connection slots are reserved", "backend_type":
           "client backend", "query_id": 0}
    parser = JsonlogParser()
    records = list(parser.records(enumerate([json.dumps(obj), "not json", "[1]"], 1)))
    assert [(r.severity, r.sqlstate, r.client, r.backend_type, r.queryid) for r in records] \
        == [("FATAL", "53300", "10.0.0.7:51234", "client backend", None)]
    assert (parser.unread.count, parser.unread.line) == (2, 2)


def test_a_wrappers_fields_and_time_make_records() -> None:
    """A wrapper's fields (jsonlog's or csvlog's names) and its time and pid for a prefix
    without them."""
    at = datetime(2026, 11, 26, 9, 14, 3, tzinfo=UTC)
    lines = [Line("", 1, "f", fields={"timestamp": "2026-11-26T09:14:03Z",
                                      "error_severity": "ERROR", "message": "a"}),
             Line("", 2, "f", fields={"log_time": "2026-11-26 09:14:03 UTC",
                                      "error_severity": "LOG", "process_id": "7",
                                      "query": "SELECT 1", "message": "b"}),
             Line("ERROR:  c", 3, "f", time=at, pid=9),
             Line("STATEMENT:  SELECT 3", 4, "f", time=at, pid=9)]
    records = list(StderrParser(Prefix("")).wrapped(lines))
    assert [(r.severity, r.message, r.pid, r.statement, r.time) for r in records] == [
        ("ERROR", "a", None, "", at), ("LOG", "b", 7, "SELECT 1", at),
        ("ERROR", "c", 9, "SELECT 3", at)]


@pytest.mark.parametrize(("content", "kwargs", "said"), [
    (b"\x00\x01\x02binary\x00\n" * 5, {}, "binary content (first bytes 00 01 02 62)"),
    (b"just some words\nof a text that is no log\n", {}, "no log_line_prefix reads"),
    (b"2026-11-26 09:14:03.250 UTC [42] ERROR:  x\n", {"prefix": "%t %u@%d "},
     "do not start with log_line_prefix '%t %u@%d '"),
    (b"[42] ERROR:  x\n[43] LOG:  y\n", {}, "have no time"),
    (b"2026-11-26 09:14:03.250 UTC [42] ERROR:  x\n", {"prefix": "%m [%p] %z"},
     "%z is not an escape"),
    (b"hello\nworld\n", {"fmt": "jsonlog"}, "no record read from 2 lines"),
])
def test_bad_input_is_one_line(tmp_path: Path, content: bytes, kwargs: dict[str, str],
                               said: str) -> None:
    (tmp_path / "in.log").write_bytes(content)
    with pytest.raises(InputError) as caught:
        list(LogReader([str(tmp_path / "in.log")], **kwargs))  # type: ignore[arg-type]
    assert said in str(caught.value) and "\n" not in str(caught.value)


def test_a_stderr_line_full_of_commas_is_not_csvlog(tmp_path: Path) -> None:
    (tmp_path / "pg.log").write_text(
        "2026-11-26 09:14:03.250 UTC [7] LOG:  checkpoint complete: wrote 3 buffers (0.0%); "
        "0 WAL file(s) added, 0 removed, 0 recycled; write=0.1 s, sync=0.1 s, total=0.1 s; "
        "sync files=2, longest=0.1 s, average=0.1 s; distance=1 kB, estimate=1 kB; lsn=0/1, "
        "redo lsn=0/1\n")
    reader = LogReader([str(tmp_path / "pg.log")])
    assert len(list(reader)) == 1 and reader.stats.format == "stderr"
