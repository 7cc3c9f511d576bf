"""``pgcrisis serve`` in a real browser (Playwright driving Debian's chromium, never one
Playwright downloads) against a real ``serve`` process on a free port, over a store recorded
from a real server during a lock chain, a refresh wave and errors of tagged statements."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import psycopg
import pytest

from pgcrisis.embedded import free_port
from pgcrisis.lab.scenario import admin_connect
from pgcrisis.logs.follow import LogFollower, follow
from pgcrisis.store import open_store
from tests.helpers import PgServer
from tests.scenarios.cache import create_slow_view
from tests.scenarios.locks import IdleTransactionChain
from tests.test_record import Background, _refresh

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
CHROMIUM = shutil.which("chromium")
if CHROMIUM is None:
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is required under CI (.ci/run installs it)", pytrace=False)
    pytest.skip("no chromium on this machine (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Browser, Page, Route, sync_playwright  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
TAGS = {"customer_report": 3, "orders_list": 2}


@dataclass
class Recorded:
    path: Path
    root_pid: int
    caused: dict[str, int]


def _errors(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True, application_name="shop") as conn:
        for tag, n in TAGS.items():
            for _ in range(n):
                with pytest.raises(psycopg.errors.DivisionByZero):
                    conn.execute(f"SELECT 1/0 /* view='{tag}' */".encode())


@pytest.fixture(scope="module")
def recorded(pg: PgServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    if pg.embedded is None:
        pytest.skip("the errors need the test server's own log (not PGCRISIS_TEST_DSN)")
    name = "t_serve_browser"
    with psycopg.connect(pg.dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    db = pg.dsn_for(name)
    with admin_connect(db) as conn:
        for i in range(4):
            create_slow_view(conn, f"mv_wave_{i}", seconds=1.5, rows=10)
    path = tmp_path_factory.mktemp("serve") / "recording.db"
    stop = threading.Event()
    with Background(db, str(path)) as rec:
        thread = follow(LogFollower(pg.embedded.log_dir, "jsonlog"), rec.writer,
                        stop, every_s=0.3)
        rec.wait_frames(4)
        with IdleTransactionChain(db, readers=2) as chain:
            rec.wait_frames(8)
            root = chain.root_pid
        rec.wait_frames(4)
        waves = [threading.Thread(target=_refresh, args=(db, f"mv_wave_{i}")) for i in range(4)]
        for t in waves:
            t.start()
        for t in waves:
            t.join()
        _errors(db)
        rec.wait_frames(6)
        stop.set()
        thread.join(10)
    yield Recorded(path, root, TAGS)
    with psycopg.connect(pg.dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Served:
    url: str
    process: subprocess.Popen[str]


def _serve(path: Path, *extra: str, host: str = "127.0.0.1") -> Served:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "pgcrisis", "serve", "--store", str(path),
                                "--host", host, "--port", str(port), *extra],
                               stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    import urllib.error
    import urllib.request
    while True:
        try:
            urllib.request.urlopen(url + "/static/app.css", timeout=2)
            break
        except urllib.error.HTTPError:
            break  # answering (a 401 with a token)
        except OSError:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.2)
    return Served(url, process)


def _stop(served: Served) -> None:
    served.process.terminate()
    served.process.communicate(timeout=10)  # and its stderr pipe closed


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    """A page that refuses, and lists, every request to another host."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    foreign: list[str] = []

    def guard(route: Route) -> None:
        host = urlparse(route.request.url).hostname
        if host not in ("127.0.0.1", "localhost") and not route.request.url.startswith("data:"):
            foreign.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", guard)
    pg_page = context.new_page()
    yield pg_page, foreign
    context.close()
    assert foreign == [], f"pages loaded from another host: {foreign}"


def _shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / f"serve-{name}.png"
    page.screenshot(path=str(out), full_page=True)
    return out


def _range(path: Path) -> str:
    store = open_store(str(path), create=False)
    try:
        cover = store.coverage(store.names()[0])
    finally:
        store.close()
    assert cover is not None
    start, end = cover[0] - timedelta(seconds=5), cover[1] + timedelta(seconds=5)
    z = "+00:00"
    return f"from={start.isoformat().replace(z, 'Z')}&to={end.isoformat().replace(z, 'Z')}"


@pytest.mark.slow
def test_the_dashboard_in_a_browser(recorded: Recorded, page: tuple[Page, list[str]]) -> None:
    p, _ = page
    served = _serve(recorded.path)
    try:
        q = _range(recorded.path)
        p.goto(f"{served.url}/timeline?{q}")
        p.wait_for_selector("body[data-ready='timeline']")
        assert p.locator(".chart svg").count() == 8  # the load's, then the lines'
        waiting = p.locator(".chart[data-key='waiting'] svg")
        peak_x = waiting.get_attribute("data-peak-x")
        assert peak_x is not None, "no lock waiters drawn"
        box = waiting.bounding_box()
        assert box is not None
        _shot(p, "timeline")
        # a click on the spike: triage of that moment names the root of the chain
        x = box["x"] + (int(peak_x) + 0.5) * box["width"] / int(
            waiting.get_attribute("width") or box["width"])
        with p.expect_response(lambda r: "/api/triage" in r.url, timeout=20_000) as answer:
            p.mouse.click(x, box["y"] + box["height"] / 2)
        judged = answer.value.json()
        codes = [f["code"] for f in judged["findings"]]
        assert "blocking-lock" in codes, (answer.value.url, judged["started_at"], codes)
        lock = p.locator("#triage article[data-code='blocking-lock']").first
        lock.wait_for(timeout=20_000)
        assert lock.locator(f"li[data-pid='{recorded.root_pid}']").count() >= 1
        _shot(p, "timeline-click")
        # a drag selects a window: its findings are listed
        p.mouse.move(box["x"] + 5, box["y"] + 40)
        p.mouse.down()
        p.mouse.move(box["x"] + box["width"] / 2, box["y"] + 40, steps=5)
        p.mouse.move(box["x"] + box["width"] - 5, box["y"] + 40, steps=5)
        p.mouse.up()
        p.wait_for_selector("#triage h2:has-text('Window')", timeout=30_000)
        assert p.locator("body").get_attribute("data-selection")
        assert p.locator("#triage article[data-code='refresh-wave']").count() >= 1
        _shot(p, "timeline-window")
        # the errors page counts the errors the test caused, per tag
        p.goto(f"{served.url}/errors?{q}")
        p.wait_for_selector("body[data-ready='errors']")
        for tag, n in recorded.caused.items():
            row = p.locator(f"#errors-tag tr[data-key='{tag}'] td.count")
            assert row.inner_text() == str(n)
        _shot(p, "errors")
        for kind in ("statements", "views", "jobs"):
            p.goto(f"{served.url}/{kind}?{q}")
            p.wait_for_selector(f"body[data-ready='{kind}']")
            _shot(p, kind)
    finally:
        _stop(served)


def test_bound_elsewhere_a_request_without_the_token_is_refused(
        recorded: Recorded, page: tuple[Page, list[str]]) -> None:
    p, _ = page
    served = _serve(recorded.path, "--token", "s3cret", host="0.0.0.0")
    try:
        refused: Any = p.goto(f"{served.url}/timeline")
        assert refused is not None and refused.status == 401
        allowed = p.goto(f"{served.url}/timeline?token=s3cret")
        assert allowed is not None and allowed.status == 200
        p.wait_for_selector("body[data-ready='timeline']")
        again = p.goto(f"{served.url}/api/recordings")  # the cookie carries it now
        assert again is not None and again.status == 200
    finally:
        _stop(served)


#: a zone with a half-hour offset: a label written in UTC, or in the machine's zone, differs
ZONE = "Australia/Adelaide"


def test_a_short_recording_opens_whole_labelled_in_the_zone_the_page_names(
        recorded: Recorded, browser: Browser) -> None:
    """No range asked: the recording (some 25 s) fills the charts, not a sliver at the end of
    an hour; the axis reads 24-hour times with seconds, each once, in the zone the page names;
    the load is stacked by wait class; and "live" is not shown: the recorder has stopped."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, timezone_id=ZONE,
                                  locale="en-US")  # the US locale would say 12:13 AM
    p = context.new_page()
    served = _serve(recorded.path)
    try:
        p.goto(f"{served.url}/timeline")
        p.wait_for_selector("body[data-ready='timeline']")
        assert "(the whole recording)" in p.locator("#shown-range").inner_text()
        assert p.locator("#zone").inner_text().startswith(f"times in {ZONE} (GMT+")
        assert p.locator("#live").is_hidden()
        ticks = p.locator(".chart[data-key='waiting'] text.tick")
        texts = ticks.all_text_contents()
        assert len(texts) >= 3 and len(set(texts)) == len(texts), texts
        zone = ZoneInfo(ZONE)
        for i, text in enumerate(texts):
            t = int(ticks.nth(i).get_attribute("data-t") or 0)
            assert text == datetime.fromtimestamp(t / 1000, zone).strftime("%H:%M:%S"), texts
        store = open_store(str(recorded.path), create=False)
        try:
            first, last = store.coverage(store.names()[0]) or (None, None)
        finally:
            store.close()
        assert first is not None and last is not None
        t0 = int(ticks.nth(0).get_attribute("data-t") or 0) / 1000
        # the first label is at the recording's start, not an hour before its end
        assert 0 <= t0 - first.timestamp() < (last - first).total_seconds() / 2
        load = p.locator(".chart[data-key='load']")
        assert load.locator("path.class[data-class='CPU']").count() == 1
        assert load.locator("h3").inner_text().startswith("Active sessions by wait class")
        # the CPU count (this machine's: the test server runs here) a line across the
        # samples, not a dot at each (the recording fills the chart: over half its width)
        line = load.locator("path.cpus")
        assert line.get_attribute("data-cpus") == str(os.cpu_count())
        drawn = line.evaluate("e => e.getTotalLength() / e.ownerSVGElement.width.baseVal.value")
        assert drawn > 0.5, drawn
        busy = p.locator(".chart[data-key='busy'] h3").inner_text()
        assert "ms/min" not in busy
        _shot(p, "timeline-whole")
    finally:
        _stop(served)
        context.close()


def test_the_slow_page_lists_statements_by_time_and_opens_a_plan(
        tmp_path: Path, page: tuple[Page, list[str]]) -> None:
    """The Slow page over the slow statements a log gave (written by the recording's own
    writer), and the Errors page filtered by a click on a role."""
    from pgcrisis.store import LogErrorCount, LogSlowCount, histogram, to_us
    from tests.record_helpers import T0, backend, frame

    plan = "Seq Scan on sales  (cost=0.00..4.50 rows=250 width=8)\n  Filter: (day = $1)"
    path = tmp_path / "slow.db"
    store = open_store(str(path), create=True)
    writer = store.writer("shop", source="test")
    for s in range(0, 300, 30):
        writer.append(frame(T0 + timedelta(seconds=s), {"activity": (backend(1),)}))
    t = to_us(T0) + 60_000_000
    writer.log_slow([
        LogSlowCount(t, "SELECT * FROM sales WHERE day = ?", None, "sales_report", "shop",
                     "web", "shop", 3, 2400.0, 1200.0, histogram.of([600.0, 600.0, 1200.0]),
                     plan),
        LogSlowCount(t, "SELECT * FROM orders WHERE id = ?", None, "", "shop", "web", "shop",
                     1, 150.0, 150.0, histogram.of([150.0]))])
    writer.log_errors([LogErrorCount(t, "ERROR", "22012", "SELECT ?/?", None, "shop", "",
                                     n, "division by zero", role, "shop")
                       for role, n in (("web", 2), ("report", 5))])
    writer.close()
    store.close()
    p, _ = page
    served = _serve(path)
    try:
        q = _range(path)
        p.goto(f"{served.url}/slow?{q}")
        p.wait_for_selector("body[data-ready='slow']")
        assert p.locator("nav a[data-nav='slow']").get_attribute("class") == "here"
        rows = p.locator("#slow-statements tbody tr")
        assert rows.count() == 2
        assert rows.nth(0).get_attribute("data-key") == "SELECT * FROM sales WHERE day = ?"
        assert p.locator("#slow-chart svg").count() == 1
        rows.nth(0).locator("summary").click()
        assert rows.nth(0).locator("pre.plan").inner_text() == plan
        _shot(p, "slow")
        p.goto(f"{served.url}/errors?{q}")
        p.wait_for_selector("body[data-ready='errors']")
        assert p.locator("#error-total").inner_text().startswith("7 error(s)")
        p.locator("#errors-role tr[data-key='report']").click()
        p.wait_for_url("**role=report**")
        p.wait_for_selector("body[data-ready='errors']")
        assert p.locator("#error-total").inner_text().startswith("5 error(s)")
        assert p.locator("#log-filters button[data-filter='role']").count() == 1
    finally:
        _stop(served)
