"""``pgcrisis triage --log``: the report on a real server's log (tests/scenarios/log_events)
has the triage contract's shape, its exit status, the window asked, and says it judges a
log; a DSN, a store or a moment with --log is one clear line and exit status 3."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta

import jsonschema
import pytest
from click.testing import CliRunner
from rich.console import Console

from pgcrisis.cli.main import cli
from pgcrisis.errors import ConfigError
from pgcrisis.logs.events import classify
from pgcrisis.logs.findings import findings_of
from pgcrisis.logs.read import LogReader
from pgcrisis.logs.service import report_of, window
from pgcrisis.presentation import triage_json, triage_markdown, triage_terminal
from tests.helpers import TRIAGE_SCHEMA
from tests.scenarios.log_events import Observed, observed


@pytest.fixture(scope="module")
def seen() -> Observed:
    return observed()


def _files(seen: Observed) -> list[str]:
    return sorted({r.file for r in seen.csv})


def test_the_report_of_a_log_is_the_triage_contract(seen: Observed) -> None:
    report = report_of(seen.csv, _files(seen), fmt="csvlog")
    document = json.loads(triage_json.render(report))
    jsonschema.validate(document, TRIAGE_SCHEMA)
    assert report.exit_code == 2  # a crash, refusals: critical
    codes = [f["code"] for f in document["findings"]]
    assert codes[0] in ("server-crash", "connection-saturation", "lock-hoarder")
    expected = findings_of([e for e in map(classify, seen.csv) if e is not None])
    assert sorted(codes) == sorted(f.code for f in expected)
    assert all("log" in f["evidence"] for f in document["findings"])
    assert report.recording is not None and ".csv" in report.recording.line
    assert "csvlog" in report.recording.line
    out = io.StringIO()
    triage_terminal.render(report, Console(file=out, width=120), panels=None)
    assert "server-crash" in out.getvalue() and report.recording.line[:10] in out.getvalue()
    assert "server-crash" in triage_markdown.render(report)


def test_a_window_judges_only_its_records(seen: Observed) -> None:
    full = report_of(seen.csv, _files(seen))
    crash = full.by_code("server-crash")[0].evidence["log"]
    start = datetime.fromisoformat(crash["first"])
    end = datetime.fromisoformat(crash["last"])
    report = report_of(seen.csv, _files(seen), start=start, end=end)
    assert {f.code for f in report.findings} == {"server-crash"}
    assert report.recording is not None
    assert (report.recording.start, report.recording.end) == (start, end)
    with pytest.raises(ConfigError, match="covers"):
        report_of(seen.csv, _files(seen), start=end + timedelta(days=1),
                  end=end + timedelta(days=2))


def test_from_and_to_read_as_everywhere_else() -> None:
    start, end = window("2026-01-06T09:00:00+00:00", "2026-01-06T09:30:00Z")
    assert start is not None and end is not None and end - start == timedelta(minutes=30)
    assert window(None, "09:14")[1] is not None
    with pytest.raises(ConfigError, match="must be after"):
        window("2026-01-06T09:30:00Z", "2026-01-06T09:00:00Z")


@pytest.mark.parametrize(("extra", "said"), [
    (["host=localhost"], "drop the DSN"),
    (["--store", "x.db"], "drop --store"),
    (["--at", "09:14"], "not --at"),
])
def test_log_with_a_server_a_store_or_a_moment_is_refused(extra: list[str], said: str) -> None:
    result = CliRunner().invoke(cli, ["triage", "--log", "postgresql.csv", *extra])
    assert result.exit_code == 3
    assert said in result.stderr and len(result.stderr.strip().splitlines()) == 1


def _reader_works(seen: Observed) -> bool:
    try:
        next(iter(LogReader([str(seen.log_dir)])), None)
    except NotImplementedError:
        return False
    return True


def test_triage_log_from_the_command_line(seen: Observed) -> None:
    if not _reader_works(seen):
        pytest.skip("the log reader (pgcrisis.logs.read.LogReader) is not in this build yet")
    result = CliRunner().invoke(cli, ["triage", "--log", str(seen.log_dir), "--format",
                                      "json"])
    document = json.loads(result.stdout)
    jsonschema.validate(document, TRIAGE_SCHEMA)
    assert result.exit_code == 2
    codes = {f["code"] for f in document["findings"]}
    assert {"blocking-lock", "deadlock", "server-crash", "connection-saturation"} <= codes
