"""`pgcrisis incident` around a live fault: the file collects triage's root findings, the
actions come from the journal, the status update is for customers (no SQL), the post-mortem
names the root cause, the action taken and the time to resolve."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from pgcrisis.cli.main import cli
from tests.record_helpers import FAST, Background
from tests.scenarios.locks import IdleTransactionChain


@pytest.fixture(autouse=True)
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PGCRISIS_JOURNAL", str(tmp_path / "journal.jsonl"))
    monkeypatch.setenv("PGCRISIS_INCIDENT_DIR", str(tmp_path / "incidents"))
    return tmp_path


def run(*args: str, answers: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=answers)
    return result.exit_code, result.stdout, result.stderr


SQL_WORDS = re.compile(r"\b(SELECT|ALTER|ROLLBACK|pg_\w+|cron\.)", re.I)


def test_an_incident_from_start_to_close_around_a_lock_chain(db: str, dirs: Path) -> None:
    """Start, triage (root finding recorded), a customer update with no SQL and no internal
    names, mitigate --apply (answered y), close; the post-mortem names the root cause, the
    action taken and the time to resolve, and keeps the lasting fix as an action item."""
    code, out, _ = run("incident", "start", "Checkout hangs", "--since", "2020-01-01T00:00Z")
    assert code == 0 and "opened" in out
    with IdleTransactionChain(db, readers=2) as lab:
        assert run("triage", db)[0] in (1, 2)
        code, update, _ = run("incident", "status", "--state", "identified", "--impact",
                              "major", "--next", "30m")
        assert code == 0
        code, out, _ = run("incident", "note", "the billing worker left a transaction open")
        assert code == 0 and "noted at" in out
        code, out, err = run("mitigate", db, "--apply", answers="y\nq\n")
        assert code == 0, out + err
    code, out, _ = run("incident", "close")
    assert code == 0 and "closed at" in out
    report = dirs / "pm.md"
    code, out, _ = run("incident", "postmortem", "--output", str(report))
    assert code == 0
    pm = report.read_text()

    assert "Identified" in update and "Major" in update and "Next update:" in update
    assert "hang" in update  # what users notice, in plain words
    assert not SQL_WORDS.search(update), update
    assert str(lab.root_pid) not in update and "blocking-lock" not in update

    root_cause = pm.split("## Root causes", 1)[1].split("##", 1)[0]
    assert f"pid {lab.root_pid} blocks" in root_cause and "blocking-lock" in root_cause
    resolution = pm.split("## Resolution", 1)[1].split("## Timeline", 1)[0]
    assert f"terminate-pid-{lab.root_pid}" in resolution
    assert f"pg_terminate_backend({lab.root_pid})" in resolution
    assert re.search(r"Time to resolve: \d+ h \d+ min", pm)  # began 2020-01-01
    assert "note: the billing worker" in pm
    items = pm.split("## Action items", 1)[1]
    assert "idle_in_transaction_session_timeout" in items or "fix the client" in items
    events = [json.loads(line)["event"]
              for line in next((dirs / "incidents").glob("*.jsonl")).read_text().splitlines()]
    assert events[0] == "started" and events[-1] == "closed"
    assert events.count("triage") >= 3  # triage, mitigate before and after applying


def test_a_recorded_incident_has_before_and_after_figures(db: str, dirs: Path) -> None:
    """With a recording that covers the incident, the post-mortem shows the lock waiters
    measured before the mitigation and after it, split at the action applied."""
    store = str(dirs / "recording.sqlite")
    with Background(db, store, replace(FAST, interval_s=0.2)) as rec:
        assert run("incident", "start", "Orders time out")[0] == 0
        with IdleTransactionChain(db, readers=3):
            rec.wait_frames(15)
            code, out, err = run("mitigate", db, "--apply", "--yes")
            assert code == 0, out + err
        rec.wait_frames(15)
        assert run("incident", "close")[0] == 0
    code, pm, err = run("incident", "postmortem", "--store", store)
    assert code == 0, err
    figures = pm.split("Before and after the mitigation at", 1)[1].split("##", 1)[0]
    waiters = next(line for line in figures.splitlines() if line.startswith("| lock waiters"))
    before, after = (cell.strip() for cell in waiters.split("|")[2:4])
    assert int(before.split(" / ")[0]) >= 4  # the ALTER and three readers
    assert after == "0 / 0"


@pytest.mark.parametrize(("args", "says"), [
    (("note", "hello"), "no incident is open"),
    (("close",), "no incident is open"),
    (("status", "--state", "fixed"), "not one of"),
    (("start", "x", "--since", "yesterday"), "is not a time"),
    (("start", "x", "--since", "2999-01-01T09:02Z"), "is in the future"),
    (("postmortem",), "no incident in"),
])
def test_incident_bad_input_is_one_line_and_exit_3(args: tuple[str, ...], says: str) -> None:
    """Mistakes are one line, exit 3."""
    code, out, err = run("incident", *args)
    assert code == 3, out + err
    assert len(err.strip().splitlines()) == 1 and says in err, err


def test_one_incident_at_a_time() -> None:
    """A second start while one is open is refused in one line."""
    assert run("incident", "start", "first")[0] == 0
    code, _, err = run("incident", "start", "second")
    assert code == 3 and "still open" in err


def _zone_where_it_is_just_after_midnight() -> str:
    """A POSIX TZ (UTC+hh:mm, between -12 and +12 hours) in which it is now about 00:05."""
    now = datetime.now(UTC)
    since_midnight = now - now.replace(hour=0, minute=0, second=0, microsecond=0)
    offset = (timedelta(minutes=5) - since_midnight) % timedelta(days=1)
    if offset > timedelta(hours=12):
        offset -= timedelta(days=1)
    sign = "-" if offset >= timedelta(0) else "+"  # POSIX counts west of Greenwich positive
    minutes = abs(int(offset.total_seconds())) // 60
    return f"<{sign}{minutes // 60:02}{minutes % 60:02}>{sign}{minutes // 60:02}:{minutes % 60:02}"


def test_since_a_bare_time_just_after_midnight_means_yesterday(dirs: Path) -> None:
    """At 00:05, ``--since 09:02`` is yesterday's 09:02 (not nine hours ahead): the
    post-mortem's time to resolve is about 15 hours, not -9 h. The CLI runs in a zone where it
    is just after midnight now, whatever this machine's zone and clock."""
    zone = _zone_where_it_is_just_after_midnight()
    env = {**os.environ, "TZ": zone, "PGCRISIS_INCIDENT_DIR": str(dirs / "incidents"),
           "PGCRISIS_JOURNAL": str(dirs / "journal.jsonl")}

    def cli_run(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "pgcrisis", "incident", *args],
                              capture_output=True, text=True, env=env, timeout=60,
                              check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    opened = cli_run("start", "Checkout hangs", "--since", "09:02")
    assert re.search(r"opened at \d{4}-\d\d-\d\d 00:0\d:\d\d " + re.escape(zone[1:6]), opened)
    cli_run("close")
    pm = cli_run("postmortem")
    resolve = re.search(r"- Time to resolve: (-?\d+) h (-?\d+) min", pm)
    assert resolve is not None, pm
    assert (int(resolve[1]), int(resolve[2]) // 10) == (15, 0), resolve[0]  # 15 h 0x min
