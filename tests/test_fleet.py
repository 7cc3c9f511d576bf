"""The fleet (every recording of one store) and the Growth page, in process: the ranking by
the first exhausted resource, its terminal and JSON renderers, ``serve``'s fleet page over a
store of several recordings with each drilled into under ``/r/<name>/``, the Growth page's
charts with the forecast band, and a real central PostgreSQL store written by real recorders.

Daily rollups (``Store.history``) and the forecast (``capacity_of``) are made by other
parts of pgcrisis; where a test needs them, it gives a History and a CapacityReport made by
hand (a store that keeps the given history, a forecast that answers the given report).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from starlette.testclient import TestClient

from pgcrisis.capacity import fleet
from pgcrisis.capacity.fleet import NEEDS_ROLLUPS, FleetRow, Spark, WorstNow, rank, rank_key
from pgcrisis.capacity.forecast import Exhaustion, Fit, Verdict
from pgcrisis.capacity.report import CapacityReport, Resource
from pgcrisis.capacity.rollups import DatabaseDay, History, ServerDay
from pgcrisis.model.activity import Transactions
from pgcrisis.model.findings import Severity
from pgcrisis.presentation import fleet_json, fleet_terminal
from pgcrisis.serve.app import create_app
from pgcrisis.serve.fleet import create_fleet_app
from pgcrisis.store import open_store
from pgcrisis.store._sqlite import SqliteStore
from tests.record_helpers import FAST, T0, Background, backend, central, frame  # noqa: F401

NAMES = ("shop@db1:5432", "billing@db2:5432", "crm@db3:5432/eu")
TODAY = datetime.now(UTC).date()


def _exhaustion(verdict: Verdict, when: date | None = None) -> Exhaustion:
    low = when - timedelta(days=20) if when else None
    high = when + timedelta(days=40) if when else None
    return Exhaustion(verdict, when, low, high, 0.8, "a linear fit of 60 days")


def _resource(verdict: Verdict, when: date | None = None, key: str = "disk",
              fit: Fit | None = None) -> Resource:
    return Resource(key, {"disk": "disk", "connections": "connections"}.get(key, key), "B",
                    80.0, 100.0, "--disk-size", _exhaustion(verdict, when), fit=fit)


def _row(name: str, first: Resource | None, order: int) -> FleetRow:
    return FleetRow(name, T0, True, WorstNow(T0, None), 3, first, Spark("x", (1.0, 2.0)),
                    order)


def test_the_fleet_ranks_reached_then_soonest_then_cannot_tell_then_not_within() -> None:
    rows = [_row("never", _resource(Verdict.NOT_WITHIN), 3),
            _row("unknown", None, 4),
            _row("later", _resource(Verdict.DATE, date(2027, 6, 1)), 1),
            _row("full", _resource(Verdict.REACHED), 0),
            _row("murky", _resource(Verdict.CANNOT_TELL), 2),
            _row("soon", _resource(Verdict.DATE, date(2026, 1, 1)), 1)]
    assert [r.name for r in sorted(rows, key=rank_key)] == [
        "full", "soon", "later", "murky", "never", "unknown"]
    resources = [_resource(Verdict.CANNOT_TELL, key="cpu"),
                 _resource(Verdict.DATE, date(2026, 5, 1), key="connections"),
                 _resource(Verdict.NOT_WITHIN)]
    found = fleet.earliest(resources)
    assert found is not None and found.key == "connections"


def test_the_terminal_and_json_say_what_runs_out_first_and_what_is_unknown() -> None:
    rows = [_row("soon", _resource(Verdict.DATE, date(2026, 1, 1)), 1),
            FleetRow("old", T0, False, WorstNow(T0, Severity.CRITICAL, "blocking-lock",
                                               "Sessions wait on a lock"),
                     None, None, Spark("", ()), note=NEEDS_ROLLUPS)]
    out = Console(record=True, width=200)
    fleet_terminal.fleet(out, rows)
    text = out.export_text()
    assert "disk: 2026-01-01 (2025-12-12 to 2026-02-10, 80 %)" in text
    assert "critical: Sessions wait on a lock (blocking-lock)" in text
    assert NEEDS_ROLLUPS in text and "not recorded" in text
    doc = fleet_json.row_document(rows[1])
    assert doc["first"] is None and doc["seized_minutes_week"] is None
    assert doc["worst"]["severity"] == "critical" and doc["note"] == NEEDS_ROLLUPS
    assert fleet_json.row_document(rows[0])["first"]["when"] == "2026-01-01"


def _record(path: Path, names: tuple[str, ...] = NAMES) -> None:
    """A minute of samples each 10 s for each recording; the first one's last sample sees a
    lock chain (six sessions waiting on an idle transaction), flagged critical as the
    recorder flags it."""
    store = SqliteStore(path, create=True)
    for n, name in enumerate(names):
        writer = store.writer(name, source="test")
        for s in range(0, 70, 10):
            chain = n == 0 and s == 60
            sessions = (backend(1, state="idle in transaction", age=120.0),
                        *(backend(100 + i, wait=("Lock", "relation"), blocked_by=(1,), age=90.0)
                          for i in range(6 if chain else 0)))
            writer.append(frame(T0 + timedelta(seconds=s),
                                {"activity": sessions, "transactions": Transactions(s, 0)},
                                worst=Severity.CRITICAL if chain else None))
        writer.close()
    store.close()


@pytest.fixture
def several(tmp_path: Path) -> Iterator[SqliteStore]:
    _record(tmp_path / "fleet.db")
    store = SqliteStore(tmp_path / "fleet.db", create=False)
    yield store
    store.close()


def test_the_fleet_page_lists_every_recording_and_drills_into_each(
        several: SqliteStore) -> None:
    with TestClient(create_fleet_app(several)) as client:
        page = client.get("/")
        assert page.status_code == 200
        shown = re.findall(r'data-recording="([^"]+)"', page.text)
        assert sorted(shown) == sorted(NAMES)
        assert "critical" in page.text and "<svg" in page.text
        assert "cannot tell" in page.text  # minutes of samples: no forecast from them
        rows = {r["name"]: r for r in client.get("/api/fleet").json()["recordings"]}
        assert rows[NAMES[0]]["worst"]["severity"] == "critical"
        assert rows[NAMES[0]]["worst"]["code"]
        assert rows[NAMES[1]]["worst"]["severity"] is None
        assert len(rows[NAMES[1]]["spark"]["values"]) >= 1
        for name in NAMES:
            href = re.search(rf'<a href="([^"]+)">{re.escape(name)}</a>', page.text)
            assert href is not None
            inner = client.get(href.group(1))
            assert inner.status_code == 200 and f'data-recording="{name}"' in inner.text
            base = href.group(1).rsplit("/", 1)[0]
            assert f'data-base="{base}"' in inner.text
            timeline = client.get(base + "/api/timeline", params={"width": 100}).json()
            assert timeline["name"] == name and timeline["minutes"] >= 1
        assert client.get("/r/nobody@nowhere/timeline").status_code == 404


def test_one_recording_keeps_its_addresses(several: SqliteStore) -> None:
    with TestClient(create_app(several, NAMES[1])) as client:
        assert 'data-base=""' in client.get("/timeline").text
        assert client.get("/api/timeline", params={"width": 50}).json()["name"] == NAMES[1]
        assert client.get("/", follow_redirects=False).headers["location"] == "/timeline"


class KeptHistory(SqliteStore):
    """A store that keeps the given daily history (as a store with rollups gives one)."""

    def __init__(self, path: Path, history: History) -> None:
        super().__init__(path, create=False)
        self.kept = history

    def history(self, name: str, start: date | None = None, end: date | None = None, *,
                tables: bool = False) -> History:
        start, end = start or date.min, end or date.max
        return History(name, tuple(d for d in self.kept.server if start <= d.day <= end),
                       tuple(d for d in self.kept.databases if start <= d.day <= end))


def _history(days: int = 60) -> History:
    first = TODAY - timedelta(days=days - 1)
    server = tuple(ServerDay(first + timedelta(days=i), 86_400, 86_400.0,
                             database_bytes=10_000_000 + 100_000 * i, connections_p95=20.0 + i / 4,
                             max_connections=100, active_p95=2.0 + (i % 7) / 3,
                             xid_age=50_000_000 + 1_000_000 * i,
                             autovacuum_freeze_max_age=200_000_000,
                             seized_minutes=5 if i >= days - 3 else 0) for i in range(days))
    dbs = tuple(DatabaseDay(d.day, "shop", d.database_bytes, 1000, 200, 10) for d in server)
    return History("h", server, dbs)


def _report(history: History) -> CapacityReport:
    days = tuple(TODAY + timedelta(days=i) for i in range(1, 91))
    fit = Fit(days, tuple(16e6 + 1e5 * i for i in range(90)),
              tuple(15e6 + 8e4 * i for i in range(90)), tuple(17e6 + 1.2e5 * i for i in range(90)))
    disk = _resource(Verdict.DATE, TODAY + timedelta(days=400), fit=fit)
    conns = _resource(Verdict.CANNOT_TELL, key="connections")
    return CapacityReport(history.name, datetime.now(UTC), len(history.server), (disk, conns),
                          needs=("record 30 more days for a weekly pattern",))


@pytest.fixture
def with_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[KeptHistory]:
    _record(tmp_path / "fleet.db")
    store = KeptHistory(tmp_path / "fleet.db", _history())
    yield store
    store.close()


def test_the_growth_page_draws_the_days_and_the_forecast_band(
        with_history: KeptHistory) -> None:
    with TestClient(create_app(with_history, NAMES[1])) as client:
        assert 'id="growth-charts"' in client.get("/growth").text
        doc = client.get("/api/growth").json()
    assert doc["note"] is None and doc["days"] == 60
    charts = {c["key"]: c for c in doc["charts"]}
    assert list(charts) == ["bytes", "changes", "connections", "active", "xid"]
    # no disk size given: the size is drawn, no forecast of it
    assert {line["key"] for line in charts["bytes"]["lines"]} == {"bytes"}
    # the transaction IDs' age grows 1M a day towards autovacuum_freeze_max_age (200M): the
    # forecast's median and band start the day after the last one measured
    xid = {line["key"]: line for line in charts["xid"]["lines"]}
    assert {"median", "interval"} <= set(xid) and xid["interval"]["band"]
    assert charts["xid"]["lines"][1]["hi"][0] == 200_000_000  # autovacuum_freeze_max_age
    measured = xid[next(k for k in xid if k not in ("median", "interval", "limit"))]["hi"]
    assert measured[59] is not None and measured[60] is None
    assert xid["median"]["hi"][60] is not None
    first = TODAY - timedelta(days=59)
    in_first_month = sum(1 for i in range(60)
                         if (first + timedelta(days=i)).month == first.month)
    assert charts["changes"]["lines"][0]["hi"][0] == 1000 * in_first_month
    assert doc["first"].startswith("transaction IDs")


def test_the_fleet_takes_seized_minutes_and_exhaustion_from_the_rollups(
        with_history: KeptHistory) -> None:
    rows = rank(with_history)
    assert [r.seized_week for r in rows] == [15, 15, 15]
    assert all(r.first is not None and r.first.key == "xid-freeze" for r in rows)
    assert rows[0].spark.label.startswith("active sessions, p95 per day")
    assert len(rows[0].spark.values) == fleet.SPARK_DAYS


def test_minutes_of_samples_are_drawn_and_forecast_nothing(several: SqliteStore) -> None:
    with TestClient(create_app(several, NAMES[0])) as client:
        doc = client.get("/api/growth").json()
    assert doc["note"] is None and doc["days"] == 1 and doc["charts"]
    assert all(c["exhaustion"] is None or "cannot tell" in c["exhaustion"]
               for c in doc["charts"])


def test_a_central_store_of_real_recorders_is_a_fleet(db: str, central: str) -> None:  # noqa: F811
    """Three real recorders of a real server write to one central PostgreSQL store; its
    fleet page lists the three, live, and each one's pages answer from its own samples."""
    names = ("east", "west", "north")
    recorders = [Background(db, central, FAST, name=n) for n in names]
    store = open_store(central, create=False)
    try:
        for rec in recorders:
            rec.__enter__()
        for rec in recorders:
            rec.wait_frames(3)
        with TestClient(create_fleet_app(store)) as client:
            rows: list[dict[str, Any]] = client.get("/api/fleet").json()["recordings"]
            assert sorted(r["name"] for r in rows) == sorted(names)
            assert all(r["live"] and r["last_sample"] for r in rows)
            page = client.get("/")
            assert sorted(re.findall(r'data-recording="([^"]+)"', page.text)) == sorted(names)
            for name in names:
                timeline = client.get(f"/r/{name}/api/timeline", params={"width": 50}).json()
                assert timeline["name"] == name
        for rec in recorders:
            rec.__exit__(None, None, None)
        rows = [fleet_json.row_document(r) for r in rank(store)]
        assert not any(r["live"] for r in rows)  # the recorders' locks are released
    finally:
        for rec in recorders:
            if rec.thread.is_alive():
                rec.__exit__(None, None, None)
        store.close()

