"""The log reader on stderr: any ``log_line_prefix`` (given or inferred, and said), severity
words in every language with one or two spaces after their colon, multi-line records joined
whole, a record given as soon as it is complete, and lines not understood counted (issue 21,
failure classes 1, 2 and 4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgcrisis.logs.prefix import Prefix
from pgcrisis.logs.read import LogReader, records_of
from pgcrisis.logs.statements import tag_of
from pgcrisis.logs.stderr import WINDOW, StderrParser
from tests.logs_lines import render

PREFIXES = [
    "%m [%p] ", "%m [%p] %q%u@%d ", "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
    "%t [%p]: user=%u,db=%d,app=%a,client=%h ", "%t:%r:%u@%d:[%p]:",
    "%m [%p]: [%l-1] db=%d,user=%u ", "%t-%c-", "%m [%p] %q[user=%u,db=%d,app=%a] ",
    "%t [%p-%l] %q%u@%d ", "%m [%p] %q%u@%d %e ", "%m [%p] %q%u@%d [%Q] ",
    # not in the list tried first: built from the lines' shape
    "%m [%p] app=%a,db=%d ", "%n [%p] %u@%d ",
    # the SQLSTATE before the session's part: every line carries it, only some the rest
    "%m [%p] %e %q%u@%d %a ", "%t [%p] %e %q%u@%d ", "%m %e [%p] ",
]


def _log(prefix: str) -> list[str]:
    """A background LOG, an error and its STATEMENT, a FATAL whose backend then exits."""
    return [render(prefix, "LOG", "checkpoint starting: time", session=False),
            render(prefix, "LOG", "connection authorized: user=alice"),
            render(prefix, "ERROR", "division by zero"),
            render(prefix, "STATEMENT", "SELECT 1/0 /* view='report' */"),
            render(prefix, "LOG", "duration: 0.3 ms", {"p": "77", "c": "6745a1b2.77"}),
            render(prefix, "FATAL", "remaining connection slots are reserved",
                   {"p": "99", "c": "6745a1b2.99"})]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_any_prefix_is_inferred_said_and_read(prefix: str, tmp_path: Path) -> None:
    (tmp_path / "postgresql.log").write_text("\n".join(_log(prefix)) + "\n")
    reader = LogReader([str(tmp_path)])
    records = list(reader)
    assert (reader.stats.prefix_source, reader.stats.format) == ("inferred", "stderr")
    assert reader.stats.unread.count == 0, reader.stats.unread
    assert [r.severity for r in records] == ["LOG", "LOG", "ERROR", "LOG", "FATAL"]
    error = records[2]
    assert (error.message, tag_of(error.statement), error.line, error.last_line) == (
        "division by zero", "report", 3, 4)
    if "%p" in prefix:
        assert error.pid == 4242 and records[4].pid == 99
    if "%u" in prefix:
        assert (error.user, error.database) == ("alice", "shop")
    if "%e" in prefix:
        assert error.sqlstate == "22012"
    assert reader.stats.severities == {"LOG": 3, "ERROR": 1, "FATAL": 1}


def test_an_rds_prefix_reads_its_errors() -> None:
    lines = ["2026-11-26 09:14:03 UTC:10.0.0.7(51234):alice@shop:[4242]:ERROR:  "
             "relation \"x\" does not exist at character 15",
             "2026-11-26 09:14:03 UTC:10.0.0.7(51234):alice@shop:[4242]:STATEMENT:  "
             "SELECT * FROM x",
             "2026-11-26 09:14:04 UTC:[local]:postgres@postgres:[77]:FATAL:  password "
             "authentication failed for user \"postgres\""]
    errors = records_of(lines, "stderr", "%t:%r:%u@%d:[%p]:")
    assert [(r.severity, r.client, r.statement) for r in errors] == [
        ("ERROR", "10.0.0.7(51234)", "SELECT * FROM x"), ("FATAL", "[local]", "")]


@pytest.mark.parametrize(("error", "statement", "spaces"), [
    ("ERROR", "STATEMENT", "  "), ("ERROR", "STATEMENT", " "), ("FEHLER", "ANWEISUNG", "  "),
    ("ОШИБКА", "ОПЕРАТОР", "  "), ("错误", "语句", " "), ("ERREUR", "INSTRUCTION ", "  "),
    ("오류", "명령 구문", "  "), ("FEL", "SATS", " ")])
def test_severity_words_of_every_language(error: str, statement: str, spaces: str) -> None:
    lines = [f"2026-11-26 09:14:03.250 UTC [42] {error}:{spaces}x",
             f"2026-11-26 09:14:03.250 UTC [42] {statement}:{spaces}SELECT 1"]
    [record] = records_of(lines)
    assert (record.severity, record.message, record.statement) == ("ERROR", "x", "SELECT 1")


def test_a_statement_on_many_lines_is_kept_whole_with_its_tag() -> None:
    """A statement starting with a newline keeps its text; a tag on its third line too."""
    lines = ["2026-11-26 09:14:03.250 UTC [42] ERROR:  division by zero",
             "2026-11-26 09:14:03.250 UTC [42] DETAIL:  first",
             "\tsecond",
             "2026-11-26 09:14:03.250 UTC [42] HINT:  h",
             "2026-11-26 09:14:03.250 UTC [42] STATEMENT:  ",
             "\tSELECT 1/0",
             "\t  FROM t",
             "\t/* view='orders_page' */",
             "2026-11-26 09:14:04.250 UTC [42] LOG:  duration: 12.0 ms  plan:",
             "\tQuery Text: SELECT 1",
             "\tResult  (cost=0.00..0.01 rows=1 width=4)"]
    error, plan = records_of(lines)
    assert error.statement == "\nSELECT 1/0\n  FROM t\n/* view='orders_page' */"
    assert tag_of(error.statement) == "orders_page"
    assert (error.detail, error.hint, error.last_line) == ("first\nsecond", "h", 8)
    assert plan.message.splitlines() == ["duration: 12.0 ms  plan:", "Query Text: SELECT 1",
                                         "Result  (cost=0.00..0.01 rows=1 width=4)"]


def test_interleaved_processes_attach_their_own_lines() -> None:
    t = "2026-11-26 09:14:03.250 UTC"
    lines = [f"{t} [1] ERROR:  one", f"{t} [2] ERROR:  two", f"{t} [2] STATEMENT:  SELECT 2",
             f"{t} [3] LOG:  three", f"{t} [1] DETAIL:  of one", f"{t} [1] STATEMENT:  SELECT 1"]
    records = {r.message: r for r in records_of(lines)}
    assert (records["one"].statement, records["one"].detail) == ("SELECT 1", "of one")
    assert records["two"].statement == "SELECT 2" and records["three"].statement == ""


def test_a_record_is_given_once_complete_not_when_its_process_logs_again() -> None:
    """Class 1: a FATAL whose backend exits is given a few messages of others later (never
    held until its process logs again), and at the end of the input at the latest."""
    parser = StderrParser(Prefix("%m [%p] "))
    t = "2026-11-26 09:14:03.250 UTC"
    parser.feed(f"{t} [9] FATAL:  remaining connection slots are reserved", 1)
    for n in range(WINDOW + 1):
        parser.feed(f"{t} [{100 + n}] LOG:  connection received", n + 2)
    assert [r.severity for r in parser.drain()][:1] == ["FATAL"]
    parser.feed(f"{t} [5] FATAL:  password authentication failed for user \"x\"", 99)
    assert [r.message for r in parser.drain(end=True)][-1].startswith("password")


def test_lines_not_understood_are_counted_with_the_first(tmp_path: Path) -> None:
    log = tmp_path / "pg.log"
    log.write_text("garbage before anything\n"
                   "2026-11-26 09:14:03.250 UTC [42] ERROR:  x\n"
                   "\tcontinued\n"
                   "Nov 26 09:14:03 host something else entirely\n"
                   "2026-11-26 09:14:03.250 UTC [42] LOG:  y\n")
    reader = LogReader([str(log)], prefix="%m [%p] ")
    records = list(reader)
    assert [r.message for r in records] == ["x\ncontinued", "y"]
    u = reader.stats.unread
    assert (u.count, u.file, u.line, u.text) == (2, str(log), 1, "garbage before anything")
    assert (reader.stats.lines, reader.stats.prefix_source) == (5, "given")
