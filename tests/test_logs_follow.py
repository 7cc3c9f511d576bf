"""``record --log``'s follower on the same parsers as a file: the format told by content
(csvlog named ``*.csv.log`` counts), a FATAL followed by nothing given at the next quiet poll,
a half-written line or csvlog row waits for its rest, never raises (failure classes 1, 5, 6).
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

from pgcrisis.logs.follow import LogFollower

T = "2026-11-26 09:14:03.250 UTC"
ROW = [T, "alice", "shop", "42", "", "6745a1b2.2a", "3", "SELECT", T, "3/15", "0", "ERROR",
       "22012", "division by zero", "", "", "", "", "", "SELECT 1/0\n/* view='r' */", "",
       "", "psql", "client backend", "", "0"]


def _row(row: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(row)
    return out.getvalue()


def _append(path: Path, text: str) -> None:
    with path.open("a") as f:
        f.write(text)


def test_a_cut_csvlog_row_waits_then_counts(tmp_path: Path) -> None:
    log = tmp_path / "postgresql-Thu.csv.log"
    log.write_text(_row(ROW))
    (tmp_path / "postgresql-Wed.csv.log.gz").write_bytes(gzip.compress(_row(ROW).encode()))
    follower = LogFollower(tmp_path)
    assert follower.format == "csvlog" and follower.path == log
    first, rest = _row(ROW).split("\n", 1)
    _append(log, first + "\n")
    assert follower.poll_records() == [] and follower.poll_records() == []
    _append(log, rest)
    [record] = follower.poll_records()
    assert (record.sqlstate, record.statement) == ("22012", "SELECT 1/0\n/* view='r' */")
    assert follower.poll() == ([], [])  # nothing new: nothing counted twice


def test_a_fatal_followed_by_nothing_is_counted_at_the_next_quiet_poll(tmp_path: Path) -> None:
    log = tmp_path / "postgresql.log"
    log.write_text(f"{T} [1] LOG:  database system is ready to accept connections\n")
    follower = LogFollower(tmp_path, "stderr", "%m [%p] ")
    _append(log, f"{T} [7] FATAL:  remaining connection slots are reserved for roles with "
                 f"the SUPERUSER attribute\n{T} [8] ERROR:  half")
    assert follower.poll_records() == []  # what was read may go on: not complete yet
    [fatal] = follower.poll_records()  # quiet: complete
    assert (fatal.severity, fatal.pid) == ("FATAL", 7)
    _append(log, " written\n")
    assert follower.poll_records() == []
    [error] = follower.poll_records()
    assert error.message == "half written"


def test_the_servers_prefix_is_used_else_one_inferred(tmp_path: Path) -> None:
    """A stderr log is read with the server's prefix (asked only for a stderr log); when
    the lines were written with another (changed since), one is inferred from them."""
    (tmp_path / "postgresql.log").write_text(
        f"{T} [1] app@shop LOG:  database system is ready to accept connections\n")
    asked: list[str] = []

    def server(prefix: str) -> str:
        asked.append(prefix)
        return prefix

    assert LogFollower(tmp_path, server_prefix=lambda: server(
        "%m [%p] %q%u@%d ")).stderr.prefix == "%m [%p] %q%u@%d "  # type: ignore[union-attr]
    follower = LogFollower(tmp_path, server_prefix=lambda: server("%t %u "))
    assert follower.stderr is not None and follower.stderr.prefix != "%t %u "
    assert follower.stderr.matches([f"{T} [2] a@b ERROR:  x"]) == 1 and len(asked) == 2
    assert LogFollower(tmp_path, "jsonlog", server_prefix=lambda: server("")).path is None
    assert len(asked) == 2


def test_a_file_whose_first_line_is_being_written_is_told_once_it_ends(tmp_path: Path) -> None:
    log = tmp_path / "postgresql.csv"
    log.write_text(_row(ROW)[:20])  # a csvlog row cut early reads like anything
    follower = LogFollower(tmp_path, "csvlog")
    assert follower.path is None and follower.poll_records() == []
    _append(log, _row(ROW)[20:])
    [record] = follower.poll_records()
    assert record.message == "division by zero"
