"""``pgcrisis logs``: the report of a log a real server wrote, in jsonlog and csvlog at once,
while a session failed statements, ran slow tagged ones, waited for a lock until its
statement timeout cancelled it, and a client asked for a database that does not exist.

Until the log reader is merged (``LogReader`` raises NotImplementedError), the records are
read here with Python's json and csv modules, field by field as the server named them, and
counted by the report's own pure half (:class:`Tally`, :func:`judge`); the renderers are
called on the result. The CLI test runs the command itself and is skipped while the reader
is a stub. Events come from :func:`classify`; while it is a stub that knows only errors, the
few kinds this log shows (slow statements, a lock wait, a cancellation) are recognised here
by their messages, and the real classifier's answer wins as soon as it has one.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from xml.etree import ElementTree

import jsonschema
import psycopg
import pytest
from rich.console import Console

from pgcrisis.errors import InputError
from pgcrisis.lab.scenario import wait_until
from pgcrisis.logs.events import Event, Kind, classify
from pgcrisis.logs.kept import Kept
from pgcrisis.logs.minutes import Tally
from pgcrisis.logs.record import LogRecord, Unread
from pgcrisis.logs.report import judge
from pgcrisis.logs.summary import LogReport, Source
from pgcrisis.presentation import logs_html, logs_json, logs_markdown, logs_terminal
from tests.helpers import PgServer

SCHEMA = json.loads(resources.files("pgcrisis").joinpath("schemas/logs.schema.json")
                    .read_text())
TRIAGE_SCHEMA = json.loads(resources.files("pgcrisis").joinpath("schemas/triage.schema.json")
                           .read_text())
SLOW_RUNS = 4


@dataclass(frozen=True)
class ServerLog:
    """What the server wrote while the scenario ran, read back in both formats."""

    database: str
    missing: str
    jsonlog: list[LogRecord]
    csvlog: list[LogRecord]


def _time(text: str) -> datetime:
    """A log time as the server writes it with log_timezone = UTC."""
    assert text.endswith(" UTC"), f"log_timezone is not UTC: {text!r}"
    return datetime.fromisoformat(text[:-4]).replace(tzinfo=UTC)


def _int(text: object) -> int | None:
    return int(str(text)) if str(text).lstrip("-").isdigit() else None


def _from_json(line: str, file: str, number: int) -> LogRecord:
    o = json.loads(line)
    return LogRecord(_time(o["timestamp"]), o["error_severity"], o.get("state_code", ""),
                     o.get("message", ""), o.get("statement", ""),
                     o.get("application_name", ""), _int(o.get("query_id")) or None,
                     o.get("pid"), o.get("user", ""), o.get("dbname", ""),
                     o.get("remote_host", ""), o.get("detail", ""), o.get("hint", ""),
                     o.get("context", ""), o.get("internal_query", ""),
                     o.get("backend_type", ""), o.get("session_id", ""), file, number, number)


def _from_csv(row: list[str], file: str, number: int) -> LogRecord:
    return LogRecord(_time(row[0]), row[11], row[12], row[13], row[19], row[22],
                     _int(row[25]) if len(row) > 25 else None, _int(row[3]), row[1], row[2],
                     row[4], row[14], row[15], row[18], row[16], row[23], row[5], file,
                     number, number)


def _read(log_dir: Path, since: datetime, databases: set[str]) -> tuple[list[LogRecord],
                                                                        list[LogRecord]]:
    """The records of both formats since ``since`` about ``databases`` (or the
    checkpointer's)."""
    def ours(r: LogRecord) -> bool:
        return r.time >= since and (r.database in databases or r.backend_type == "checkpointer")

    json_records = [_from_json(line, p.name, n) for p in sorted(log_dir.glob("*.json"))
                    for n, line in enumerate(p.read_text().splitlines(), 1) if line.strip()]
    csv_records = [_from_csv(row, p.name, n) for p in sorted(log_dir.glob("*.csv"))
                   for n, row in enumerate(csv.reader(io.StringIO(p.read_text())), 1) if row]
    return ([r for r in json_records if ours(r)], [r for r in csv_records if ours(r)])


def _scenario(dsn: str, missing_dsn: str) -> None:
    """Errors, slow tagged statements, a lock wait cancelled by statement_timeout, a
    connection to a database that does not exist."""
    with psycopg.connect(dsn, autocommit=True, application_name="shop-web") as conn:
        conn.execute("CREATE TABLE orders (id int)")
        for _ in range(3):
            with pytest.raises(psycopg.errors.DivisionByZero):
                conn.execute("SELECT 1/0 /* view='customer_report' */")
        for _ in range(2):
            with pytest.raises(psycopg.errors.UndefinedTable):
                conn.execute("SELECT * FROM no_such_table")
        conn.execute("SET log_min_duration_statement = 40")
        for _ in range(SLOW_RUNS):
            conn.execute("SELECT pg_sleep(0.05) /* view='orders_page' */")
        conn.execute("RESET log_min_duration_statement")
    with psycopg.connect(dsn) as holder, psycopg.connect(dsn, autocommit=True) as waiter:
        holder.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
        waiter.execute("SET log_lock_waits = on")
        waiter.execute("SET deadlock_timeout = '50ms'")
        waiter.execute("SET statement_timeout = '400ms'")
        with pytest.raises(psycopg.errors.QueryCanceled):
            waiter.execute("SELECT * FROM orders")
        holder.rollback()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(missing_dsn).close()


@pytest.fixture(scope="module")
def server_log(pg: PgServer) -> Iterator[ServerLog]:
    """The scenario's records as the server logged them in jsonlog and in csvlog."""
    if pg.embedded is None:
        pytest.skip("needs the suite's own server (its log directory), not PGCRISIS_TEST_DSN")
    log_dir = pg.embedded.log_dir
    name, missing = f"t_{uuid.uuid4().hex[:12]}", f"missing_{uuid.uuid4().hex[:8]}"
    marker = f"pgcrisis-logs-test-{uuid.uuid4().hex}"
    with psycopg.connect(pg.dsn, autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET log_destination = 'jsonlog,csvlog'")
        conn.execute("ALTER SYSTEM SET log_timezone = 'UTC'")
        conn.execute("SELECT pg_reload_conf()")
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        wait_until(lambda: any(log_dir.glob("*.csv")), what="the server to open its csvlog")
        since = datetime.now(UTC).replace(microsecond=0)
        _scenario(pg.dsn_for(name), pg.dsn_for(missing))
        with psycopg.connect(pg.dsn_for(name), autocommit=True) as conn:
            conn.execute("CHECKPOINT")
            conn.execute(f"DO $$ BEGIN RAISE WARNING '{marker}'; END $$")
        wait_until(lambda: all(any(marker in p.read_text() for p in log_dir.glob(pattern))
                               for pattern in ("*.json", "*.csv")),
                   what="the scenario's last line in both logs")
        json_records, csv_records = _read(log_dir, since, {name, missing})
        yield ServerLog(name, missing, json_records, csv_records)
    finally:
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            conn.execute("ALTER SYSTEM RESET log_destination")
            conn.execute("ALTER SYSTEM RESET log_timezone")
            conn.execute("SELECT pg_reload_conf()")
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def event_of(record: LogRecord) -> Event | None:
    """The classifier's event (what ``pgcrisis logs`` makes of the record)."""
    return classify(record)


def report_of(records: list[LogRecord], fmt: str = "jsonlog",
              unread: Unread | None = None) -> LogReport:
    tally, kept = Tally(), Kept()
    for record in records:
        event = event_of(record)
        tally.add(record, event)
        if event is not None:
            kept.add(event)
    unread = unread or Unread(0)
    source = Source(("postgresql.json",), fmt, lines=len(records) + unread.count,
                    records=len(records), unread=unread)
    return judge(tally, kept, source, zone=UTC)


def test_errors_are_counted_by_severity_and_sqlstate(server_log: ServerLog) -> None:
    report = report_of(server_log.jsonlog)
    groups = {(e.severity, e.sqlstate): e.count for e in report.errors}
    assert groups == {("ERROR", "22012"): 3, ("ERROR", "42P01"): 2, ("ERROR", "57014"): 1,
                      ("FATAL", "3D000"): 1}
    severities = dict(report.severities)
    assert severities["ERROR"] == 6 and severities["FATAL"] == 1
    assert sum(m.counts.get("errors", 0) for m in report.minutes) == 7 == report.errors_total
    assert report.worst and report.worst[0].counts["errors"] >= 1
    assert report.records == len(server_log.jsonlog)


def test_slow_statements_and_views_have_count_total_and_p95(server_log: ServerLog) -> None:
    report = report_of(server_log.jsonlog)
    sleeps = [g for g in report.slow if g.key == "SELECT pg_sleep(?)"]
    assert len(sleeps) == 1 and sleeps[0].count == SLOW_RUNS
    assert 50 <= sleeps[0].p95_ms <= sleeps[0].max_ms <= sleeps[0].total_ms
    assert sleeps[0].total_ms >= SLOW_RUNS * 50
    views = {g.key: g.count for g in report.views}
    assert views == {"orders_page": SLOW_RUNS}


def test_the_minute_table_shows_lock_waits_and_cancellations(server_log: ServerLog) -> None:
    report = report_of(server_log.jsonlog)
    keys = [key for key, _, _ in report.columns]
    assert keys[0] == "errors"
    assert {Kind.LOCK_WAIT.value, Kind.CANCELLED.value, Kind.SLOW.value} <= set(keys)
    assert sum(m.counts.get(Kind.LOCK_WAIT.value, 0) for m in report.minutes) == 1
    assert all(any(m.counts.values()) for m in report.minutes)


def test_csvlog_and_jsonlog_give_the_same_report(server_log: ServerLog) -> None:
    from_json, from_csv = report_of(server_log.jsonlog), report_of(server_log.csvlog, "csvlog")
    assert from_csv.records == from_json.records
    assert [(e.severity, e.sqlstate, e.count) for e in from_csv.errors] == \
        [(e.severity, e.sqlstate, e.count) for e in from_json.errors]
    assert [(g.key, g.count) for g in from_csv.slow] == [(g.key, g.count) for g in from_json.slow]


def test_json_follows_the_schema(server_log: ServerLog) -> None:
    document = json.loads(logs_json.render(report_of(server_log.jsonlog)))
    jsonschema.validate(document, SCHEMA)
    assert document["severities"]["ERROR"] == 6 and document["unparsed"] == 0
    codes = {f["code"]: f["severity"] for f in document["findings"]}
    assert codes["statement-cancelled"] == "warning" and codes["slow-query"] == "info"
    assert document["exit_code"] == 1
    finding = {"$ref": "#/$defs/finding", "$defs": TRIAGE_SCHEMA["$defs"]}
    for item in document["findings"]:  # each as triage's contract writes a finding
        jsonschema.validate(item, finding)
    document["surprise"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, SCHEMA)


def test_unread_lines_are_said_with_the_first(server_log: ServerLog) -> None:
    unread = Unread(1204, "postgresql.log", 88, "garbage that is no log line")
    report = report_of(server_log.jsonlog, unread=unread)
    console = Console(file=io.StringIO(), width=200)
    logs_terminal.render(report, console, plain=True)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "1,204 lines of" in text and "first at postgresql.log:88: garbage" in text
    document = json.loads(logs_json.render(report))
    assert document["unparsed"] == 1204 and document["first_unparsed"]["line"] == 88


def test_terminal_puts_the_crisis_on_the_first_screen(server_log: ServerLog) -> None:
    report = report_of(server_log.jsonlog)
    console = Console(file=io.StringIO(), width=120, force_terminal=True, color_system=None)
    logs_terminal.render(report, console)
    lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    first = "\n".join(lines[:24])
    for expected in ("pgcrisis logs", "ERROR 6", "FATAL 1", "every line understood",
                     "statement timeout", "Worst minutes (UTC)"):
        assert expected in first, expected
    text = "\n".join(lines)
    assert "22012" in text and "3D000" in text and "orders_page" in text
    assert "SELECT pg_sleep(?)" in text


def test_markdown_has_every_table(server_log: ServerLog) -> None:
    text = logs_markdown.render(report_of(server_log.jsonlog))
    for heading in ("### Worst minutes (UTC)", "### Errors by SQLSTATE (UTC)",
                    "### Minute by minute", "### Slow statements", "### Views"):
        assert heading in text, heading
    assert "| 3 | ERROR | 22012 |" in text


class _Page(HTMLParser):
    """The tags of a page, and whether any script or outside resource is asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.outside: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "script" or any(k in ("src", "href") for k, _ in attrs):
            self.outside.append(tag)


def test_html_is_one_page_with_a_strip_per_column(server_log: ServerLog) -> None:
    report = report_of(server_log.jsonlog)
    page = _Page()
    page.feed(logs_html.render(report))
    assert page.tags.count("svg") == 1 and page.outside == []
    svg = ElementTree.fromstring(logs_html.chart(report))  # well-formed SVG
    strips = svg.findall("{http://www.w3.org/2000/svg}line")
    assert len(strips) == len(report.columns)
    assert page.tags.count("rect") >= len(report.columns)


def test_a_log_with_nothing_readable_is_an_error_not_zero_errors() -> None:
    source = Source(("app.log",), "stderr", prefix="%m [%p] ", prefix_source="given",
                    lines=3, unread=Unread(3, "app.log", 1, "\x00\x01binary"))
    with pytest.raises(InputError, match=r"app.log: none of its 3 lines .* line 1"):
        judge(Tally(), Kept(), source, zone=UTC)


def test_the_window_keeps_only_its_records(server_log: ServerLog) -> None:
    from datetime import timedelta

    from pgcrisis.logs.report import count

    errors = [r for r in server_log.jsonlog if r.severity == "ERROR"]
    start = errors[0].time + timedelta(microseconds=1)  # after the first division by zero
    tally, _ = count(server_log.jsonlog, start, None)
    inside = [r for r in server_log.jsonlog if r.time >= start]
    assert tally.records == len(inside) < len(server_log.jsonlog)
    later = sum(1 for r in inside if r.sqlstate == "22012")  # log times are to the ms
    kept = tally.errors.get(("ERROR", "22012"))  # none when all three share the first's ms
    assert (kept.count if kept is not None else 0) == later < 3
    nothing, _ = count(server_log.jsonlog, None, server_log.jsonlog[0].time
                       - timedelta(seconds=1))
    source = Source(("postgresql.json",), "jsonlog", lines=15, records=15)
    with pytest.raises(InputError, match="15 records, none from"):
        judge(nothing, Kept(), source, zone=UTC, asked=(None, start))
