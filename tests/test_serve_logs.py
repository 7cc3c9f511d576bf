"""``pgcrisis serve``'s pages of the server's log, in process over a store written by the
recording's own writer: the Errors page grouped and filtered by SQLSTATE, statement,
application, role, database and tag; the Slow page's statements and views by time, with
their p95 (from the stored histograms) and plans."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from pgcrisis.serve.app import create_app
from pgcrisis.store import LogErrorCount, LogSlowCount, histogram, to_us
from pgcrisis.store._sqlite import SqliteStore
from tests.record_helpers import T0, backend, frame

NAME = "app@db:5432"
M = to_us(T0)
MINUTE = 60_000_000
PLAN = "Index Scan using orders_pkey on orders  (cost=0.29..8.31 rows=1 width=4)"
RANGE = {"from": T0.isoformat(), "to": (T0 + timedelta(minutes=10)).isoformat(), "width": 20}


def _slow(minute: int, statement: str, tag: str, durations: list[float],
          plan: str = "") -> LogSlowCount:
    return LogSlowCount(M + minute * MINUTE, statement, None, tag, "shop-web", "web", "shop",
                        len(durations), sum(durations), max(durations),
                        histogram.of(durations), plan)


#: the report view's statement: 40 runs of 100 ms and 3 of 900 ms over two minutes
REPORT = [100.0] * 20, [100.0] * 20 + [900.0] * 3


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    store = SqliteStore(tmp_path / "s.db", create=True)
    writer = store.writer(NAME, source="test")
    for s in range(0, 600, 60):
        writer.append(frame(T0 + timedelta(seconds=s), {"activity": (backend(1),)}))

    def error(sqlstate: str, role: str, database: str, n: int) -> LogErrorCount:
        return LogErrorCount(M + MINUTE, "ERROR", sqlstate, "SELECT ?/?", None, "shop-web",
                             "sales", n, "division by zero", role, database)
    writer.log_errors([error("22012", "web", "shop", 3), error("22012", "report", "shop", 2),
                       error("57014", "web", "crm", 1)])
    writer.log_slow([
        _slow(1, "SELECT * FROM sales WHERE day = ?", "sales_report", REPORT[0]),
        _slow(2, "SELECT * FROM sales WHERE day = ?", "sales_report", REPORT[1], PLAN),
        _slow(2, "SELECT * FROM orders WHERE id = ?", "", [30.0, 50.0]),
    ])
    writer.close()
    with TestClient(create_app(store, NAME)) as c:
        yield c
    store.close()


def test_errors_are_grouped_by_role_and_database(client: TestClient) -> None:
    body = client.get("/api/errors", params=RANGE).json()
    assert body["total"] == 6
    assert {g["value"]: g["count"] for g in body["role"]} == {"web": 4, "report": 2}
    assert {g["value"]: g["count"] for g in body["database"]} == {"shop": 5, "crm": 1}
    assert {g["value"]: g["count"] for g in body["sqlstate"]} == {"22012": 5, "57014": 1}


@pytest.mark.parametrize(("filters", "total"), [
    ({"role": "web"}, 4), ({"database": "crm"}, 1), ({"role": "web", "database": "shop"}, 3),
    ({"sqlstate": "22012"}, 5), ({"tag": "sales"}, 6), ({"tag": ""}, 0),
    ({"statement": "SELECT ?/?"}, 6), ({"application": "other"}, 0),
])
def test_errors_are_filtered_by_each_grouping(client: TestClient, filters: dict[str, str],
                                              total: int) -> None:
    body = client.get("/api/errors", params={**RANGE, **filters}).json()
    assert body["total"] == total
    assert sum(g["count"] for g in body["sqlstate"]) == total


def test_slow_statements_and_views_by_time_with_p95_and_plan(client: TestClient) -> None:
    body = client.get("/api/slow", params=RANGE).json()
    assert body["count"] == 45
    first, second = body["statements"]
    assert (first["statement"], first["count"], first["total_ms"], first["max_ms"]) == (
        "SELECT * FROM sales WHERE day = ?", 43, 6700.0, 900.0)
    assert first["plan"] == PLAN and second["plan"] == ""
    # p95 of 40 x 100 ms and 3 x 900 ms: rank 41 is 900 ms (never above the longest)
    assert abs(first["p95_ms"] - 900.0) / 900.0 <= math.sqrt(histogram.RATIO) - 1
    views = {v["label"]: v for v in body["views"]}
    assert views["sales_report"]["total_ms"] == 6700.0 and views["(no tag)"]["count"] == 2
    assert [line["label"] for line in body["series"]] == ["(no tag)", "sales_report"]
    only = client.get("/api/slow", params={**RANGE, "tag": ""}).json()
    assert [s["statement"] for s in only["statements"]] == ["SELECT * FROM orders WHERE id = ?"]


def test_the_slow_page_is_in_the_navigation_and_says_how_to_analyse_a_plan(
        client: TestClient) -> None:
    page = client.get("/slow")
    assert page.status_code == 200
    assert 'href="/slow"' in page.text and 'id="slow-statements"' in page.text
    assert "pgcrisis explain" in page.text
    assert 'href="/slow"' in client.get("/errors").text
