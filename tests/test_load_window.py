"""The load window's plumbing on a real server: it runs on a second safe session while the
other probes run, falls back to the first where a second cannot be opened, says what a role
without pg_read_all_stats cannot see, is off with ``--sample 0``; a recording's frame
profiles; the CPU count and where it comes from."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgcrisis.cli.main import cli
from pgcrisis.collect.collector import collect
from pgcrisis.collect.cpus import ASK, _channel, local
from pgcrisis.collect.load_frames import FRAME_SAMPLES, FrameLoad
from pgcrisis.collect.session import connect
from pgcrisis.config import load
from pgcrisis.dsn import Target
from pgcrisis.errors import ConfigError, ConnectError
from pgcrisis.lab.scenario import Worker
from pgcrisis.model.parts import FAST_PARTS, RECORDED_PARTS
from pgcrisis.store import open_store
from tests.helpers import PgServer, login_role, triage
from tests.record_helpers import frame_of


def _pgcrisis_sessions(dsn: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity"
                           " WHERE application_name = 'pgcrisis'").fetchone()
    return int(row[0]) if row else 0


def test_the_window_runs_on_a_second_session_while_the_probes_run(db: str) -> None:
    most = [0]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            most[0] = max(most[0], _pgcrisis_sessions(db))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    t0 = time.monotonic()
    try:
        report = triage(db, sample_s=1.5)
    finally:
        done.set()
        watcher.join(5)
    took = time.monotonic() - t0
    profile = report.snapshot.load
    assert profile is not None and profile.seconds >= 1.5 and profile.samples >= 7
    assert most[0] == 2, "the window's session beside the probes' one"
    assert not any(h.what == "overlap" for h in profile.hidden)
    assert report.snapshot.sample is not None  # runaway-client's rates, same readings
    assert took < 1.5 + 3.0  # the probes ran meanwhile (their own time is well under 3 s)


def test_without_a_second_session_the_window_runs_after_the_probes_and_says_so(
        db: str) -> None:
    def refused() -> Any:
        raise ConnectError("cannot connect to the test server: no free connection slots")

    with connect(Target(db, "test")) as conn:
        snapshot = collect(conn, sample_s=0.4, second_session=refused)
    profile = snapshot.load
    assert profile is not None and profile.samples >= 2
    [overlap] = [h for h in profile.hidden if h.what == "overlap"]
    assert "no free connection slots" in overlap.reason


def test_sample_0_takes_no_window_and_the_load_checks_say_why(db: str) -> None:
    report = triage(db, sample_s=0)
    assert report.snapshot.load is None and report.snapshot.sample is None
    skipped = {s.check: s.reason for s in report.results.skipped}
    assert skipped["cpu-saturation"] == skipped["io-saturation"] == (
        "no load window was taken (--sample 0)")


@contextlib.contextmanager
def _busy(dsn: str) -> Iterator[Worker]:
    def sleeper(conn: psycopg.Connection[Any]) -> None:
        conn.execute("SELECT pg_sleep(30)")

    worker = Worker(dsn, sleeper, name="busy", application_name="busy").start_and_wait()
    try:
        yield worker
    finally:
        worker.cancel()
        worker.join(10)


def test_a_role_without_pg_read_all_stats_is_told_what_it_cannot_see(db: str) -> None:
    with login_role(db, "watcher") as watcher, _busy(db):
        report = triage(watcher, sample_s=0.6)
    profile = report.snapshot.load
    assert profile is not None
    [hidden] = [h for h in profile.hidden if h.what == "other roles"]
    assert "lacks pg_read_all_stats" in hidden.reason and "GRANT pg_monitor" in hidden.remedy
    assert all(t.hidden >= 1 for t in profile.ticks)  # the busy session, state unseen
    assert profile.active == 0


def test_a_recordings_frames_carry_the_profile_of_their_last_samples(db: str,
                                                                     tmp_path: Path) -> None:
    frames = FrameLoad()
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    with _busy(db), connect(Target(db, "test")) as conn:
        full = collect(conn, parts=RECORDED_PARTS, frames=frames)
        fast = [collect(conn, parts=FAST_PARTS, server=full.server, frames=frames)
                for _ in range(FRAME_SAMPLES + 1)]
        again = collect(conn, parts=RECORDED_PARTS, frames=frames)
    first, last = full.load, fast[-1].load
    assert first is not None and first.samples == 1 and first.source == "recording"
    assert first.statements_s == 0  # nothing to difference yet
    assert last is not None and last.samples == FRAME_SAMPLES and last.seconds > 0
    assert last.rates is not None and last.rates.commits is not None
    assert last.active >= 1  # the sleeper, active in every sample
    assert again.load is not None and again.load.statements_s > 0
    store = open_store(str(tmp_path / "rec.db"), create=True)
    try:
        writer = store.writer("t", source="test")
        writer.append(frame_of(again))
        writer.close()
        back = store.snapshot_at("t", again.taken_at)
    finally:
        store.close()
    assert back is not None and back.load == again.load


def test_the_test_servers_cpus_are_this_machines_and_a_remote_ones_are_not_known(
        pg: PgServer, db: str) -> None:
    report = triage(db, sample_s=0.2)
    profile = report.snapshot.load
    assert profile is not None
    if "PGCRISIS_TEST_DSN" not in __import__("os").environ:
        assert profile.cpus.known and "runs here" in profile.cpus.how

    class Info:
        host = "db.example.com"

    class Conn:
        info = Info()

    remote = local(Conn(), 12345, 0.0)
    assert remote.cpus is None and ASK in remote.how
    assert _channel("/var/run/postgresql") and _channel("127.0.0.1") and _channel("::1")
    assert _channel("localhost") and _channel("10.1.2.3") is None


def test_cpus_come_from_the_flag_then_the_config_file(db: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pgcrisis.toml").write_text("[server]\ncpus = 6\n")
    monkeypatch.chdir(tmp_path)
    assert load().cpus == 6

    def cpus_of(*args: str) -> tuple[Any, str]:
        result = CliRunner().invoke(cli, ["triage", db, "--format", "json", "--sample",
                                          "0.3", *args])
        document = json.loads(result.stdout)
        return document["load"]["cpus"], document["load"]["cpus_known_from"]

    assert cpus_of() == (6, f"6 CPUs as given by {tmp_path / 'pgcrisis.toml'} ([server] cpus)")
    assert cpus_of("--cpus", "3") == (3, "3 CPUs as given by --cpus")


@pytest.mark.parametrize("text", ["[server]\ncpus = 0\n", "[server]\ncpus = 'four'\n",
                                  "[server]\ncpus = true\n", "[server]\ncores = 4\n"])
def test_a_bad_cpu_count_in_the_config_file_is_one_line(tmp_path: Path, text: str) -> None:
    path = tmp_path / "pgcrisis.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"\[server\]"):
        load(path)

