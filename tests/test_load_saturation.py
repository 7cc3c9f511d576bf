"""CPU and I/O saturation produced for real, named by triage live and over a recording.

Each test makes the load with real clients (tests/scenarios/load.py: four clients per core
running a CPU-bound join; sixteen clients reading random rows of a table four times larger
than shared_buffers, its files evicted from the kernel's page cache all along), checks that
the server really shows it (the scenario's self-check samples pg_stat_activity), then:

- live: ``triage`` with its default load window names that kind of saturation first, with the
  statement that drives it (its queryid and text) and the client running it;
- recorded: ``pgcrisis record`` runs during the load, and ``triage --from/--to`` over that
  window names it too, with the same statement.

Each takes 10-25 s on the shared 2-core machine (the I/O one builds a 300 MB table).
"""

from __future__ import annotations

import psycopg
import pytest

from pgcrisis.judge import TriageReport
from pgcrisis.model.evidence import of
from pgcrisis.model.evidence_saturation import CpuSaturationEvidence, IoSaturationEvidence
from pgcrisis.model.findings import Finding, Severity
from pgcrisis.model.load import DEFAULT_WINDOW_S
from tests.helpers import PgServer, triage
from tests.scenarios.load import CpuSaturation, IoSaturation, recorded_window

pytestmark = pytest.mark.needs("pg_stat_statements")


def _queryid(dsn: str, text: str) -> int:
    """pg_stat_statements' queryid of the statement whose text starts like ``text``, in this
    database (the cluster is shared with other tests)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT queryid FROM pg_stat_statements WHERE query LIKE %s"
                           " AND dbid = (SELECT oid FROM pg_database"
                           "             WHERE datname = current_database())"
                           " ORDER BY calls DESC LIMIT 1", (text + "%",)).fetchone()
    assert row is not None, f"pg_stat_statements has no statement like {text!r}"
    return int(row[0])


def _first_loud(report: TriageReport) -> Finding:
    loud = [f for f in report.findings if f.severity is not Severity.INFO]
    assert loud, [f.title for f in report.findings]
    return loud[0]


def test_cpu_saturation_is_named_first_with_its_statement_live_and_recorded(
        pg: PgServer, db: str, tmp_path: object) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    with CpuSaturation(db) as load:
        live = triage(db, sample_s=DEFAULT_WINDOW_S)
        profile = live.snapshot.load
        assert profile is not None and profile.samples >= 5
        if not profile.cpus.known:
            pytest.skip(f"the test server's CPU count is not known: {profile.cpus.how}")
        assert profile.on_cpu > profile.cpus.cpus  # type: ignore[operator]
        queryid = _queryid(db, "SELECT count(*) FROM generate_series(")
        first = _first_loud(live)
        assert first.code == "cpu-saturation", [f.title for f in live.findings]
        ev = of(first.evidence, CpuSaturationEvidence)
        assert ev is not None and ev.times_cores is not None and ev.times_cores >= 1.5
        assert ev.statements and ev.statements[0].queryid == queryid
        assert first.objects[0].kind == "query" and first.objects[0].queryid == queryid
        assert "generate_series" in (first.objects[0].name or "")
        assert any(o.kind == "client" and o.application_name == load.application_name
                   for o in first.objects)
        recorded = recorded_window(db, str(tmp_path / "cpu.db"), 10, after=2)
    saturated = recorded.by_code("cpu-saturation")
    assert saturated, [f.title for f in recorded.findings]
    assert any(o.kind == "query" and o.queryid == queryid for f in saturated for o in f.objects)
    assert all("started_at" in f.evidence for f in saturated)


def test_io_saturation_is_named_first_with_its_table_and_statement_live_and_recorded(
        pg: PgServer, db: str, tmp_path: object) -> None:
    if "PGCRISIS_TEST_DSN" in __import__("os").environ:
        pytest.skip("evicting the table from the page cache needs the test suite's own cluster")
    with IoSaturation(db) as load:
        # the readers' misses pile up once their first scans have run: a window taken while
        # a busy machine still serves them from the page cache sees only their calls
        for _ in range(4):
            live = triage(db, sample_s=DEFAULT_WINDOW_S)
            first = _first_loud(live)
            if first.code == "io-saturation":
                break
        assert first.code == "io-saturation", [f.title for f in live.findings]
        ev = of(first.evidence, IoSaturationEvidence)
        assert ev is not None and ev.data_io_sessions >= 2 and ev.io_share >= 0.3
        assert ev.relations and ev.relations[0].name == "public.reading"
        assert ev.hit_ratio is not None and ev.hit_ratio < 0.9
        queryid = _queryid(db, "SELECT count(pad) FROM reading")
        assert ev.statements and ev.statements[0].queryid == queryid
        assert first.objects[0].kind == "query" and first.objects[0].queryid == queryid
        assert any(o.kind == "relation" and o.name == "public.reading" for o in first.objects)
        assert any(o.kind == "client" and o.application_name == load.application_name
                   for o in first.objects)
        recorded = recorded_window(db, str(tmp_path / "io.db"), 10, after=2)
    saturated = recorded.by_code("io-saturation")
    assert saturated, [f.title for f in recorded.findings]
    assert any(o.kind == "query" and o.queryid == queryid for f in saturated for o in f.objects)
