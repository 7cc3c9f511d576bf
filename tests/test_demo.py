"""The demo end to end, small: every cause named by triage, every metric improved."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_demo_names_every_cause_and_improves_every_metric(tmp_path: Path) -> None:
    env = {**os.environ, "PGCRISIS_JOURNAL": str(tmp_path / "journal.jsonl"), "COLUMNS": "160"}
    proc = subprocess.run(
        [sys.executable, "-m", "pgcrisis", "demo", "--scale", "0.2", "--quiet-report"],
        capture_output=True, text=True, timeout=280, env=env, stdin=subprocess.DEVNULL, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "every cause named and every metric improved" in proc.stdout
    assert "Traceback" not in proc.stderr
    journal = (tmp_path / "journal.jsonl").read_text().splitlines()
    assert journal, "the demo applies its remedies as journaled actions: none were journaled"
    assert all('"ok": true' in line for line in journal)
