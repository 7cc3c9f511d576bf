"""The demo end to end, small: every cause named by triage, every metric improved, and the
triage report on one screen of a 50-line, 120-column terminal with every cause's code on it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

#: the codes the demo checks triage names (one or two per cause of the incident)
SEED_CODES = ("jit-overhead", "refresh-spike", "matview-blocking-refresh",
              "matview-concurrent-unready", "job-too-frequent", "job-backlog", "lock-hoarder",
              "missing-index")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.mark.slow
def test_demo_names_every_cause_and_improves_every_metric(tmp_path: Path) -> None:
    # a terminal of 50 lines and 120 columns, as rich sees it (TTY_COMPATIBLE: not a pipe)
    env = {**os.environ, "PGCRISIS_JOURNAL": str(tmp_path / "journal.jsonl"),
           "TTY_COMPATIBLE": "1", "NO_COLOR": "1", "COLUMNS": "120", "LINES": "50"}
    proc = subprocess.run(
        [sys.executable, "-m", "pgcrisis", "demo", "--scale", "0.2"],
        capture_output=True, text=True, timeout=280, env=env, stdin=subprocess.DEVNULL, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "every cause named and every metric improved" in proc.stdout
    assert "Traceback" not in proc.stderr
    journal = (tmp_path / "journal.jsonl").read_text().splitlines()
    assert all('"ok": true' in line for line in journal)

    lines = _ANSI.sub("", proc.stdout).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("pgcrisis triage "))
    end = next(i for i, line in enumerate(lines) if "Measuring each symptom before" in line)
    report = "\n".join(lines[start:end]).strip()
    assert len(report.splitlines()) + 1 <= 50, report  # with the step line above it
    assert max(len(line) for line in report.splitlines()) <= 120
    for code in SEED_CODES:
        assert code in report, f"{code} is not on the first screen:\n{report}"
