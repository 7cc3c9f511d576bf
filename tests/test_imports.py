"""What a command loads is part of how fast it answers: ``triage --at`` on a recording must
answer in under a second (issue 10), and importing psycopg alone costs a third of that. So
judging a recording loads neither the database driver nor the SQL parser; the figures are
measured by ``bench/record_store.py``, this only keeps the imports from creeping back."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pgcrisis.store._sqlite import SqliteStore
from tests.record_synthetic import Load, write

START = datetime(2025, 2, 1, tzinfo=UTC)
HEAVY = ("psycopg", "pglast", "numpy", "textual", "starlette")

#: run the CLI in a fresh interpreter, then report which heavy packages it loaded
_PROBE = """
import contextlib, io, json, sys
from pgcrisis.cli.main import cli
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        cli(sys.argv[1:], prog_name="pgcrisis")
    except SystemExit as exc:
        code = exc.code
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))
ours = sorted(m for m in sys.modules if m.startswith("pgcrisis."))
print(json.dumps({"code": code, "loaded": loaded, "ours": ours, "out": out.getvalue()}))
""".replace("HEAVY", repr(HEAVY))


def _run(*argv: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", _PROBE, *argv], capture_output=True,
                          text=True, check=True)
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_triage_of_a_recording_loads_no_driver_and_no_parser(tmp_path: Path) -> None:
    """A moment and a window of a recording, in every format: findings come out, and neither
    psycopg nor pglast (nor any web or TUI package) was imported to get them."""
    path = tmp_path / "recording.db"
    store = SqliteStore(path, create=True)
    load = Load(START, sessions=60, tables=20, statements=20)
    writer = store.writer("shop", source="synthetic")
    write(writer, load, days=1 / 24, detail_hours=1, thinned_every_s=60)
    writer.close()
    store.close()
    at = (START + timedelta(minutes=30)).isoformat()
    end = (START + timedelta(minutes=50)).isoformat()
    for fmt in ("json", "terminal", "markdown"):
        result = _run("triage", "--store", str(path), "--at", at, "--format", fmt)
        assert result["code"] in (0, 1, 2), result
        assert result["loaded"] == [], f"--format {fmt} loaded {result['loaded']}"
    window = _run("triage", "--store", str(path), "--from", at, "--to", end, "--format", "json")
    assert window["code"] in (0, 1, 2), window
    assert window["loaded"] == []
    assert json.loads(str(window["out"]))["findings"], "the window's findings"


def test_the_version_loads_nothing_heavy() -> None:
    """``pgcrisis --version``: what every command pays before it starts its work."""
    result = _run("--version")
    assert result["code"] == 0
    assert result["loaded"] == []


def test_explaining_a_plan_loads_no_action_catalogue() -> None:
    """``explain`` on a small plan grades its tips on the findings' scale
    (``model/severity.py``) and loads nothing a finding carries: no action catalogue, no
    model of server health, no check (and nothing heavy)."""
    plan = Path(__file__).parent / "plans" / "inputs" / "analyze-costs-off.txt"
    result = _run("explain", str(plan))
    assert result["code"] == 0, result
    assert result["loaded"] == []
    ours = result["ours"]
    assert isinstance(ours, list) and "pgcrisis.plan" in ours
    unused = ("pgcrisis.actions", "pgcrisis.model.findings", "pgcrisis.model.health",
              "pgcrisis.checks")
    assert not [m for m in ours if str(m).startswith(unused)], ours
