"""``pgcrisis serve`` in process: the reduction to pixel columns, the log's parsing, the JSON of
each page over a hand-made store, the token, /metrics parsed by Prometheus' own parser, and
bad input as one line and exit 3."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from pgcrisis.errors import InputError
from pgcrisis.logs.counts import count
from pgcrisis.logs.read import records_of
from pgcrisis.logs.statements import normalize, tag_of
from pgcrisis.model.activity import Transactions
from pgcrisis.model.load import RECORDED, CpuCount, LoadProfile, WaitLoad
from pgcrisis.model.statements import Statements
from pgcrisis.model.waits import SHOWN_CLASSES
from pgcrisis.presentation.web.documents import NO_LOAD
from pgcrisis.serve.app import create_app
from pgcrisis.serve.reduce import reduce
from pgcrisis.store._meta import SCHEMA_VERSION
from pgcrisis.store._sqlite import SqliteStore
from pgcrisis.store.series import SERIES, SERIES_V2
from tests.record_helpers import T0, backend, frame

NAME = "app@db:5432"


def test_a_spike_survives_the_reduction_to_a_pixel_column() -> None:
    times = list(range(0, 14 * 1440))
    values = [1.0] * len(times)
    values[5000] = 40.0
    r = reduce(times, values, 0, len(times), 300)
    assert max(v for v in r.hi if v is not None) == 40.0
    assert min(v for v in r.lo if v is not None) == 1.0
    assert len(r.hi) == 300
    assert reduce([], [], 0, 10, 3).hi == [None, None, None]


def test_jsonlog_and_csvlog_name_their_fields() -> None:
    line = ('{"timestamp":"2026-11-26 09:14:03.250 UTC","pid":42,"error_severity":"ERROR",'
            '"state_code":"22012","message":"division by zero","statement":'
            '"SELECT 1/0 /* view=\'customer_report\' */","application_name":"shop",'
            '"query_id":77}')
    [rec] = records_of([line], "jsonlog")
    assert (rec.sqlstate, rec.application, rec.queryid) == ("22012", "shop", 77)
    fields = ["2026-11-26 09:14:03.250 UTC", "u", "d", "42", "", "s", "1", "SELECT", "", "",
              "0", "ERROR", "42P01", 'relation "x" does not exist', "", "", "", "", "",
              "SELECT * FROM x WHERE id = 3", "15", "", "shop", "client backend", "", "0"]
    [rec] = records_of([",".join(f'"{f}"' if "," in f or '"' in f else f
                                 for f in [x.replace('"', '""') for x in fields])], "csvlog")
    assert (rec.sqlstate, rec.statement) == ("42P01", "SELECT * FROM x WHERE id = 3")
    [row] = count([rec, rec])
    assert row.statement == "SELECT * FROM x WHERE id = ?" and row.count == 2


def test_stderr_is_read_only_with_a_prefix_that_matches() -> None:
    lines = ["2026-11-26 09:14:03.250 UTC [42] shop ERROR:  division by zero",
             "2026-11-26 09:14:03.250 UTC [42] shop STATEMENT:  SELECT 1/0 /* view='r' */"]
    [rec] = records_of(lines, "stderr", "%m [%p] %q%a ")
    assert (rec.severity, rec.application, tag_of(rec.statement)) == ("ERROR", "shop", "r")
    with pytest.raises(InputError, match="do not start with log_line_prefix"):
        records_of(["LOG:  hello", "ERROR:  x"], "stderr", "%t %u@%d ")
    with pytest.raises(InputError, match="no time"):
        records_of(["[1] LOG:  hello"], "stderr", "[%p] ")
    assert normalize("select $$a$$, 'b', 3") == "select ?, ?, ?"


def _profile(cpu: float, io: float, lock: float, cpus: int | None = 2) -> LoadProfile:
    """A frame's load: ``cpu`` sessions on CPU, ``io`` on data-file reads, ``lock`` waiting on
    locks, against ``cpus``."""
    waits = tuple(w for w in (WaitLoad("CPU", None, cpu), WaitLoad("IO", "DataFileRead", io),
                              WaitLoad("Lock", "relation", lock)) if w.sessions)
    return LoadProfile(5.0, 5, CpuCount(cpus, "given" if cpus else "not on this machine"),
                       waits, source=RECORDED)


def _store(path: Path) -> None:
    """Ten minutes a sample each 10 s: a lock spike from 300 s to 360 s, a CPU spike from
    120 s to 180 s on 2 CPUs, and statements read each minute, busy 2 sessions all along."""
    store = SqliteStore(path, create=True)
    writer = store.writer(NAME, source="test")
    for s in range(0, 600, 10):
        waiting = 6 if 300 <= s < 360 else 0
        sessions = (backend(1, state="idle in transaction"),
                    *(backend(100 + i, wait=("Lock", "relation"), blocked_by=(1,))
                      for i in range(waiting)),
                    *(backend(200 + i, state="idle") for i in range(3)))
        fields: dict[str, Any] = {
            "activity": sessions, "transactions": Transactions(s * 5, 0),
            "load": _profile(6.0 if 120 <= s < 180 else 1.0, 0.5, float(waiting))}
        if s % 60 == 0:  # statements are read once a minute: 2 s of statements per second
            fields["statements"] = Statements(db_total_exec_ms=1_000.0 + 2_000.0 * s)
        writer.append(frame(T0 + timedelta(seconds=s), fields))
    writer.log_errors(count(records_of([
        '{"timestamp":"2025-03-01 12:03:00 UTC","error_severity":"ERROR","state_code":"22012",'
        '"message":"division by zero","statement":"SELECT 1/0 /* view=\'sales\' */"}'] * 3)))
    writer.close()
    store.close()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    _store(tmp_path / "s.db")
    store = SqliteStore(tmp_path / "s.db", create=False)
    with TestClient(create_app(store, NAME)) as c:
        yield c
    store.close()


def test_the_timeline_shows_the_spike_and_a_range_without_data_is_empty(
        client: TestClient) -> None:
    body = client.get("/api/timeline", params={"from": T0.isoformat(), "to": (
        T0 + timedelta(minutes=10)).isoformat(), "width": 10}).json()
    charts = {c["key"]: c for c in body["charts"]}
    assert max(v for v in charts["waiting"]["lines"][0]["hi"] if v is not None) == 6
    assert max(v for v in charts["tps"]["lines"][0]["hi"] if v is not None) == pytest.approx(5.0)
    assert max(v for v in charts["errors"]["lines"][0]["hi"] if v is not None) == 3
    empty = client.get("/api/timeline", params={"from": "2020-01-01T00:00Z",
                                                "to": "2020-01-01T01:00Z", "width": 5})
    assert empty.status_code == 200
    drawn = empty.json()["charts"]
    assert all(v is None for c in drawn if c["kind"] == "lines" for line in c["lines"]
               for v in line["hi"])
    [load] = [c for c in drawn if c["kind"] == "stack"]
    assert all(v is None for cls in load["classes"] for v in cls["values"])
    assert load["note"] is None  # nothing in the range: no word about the recording
    assert client.get("/api/timeline", params={"from": "nonsense"}).status_code == 400


def _charts(client: TestClient, width: int, **span: timedelta) -> dict[str, Any]:
    start = T0 + span.get("start", timedelta())
    end = T0 + span.get("end", timedelta(minutes=10))
    body = client.get("/api/timeline", params={"from": start.isoformat(),
                                               "to": end.isoformat(), "width": width}).json()
    return {c["key"]: c for c in body["charts"]}


@pytest.mark.parametrize("end", [timedelta(minutes=10), timedelta(minutes=40)],
                         ids=["from-the-samples", "from-the-stored-minutes"])
def test_the_load_is_stacked_by_wait_class_under_the_cpu_line(
        client: TestClient, end: timedelta) -> None:
    """Each column is its busiest sample's sessions by class (CPU at the bottom), under the
    CPU count: the CPU spike (6 on 2 CPUs) and the lock spike (6 waiting) both show, whether
    the range is drawn from the samples (10 min) or the stored minutes (40 min)."""
    load = _charts(client, 40, end=end)["load"]
    assert [c["key"] for c in load["classes"]] == list(SHOWN_CLASSES)
    by = {c["key"]: c["values"] for c in load["classes"]}
    assert max(v for v in by["CPU"] if v is not None) == pytest.approx(6.0)
    assert max(v for v in by["Lock"] if v is not None) == pytest.approx(6.0)
    assert max(v for v in by["IO"] if v is not None) == pytest.approx(0.5)
    assert all(v in (None, 0) for v in by["LWLock"])
    assert {c for c in load["cpus"] if c is not None} == {2}
    assert load["cpus_label"] == "2 CPUs" and load["note"] is None


def test_without_a_cpu_count_the_chart_says_why_and_how_to_give_it(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db", create=True)
    writer = store.writer(NAME, source="test")
    for s in range(0, 30, 10):
        writer.append(frame(T0 + timedelta(seconds=s), {
            "activity": (backend(1),), "load": _profile(3.0, 0, 0, cpus=None)}))
    writer.close()
    try:
        with TestClient(create_app(store, NAME)) as c:
            load = {ch["key"]: ch for ch in c.get("/api/timeline").json()["charts"]}["load"]
        assert load["cpus"] is None and "CPU count is not known" in load["note"]
        assert "not on this machine" in load["note"]
    finally:
        store.close()


def test_statement_time_is_busy_sessions_spread_over_the_minute_it_covers(
        client: TestClient) -> None:
    """Statements are read once a minute (2 s of statements per second): each reading is
    drawn as 2 busy sessions over the minute before it, not as one spike of 120,000 ms."""
    busy = _charts(client, 60)["busy"]
    assert busy["unit"] == "busy sessions"
    values = busy["lines"][0]["hi"]
    drawn = [v for v in values if v is not None]
    assert len(drawn) >= 50, values  # the minutes between readings, not a column each
    assert min(drawn) == pytest.approx(2.0) and max(drawn) == pytest.approx(2.0)
    coarse = [v for v in _charts(client, 60, end=timedelta(minutes=40))["busy"]["lines"][0][
        "hi"] if v is not None]
    assert coarse and max(coarse) == pytest.approx(2.0)


def test_by_default_a_short_recording_is_shown_whole(client: TestClient) -> None:
    """No range asked: the recording (10 minutes) from its first sample, not the hour
    before its last one."""
    body = client.get("/api/timeline", params={"width": 100}).json()
    assert body["from"] == "2025-03-01T12:00:00.000Z"
    assert body["coverage"]["from"] == body["from"]
    asked = client.get("/api/timeline", params={"span": "1h", "from": (
        T0 - timedelta(minutes=50)).isoformat(), "width": 100}).json()
    assert asked["from"] == "2025-03-01T11:10:00.000Z"  # an asked range is kept


def test_an_older_store_reads_and_says_the_load_is_not_in_it(tmp_path: Path) -> None:
    """A store written before the load was kept (schema 2: no load columns) reads as it is:
    the charts as before, statement time spread over its minute, and the load chart saying
    the recording does not have it. A recorder opening it brings it up to date."""
    path = tmp_path / "old.db"
    _store(path)
    conn = sqlite3.connect(path)
    for column in (*SERIES[len(SERIES_V2):],):
        conn.execute(f"ALTER TABLE series DROP COLUMN {column}")
    conn.execute("DROP TABLE log_slow")  # schema 5's
    for column in ("role_name", "db_name"):
        conn.execute(f"ALTER TABLE log_errors DROP COLUMN {column}")
    conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema'")
    conn.commit()
    conn.close()
    store = SqliteStore(path, create=False)
    try:
        with TestClient(create_app(store, NAME)) as c:
            charts = {ch["key"]: ch for ch in c.get("/api/timeline", params={
                "from": T0.isoformat(), "to": (T0 + timedelta(minutes=40)).isoformat(),
                "width": 40}).json()["charts"]}
            assert charts["load"]["note"] == NO_LOAD
            assert all(v is None for cls in charts["load"]["classes"] for v in cls["values"])
            assert max(v for v in charts["waiting"]["lines"][0]["hi"] if v is not None) == 6
            busy = [v for v in charts["busy"]["lines"][0]["hi"] if v is not None]
            assert busy and max(busy) == pytest.approx(2.0)  # 120 s of statements a minute
        store.writer(NAME, source="test").close()
    finally:
        store.close()
    conn = sqlite3.connect(path)
    try:
        schema = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        assert schema == (str(SCHEMA_VERSION),)
        assert conn.execute("SELECT count(load_samples) FROM series").fetchone()[0] > 0
    finally:
        conn.close()


def test_a_moment_is_judged_as_triage_judges_it(client: TestClient) -> None:
    report = client.get("/api/triage", params={"at": (T0 + timedelta(seconds=330)).isoformat()})
    [lock] = [f for f in report.json()["findings"] if f["code"] == "blocking-lock"]
    assert lock["objects"][0]["pid"] == 1
    errors = client.get("/api/errors", params={"from": T0.isoformat(), "to": (
        T0 + timedelta(minutes=10)).isoformat()}).json()
    assert errors["tag"][0]["key"] == ["sales"] and errors["tag"][0]["count"] == 3
    for page in ("timeline", "statements", "views", "jobs", "errors"):
        assert client.get(f"/{page}").status_code == 200
    assert "script-src 'self'" in client.get("/timeline").headers["content-security-policy"]


def test_a_click_judges_a_sample_inside_its_column_not_the_one_before(
        client: TestClient) -> None:
    """The column clicked spans 295 to 305 s; the chain starts at 300 s and no sample there is
    flagged: the sample at 300 s is judged, not the one at 290 s before the spike."""
    report = client.get("/api/triage", params={
        "at": (T0 + timedelta(seconds=295)).isoformat(), "within_ms": 10_000}).json()
    assert "blocking-lock" in [f["code"] for f in report["findings"]]
    before = client.get("/api/triage", params={
        "at": (T0 + timedelta(seconds=295)).isoformat()}).json()
    assert "blocking-lock" not in [f["code"] for f in before["findings"]]


def test_metrics_parse_with_the_prometheus_parser(client: TestClient) -> None:
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    sessions = {s.labels["state"]: s.value for s in families["pgcrisis_sessions"].samples}
    assert sessions["idle in transaction"] == 1 and sessions["idle"] == 3
    assert families["pgcrisis_transactions"].type == "counter"
    assert "pgcrisis_findings" in families


def test_a_token_is_required_on_every_request(tmp_path: Path) -> None:
    _store(tmp_path / "s.db")
    store = SqliteStore(tmp_path / "s.db", create=False)
    try:
        with TestClient(create_app(store, NAME, token="s3cret")) as c:
            assert c.get("/api/recordings").status_code == 401
            assert c.get("/metrics").status_code == 401
            assert c.get("/api/recordings", headers={"Authorization": "Bearer nope"}
                         ).status_code == 401
            assert c.get("/api/recordings", headers={"Authorization": "Bearer s3cret"}
                         ).status_code == 200
            assert c.get("/timeline?token=s3cret").status_code == 200
            assert c.get("/api/recordings").status_code == 200  # the cookie it set
    finally:
        store.close()


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pgcrisis", "serve", *args],
                          capture_output=True, text=True, timeout=60, check=False)


def test_bad_input_is_one_line_and_exit_3(tmp_path: Path) -> None:
    missing = _serve("--store", str(tmp_path / "none.db"))
    foreign = tmp_path / "foreign.db"
    foreign.write_text("hello")
    other = _serve("--store", str(foreign))
    _store(tmp_path / "s.db")
    open_host = _serve("--store", str(tmp_path / "s.db"), "--host", "0.0.0.0")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        in_use = _serve("--store", str(tmp_path / "s.db"), "--port",
                        str(busy.getsockname()[1]))
    for result, words in ((missing, "no recording store"), (other, "not a pgcrisis"),
                          (open_host, "--token"), (in_use, "in use")):
        assert result.returncode == 3, result.stderr
        assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_the_recorder_serves_metrics_while_it_records(db: str, tmp_path: Path) -> None:
    """``record --metrics-port``: a real recorder on a real server answers /metrics in the
    OpenMetrics format, parsed by Prometheus' own parser, with the sessions it just saw."""
    import urllib.request

    from pgcrisis.embedded import free_port

    port = free_port()
    held = psycopg.connect(db, application_name="metrics-test")  # idle in a transaction
    held.execute("SELECT 1")
    recorder = subprocess.Popen(
        [sys.executable, "-m", "pgcrisis", "record", db, "--store", str(tmp_path / "r.db"),
         "--interval", "200ms", "--duration", "30s", "--metrics-port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        text = kind = ""
        for _ in range(100):
            try:
                asked = urllib.request.Request(  # as Prometheus asks: OpenMetrics
                    f"http://127.0.0.1:{port}/metrics",
                    headers={"Accept": "application/openmetrics-text; version=1.0.0"})
                with urllib.request.urlopen(asked, timeout=2) as r:
                    text = r.read().decode()
                    kind = r.headers["Content-Type"]
                if "pgcrisis_sessions" in text:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        assert kind.startswith("application/openmetrics-text")
        families = {f.name: f for f in text_string_to_metric_families(text)}
        assert "pgcrisis_sessions" in families, text[:500]
        by_state = {s.labels["state"]: s.value for s in families["pgcrisis_sessions"].samples}
        assert set(by_state) == {"active", "idle", "idle in transaction"}, by_state
        assert by_state["idle in transaction"] >= 1, by_state  # the session held above
    finally:
        recorder.terminate()
        recorder.communicate(timeout=30)
        held.close()


def test_a_stderr_log_it_cannot_parse_is_one_line_and_exit_3(db: str, tmp_path: Path) -> None:
    """``record --log`` on a stderr log whose lines do not match the prefix: one line saying
    so, exit 3, before anything is recorded."""
    logs = tmp_path / "log"
    logs.mkdir()
    (logs / "postgresql.log").write_text("this is not what the prefix says\n" * 5)
    done = subprocess.run(
        [sys.executable, "-m", "pgcrisis", "record", db, "--store", str(tmp_path / "r.db"),
         "--duration", "5s", "--log", str(logs), "--log-format", "stderr",
         "--log-line-prefix", "%m [%p] "],
        capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 3, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "log_line_prefix" in lines[0], lines
