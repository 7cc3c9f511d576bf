"""Logs wrapped by their transport (:mod:`pgcrisis.logs.wrappers`): lines a real server
wrote (:mod:`tests.logs_server`) are wrapped here as each transport does — syslog's headers
and the server's own chunks (as ``write_syslog`` in elog.c cuts them), Heroku's logplex
frames, Cloud Logging entries, CloudNativePG records — and must come back as the server
wrote them, other programs' lines counted apart."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from itertools import islice, zip_longest
from pathlib import Path

import pytest

from pgcrisis.logs.fields import CSV_FIELDS
from pgcrisis.logs.record import Line
from pgcrisis.logs.sources import inputs
from pgcrisis.logs.wrappers import Wrapper, recognise
from tests.logs_server import ServerLog, server_log  # noqa: F401 (a fixture)

START = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \S+ \[(\d+)\] ")
SECONDARY = re.compile(r" (?:DETAIL|HINT|CONTEXT|STATEMENT|QUERY|LOCATION):  ")
CRON = "(root) CMD (run-parts /etc/cron.hourly)"


def server_chunks(message: str, limit: int = 900) -> list[str]:
    """The chunks ``write_syslog`` (elog.c) sends for ``message``: cut at each newline
    (dropped), a longer line cut at its last space before ``limit`` bytes (the space starts
    the next chunk), else at the limit on a character's end."""
    rest, chunks = message.encode(), []
    while rest:
        if rest.startswith(b"\n"):
            rest = rest[1:]
            continue
        newline = rest.find(b"\n")
        size = min(newline if newline >= 0 else len(rest), limit)
        while 0 < size < len(rest) and rest[size] & 0xC0 == 0x80:
            size -= 1
        if size < len(rest) and not rest[size:size + 1].isspace():
            i = size - 1
            while i > 0 and not rest[i:i + 1].isspace():
                i -= 1
            size = i if i > 0 else size
        chunks.append(rest[:size].decode())
        rest = rest[size:]
    return chunks


def messages(lines: list[str]) -> list[tuple[int, list[str]]]:
    """(pid, lines) of each message in a stderr log: a line with the prefix starts one,
    unless it is a DETAIL, HINT... of the message before; a tab continues one. Every other
    message is given another pid, so that messages of two processes interleave below."""
    found: list[tuple[int, list[str]]] = []
    for line in lines:
        start = START.match(line)
        if start and not SECONDARY.search(line):
            found.append((int(start[1]) + len(found) % 2, [line]))
        else:
            found[-1][1].append(line)
    return found


def interleaved(chunked: list[list[str]]) -> list[str]:
    """The wrapped lines of each pair of messages taken in turn (two processes logging at
    once), the first of a pair first: messages still begin in the order written."""
    out: list[str] = []
    for a, b in zip_longest(chunked[::2], chunked[1::2], fillvalue=[]):
        for i in range(max(len(a), len(b))):
            out += a[i:i + 1] + b[i:i + 1]
    return out


def unwrap(tmp_path: Path, wrapped: list[str], name: str = "wrapped.log",
           mtime: float | None = None) -> tuple[Wrapper, list[Line]]:
    path = tmp_path / name
    path.write_text("\n".join(wrapped) + "\n")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    [found] = inputs([str(path)])
    head = found.lines()
    wrapper = recognise([t for _, t in islice(head, 50)])
    head.close()
    assert wrapper is not None
    return wrapper, list(wrapper.unwrap(found.lines(), str(path)))


HEADERS = {
    "BSD": "Dec  6 08:00:{s:02d} db1 postgres[{pid}]: ",
    "ISO 8601": "2026-12-06T08:00:{s:02d}.123456+00:00 db1 postgres[{pid}]: ",
    "RFC 5424": "<134>1 2026-12-06T08:00:{s:02d}.123456Z db1 postgres {pid} - - ",
}


@pytest.mark.parametrize("style", HEADERS)
@pytest.mark.parametrize("tags", ["seq", "chunk", "whole"])
def test_syslog_gives_back_the_servers_lines(
        style: str, tags: str, server_log: ServerLog, tmp_path: Path) -> None:  # noqa: F811
    """``tags``: syslog_sequence_numbers and syslog_split_messages on (``[5-1]``), sequence
    numbers off (``[1]``), splitting off (``[5]``, the message whole, rsyslog escaping its
    newlines and tabs as #012 and #011)."""
    chunked, seqs, pids = [], dict[int, int](), []
    for k, (pid, lines) in enumerate(messages(server_log.stderr)):
        seqs[pid] = seq = seqs.get(pid, 0) + 1
        header = HEADERS[style].format(s=k % 60, pid=pid)
        if tags == "whole":
            text = "\n".join(lines).replace("\t", "#011").replace("\n", "#012")
            chunks = [f"{header}[{seq}] {text}"]
        else:
            chunks = [f"{header}[{seq}-{n}] {c}" if tags == "seq" else f"{header}[{n}] {c}"
                      for n, c in enumerate(server_chunks("\n".join(lines) + "\n"), 1)]
        other = HEADERS[style].format(s=k % 60, pid=999).replace("postgres", "CRON") + CRON
        chunked.append([*chunks, other])
        pids += [pid] * len(lines)
    # long lines were cut, multi-line ones too (or sent whole)
    assert max(len(c) for c in chunked) > (1 if tags == "whole" else 6)
    # a BSD header has no year: the file's, one less for December in a January file
    wrapper, lines = unwrap(tmp_path, interleaved(chunked),
                            mtime=datetime(2027, 1, 2, tzinfo=UTC).timestamp())
    assert wrapper.name == f"syslog ({style})"
    assert [line.text for line in lines] == server_log.stderr
    assert [line.pid for line in lines] == pids
    assert wrapper.others == len(chunked)
    assert lines[0].time is not None and lines[0].time.replace(tzinfo=None) == datetime(
        2026, 12, 6, 8, 0, 0, 123456 if style != "BSD" else 0)


def test_syslog_tabs_escaped_by_rsyslog_and_structured_data(
        server_log: ServerLog, tmp_path: Path) -> None:  # noqa: F811
    wrapped = []
    for k, (pid, lines) in enumerate(messages(server_log.stderr)):
        sd = f'[meta sequenceId="{k}"][origin ip="10.0.0.{k % 250}"]'
        header = f"<134>1 2026-12-06T08:00:01Z db1 postgres {pid} - {sd} "
        wrapped += [f"{header}[{k + 1}-{n}] {c.replace(chr(9), '#011')}"
                    for n, c in enumerate(server_chunks("\n".join(lines) + "\n"), 1)]
    wrapper, lines = unwrap(tmp_path, wrapped)
    assert wrapper.name == "syslog (RFC 5424)"
    assert [line.text for line in lines] == server_log.stderr


@pytest.mark.parametrize("form", ["cli", "drain"])
def test_heroku_logplex_gives_back_the_servers_lines(
        form: str, server_log: ServerLog, tmp_path: Path) -> None:  # noqa: F811
    wrapped, seqs = [], dict[int, int]()
    for pid, lines in messages(server_log.stderr):
        seqs[pid] = seq = seqs.get(pid, 0) + 1
        for n, chunk in enumerate(server_chunks("\n".join(lines) + "\n"), 1):
            body = f"[DATABASE] [{seq}-{n}] {chunk}"
            if form == "cli":
                wrapped.append(f"2026-12-06T08:00:01.123456+00:00 app[postgres.{pid}]: {body}")
            else:
                frame = f"<134>1 2026-12-06T08:00:01+00:00 host app postgres.{pid} - {body}"
                wrapped.append(f"{len(frame.encode())} {frame}")
        wrapped.append("2026-12-06T08:00:02+00:00 app[heroku-postgres]: source=DATABASE"
                       " addon=postgresql-curly-1 sample#current_transaction=1234")
        wrapped.append('2026-12-06T08:00:02+00:00 heroku[router]: at=info method=GET path="/"')
    wrapper, lines = unwrap(tmp_path, wrapped)
    assert wrapper.name == "Heroku logplex"
    assert [line.text for line in lines] == server_log.stderr
    assert wrapper.others == 2 * len(messages(server_log.stderr))
    assert all(line.pid is not None for line in lines)


@pytest.mark.parametrize("form", ["lines", "array"])
def test_cloud_logging_entries_give_back_the_servers_lines(
        form: str, server_log: ServerLog, tmp_path: Path) -> None:  # noqa: F811
    entries: list[dict[str, object]] = []
    when = datetime(2026, 12, 6, 8, 0, 1, 123456, tzinfo=UTC)
    for k, (_, lines) in enumerate(messages(server_log.stderr)):
        # Cloud SQL sends a message whole; an agent tailing a file sends each line
        payloads = ["\n".join(lines) + "\n"] if k % 2 else lines
        for payload in payloads:
            entries.append({
                "insertId": f"s{len(entries)}", "textPayload": payload,
                "logName": "projects/p/logs/cloudsql.googleapis.com%2Fpostgres.log",
                "resource": {"type": "cloudsql_database", "labels": {"database_id": "p:db"}},
                "severity": "ERROR", "timestamp": (when + timedelta(seconds=k)).isoformat()})
        entries.append({"insertId": f"a{k}", "protoPayload": {"methodName": "login"},
                        "logName": "projects/p/logs/cloudaudit.googleapis.com%2Factivity"})
    for k, jsonlog in enumerate(server_log.jsonlog):
        entries.append({"insertId": f"j{k}", "jsonPayload": json.loads(jsonlog),
                        "timestamp": when.isoformat(), "logName": "projects/p/logs/stdout"})
    wrapped = ([json.dumps(e) for e in entries] if form == "lines"
               else json.dumps(entries, indent=2).splitlines())
    wrapper, lines = unwrap(tmp_path, wrapped)
    assert wrapper.name == "Google Cloud Logging"
    texts = [line for line in lines if line.fields is None]
    assert [line.text for line in texts] == server_log.stderr
    assert texts[0].time == when
    assert [line.fields for line in lines if line.fields is not None] == [
        json.loads(j) for j in server_log.jsonlog]
    assert wrapper.others == len(messages(server_log.stderr))


def test_cloudnativepg_records_give_back_the_servers_fields(
        server_log: ServerLog, tmp_path: Path) -> None:  # noqa: F811
    rows = server_log.csv_rows()
    records = [dict(zip(CSV_FIELDS, row, strict=False)) for row in rows]
    wrapped = [json.dumps({"level": "info", "ts": "2026-12-06T08:00:01.123456789Z",
                           "logger": "instance-manager", "msg": "Checking for free disk space",
                           "logging_pod": "cluster-example-1"})]
    for record in records:
        wrapped.append(json.dumps({"level": "info", "ts": "2026-12-06T08:00:01.123456789Z",
                                   "logger": "postgres", "msg": "record",
                                   "logging_pod": "cluster-example-1", "record": record}))
    wrapper, lines = unwrap(tmp_path, wrapped)
    assert wrapper.name == "CloudNativePG"
    assert [line.fields for line in lines] == records
    assert any("\n" in str(r["query"]) for r in records)  # a multi-line statement, whole
    assert [line.pid for line in lines] == [int(r["process_id"]) for r in records]
    assert wrapper.others == 1


def test_the_servers_own_lines_have_no_wrapper(server_log: ServerLog) -> None:  # noqa: F811
    for lines in (server_log.stderr, server_log.csvlog, server_log.jsonlog):
        assert recognise(lines[:50]) is None
