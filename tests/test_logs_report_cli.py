"""``pgcrisis logs`` as a person runs it, on a log file a real server wrote: JSON that
follows the shipped schema, the terminal report, and one line with exit 3 for a file that is
no log. Skipped, saying why, while the log reader is a stub (it raises NotImplementedError)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import psycopg
import pytest

from pgcrisis.logs.read import LogReader
from tests.helpers import PgServer
from tests.test_logs_report import SCHEMA


def _reader_merged(path: Path) -> bool:
    try:
        next(iter(LogReader([str(path)])), None)
    except NotImplementedError:
        return False
    return True


@pytest.fixture
def jsonlog(pg: PgServer, db: str) -> Path:
    """The server's current jsonlog file, holding at least one error of ``db``."""
    if pg.embedded is None:
        pytest.skip("needs the suite's own server (its log directory), not PGCRISIS_TEST_DSN")
    with psycopg.connect(db, autocommit=True) as conn, \
            pytest.raises(psycopg.errors.DivisionByZero):
        conn.execute("SELECT 1/0")
    path = max(pg.embedded.log_dir.glob("*.json"), key=lambda p: p.stat().st_mtime)
    if not _reader_merged(path):
        pytest.skip("the log reader (pgcrisis.logs.read.LogReader) is not merged yet")
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pgcrisis", "logs", *args],
                          capture_output=True, text=True, timeout=120, check=False)


def test_json_of_a_real_log_follows_the_schema(jsonlog: Path) -> None:
    done = _run(str(jsonlog), "--format", "json")
    assert done.returncode in (0, 1, 2), done.stderr
    document = json.loads(done.stdout)
    jsonschema.validate(document, SCHEMA)
    assert document["source"]["format"] == "jsonlog"
    assert document["severities"]["ERROR"] >= 1
    assert any(e["sqlstate"] == "22012" for e in document["errors"])


def test_terminal_report_of_a_real_log(jsonlog: Path) -> None:
    done = _run(str(jsonlog), "--utc")
    assert done.returncode in (0, 1, 2), done.stderr
    assert "pgcrisis logs" in done.stdout and "22012" in done.stdout
    assert "Errors by SQLSTATE (UTC)" in done.stdout


def test_a_binary_file_is_one_line_and_exit_3(jsonlog: Path, tmp_path: Path) -> None:
    binary = tmp_path / "core.bin"
    binary.write_bytes(bytes(range(256)) * 64)
    done = _run(str(binary))
    assert done.returncode == 3, done.stdout
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("pgcrisis: ")
    assert "0 errors" not in done.stdout + done.stderr
