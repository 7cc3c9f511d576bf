"""Ctrl-C during the demo stops the embedded server cleanly: no postmaster left behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import PgServer


@pytest.mark.slow
def test_ctrl_c_stops_the_embedded_server(pg: PgServer, tmp_path: Path) -> None:
    env = {**os.environ, "PGCRISIS_JOURNAL": str(tmp_path / "journal.jsonl"), "COLUMNS": "200"}
    kind = pg.embedded.binaries.source if pg.embedded and pg.embedded.binaries else "auto"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pgcrisis", "demo", "--scale", "0.2", "--quiet-report",
         "--server", kind],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        directory = None
        seen: list[str] = []
        deadline = time.monotonic() + 60
        for line in proc.stdout:
            seen.append(line)
            found = re.search(r"data in (\S+)", line)
            if found:
                directory = Path(found[1])
            if "Building the order-management app" in line or time.monotonic() > deadline:
                break
        assert directory is not None, "".join(seen)
        assert (directory / "data" / "postmaster.pid").exists()
        pid_line = (directory / "data" / "postmaster.pid").read_text().splitlines()[0]
        postmaster = int(pid_line)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:  # a failed assertion above must not leave the demo running
            proc.kill()
            proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "pgcrisis: interrupted" in err
    assert "Traceback" not in err
    with pytest.raises(ProcessLookupError):
        os.kill(postmaster, 0)
    assert not directory.exists(), "the temporary cluster directory is removed"
