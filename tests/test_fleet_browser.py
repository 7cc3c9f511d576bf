"""The fleet's page and the Growth page in a real browser (Playwright driving Debian's
chromium, never one Playwright downloads): a real ``serve`` process over a store of several
recordings opens on the fleet, and a recording drilled into draws its own pages; the Growth
page, served in process over a store that keeps a daily history, draws the forecast band."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from pgcrisis.embedded import free_port
from tests.test_fleet import NAMES, KeptHistory, _history, _record
from tests.test_serve_browser import _serve, _shot, _stop, browser, page  # noqa: F401


def test_the_fleet_page_lists_the_recordings_and_drills_into_one(
        tmp_path: Path, page: tuple[Page, list[str]]) -> None:  # noqa: F811
    p, _ = page
    _record(tmp_path / "fleet.db")
    served = _serve(tmp_path / "fleet.db")
    try:
        p.goto(served.url + "/")
        p.wait_for_selector("body[data-ready='fleet']")
        rows = p.locator("table.fleet tbody tr")
        assert rows.count() == len(NAMES)
        assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.recording)")) == sorted(NAMES)
        assert p.locator("table.fleet td.spark svg path").count() == len(NAMES)
        _shot(p, "fleet")
        p.get_by_role("link", name=NAMES[2], exact=True).click()
        p.wait_for_selector("body[data-ready='timeline']")
        assert p.locator("body").get_attribute("data-recording") == NAMES[2]
        assert p.locator(".chart svg").count() == 8
        assert "No sample in this range." not in p.locator("#charts").inner_text()
        p.locator("nav a[data-nav='growth']").click()
        p.wait_for_selector("body[data-ready='growth']")
        # the recorder rolled its minutes up: the days are drawn, too few to forecast
        assert p.locator("#growth-charts .chart").count() >= 1
        p.locator("a.fleet-link").click()
        p.wait_for_selector("body[data-ready='fleet']")
    finally:
        _stop(served)


@pytest.fixture
def growth_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A dashboard in this process over a store that keeps 60 days and a forecast of them."""
    import uvicorn

    from pgcrisis.serve.app import create_app

    _record(tmp_path / "fleet.db")
    store = KeptHistory(tmp_path / "fleet.db", _history())
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(store, NAMES[0]), port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the dashboard did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    store.close()


def test_the_growth_page_draws_the_forecast_band(
        growth_url: str, page: tuple[Page, list[str]]) -> None:  # noqa: F811
    p, _ = page
    p.goto(growth_url + "/growth")
    p.wait_for_selector("body[data-ready='growth']")
    charts = p.locator("#growth-charts .chart")
    assert charts.count() == 5
    xid = p.locator(".chart[data-key='xid']")
    assert xid.locator("path.band[data-line='interval']").get_attribute("d")
    assert xid.locator("path.line[data-line='median']").count() == 1
    assert "runs out" in xid.inner_text()
    assert p.locator("#growth-first").inner_text().startswith("Runs out first: transaction")
    _shot(p, "growth")
