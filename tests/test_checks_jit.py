"""jit-overhead: a reporting view whose query JIT compiles for longer than it runs."""

from __future__ import annotations

import doctest

import psycopg
import pytest

import pgcrisis.checks.jit
from pgcrisis.checks.jit import jit_overhead
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.lab.queries import JitDominatesViewQuery
from pgcrisis.model.findings import Severity
from pgcrisis.model.server import ServerInfo
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.model.statements import Statement, Statements
from tests.helpers import PgServer, only, require, triage


def test_jit_dominating_a_view_query_is_critical_and_turning_it_off_helps(
        pg: PgServer, db: str) -> None:
    require(pg, "jit")
    with JitDominatesViewQuery(db, scale=0.1) as scenario:
        report = triage(db)
        finding = only(report, "jit-overhead")
        assert finding.severity is Severity.CRITICAL
        query, setting = finding.objects
        with psycopg.connect(db) as conn:
            row = conn.execute("SELECT queryid FROM pg_stat_statements "
                               "WHERE query = %s AND toplevel", [scenario.QUERY]).fetchone()
        assert row is not None
        assert (query.kind, query.queryid, query.name) == ("query", row[0], scenario.QUERY)
        assert query.id == query.queryid  # the pre-contract key stays, the same number
        assert (setting.kind, setting.name) == ("setting", "jit")
        assert finding.evidence["jit_share"] >= 0.5
        assert finding.evidence["plan_cost"] > 100000  # read by the probe's EXPLAIN
        assert finding.remedy is not None
        database = report.snapshot.server.database
        assert finding.remedy.sql[:2] == ("ALTER SYSTEM SET jit = off", "SELECT pg_reload_conf()")
        per_database = [s for s in finding.remedy.sql
                        if f'ALTER DATABASE "{database}" SET jit = off' in s]
        assert len(per_database) == 1
        assert any(f'ALTER DATABASE "{database}" SET jit_above_cost = ' in s
                   for s in finding.remedy.sql)
        before = scenario.measure()
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute(per_database[0])  # as-is, comment line included
        after = scenario.measure()
        assert after.value < before.value / 2, (before, after)


def test_jit_and_missing_index_are_skipped_without_pg_stat_statements(db: str) -> None:
    report = triage(db)
    reasons = {s.check: s.reason for s in report.results.skipped}
    for code in ("jit-overhead", "missing-index"):
        assert reasons[code] == "pg_stat_statements is not installed in this database"
    assert "fk-missing-index" not in reasons


def _snapshot(jit_ms: float, total_ms: float, calls: int = 10) -> Snapshot:
    from datetime import UTC, datetime

    server = ServerInfo(150000, "15", "app", "postgres", True, 1,
                        settings={"jit_above_cost": "100000"})
    st = Statement(queryid=42, query="SELECT * FROM v", role="app", calls=calls,
                   total_exec_ms=total_ms, mean_exec_ms=total_ms / calls, rows=0,
                   shared_blks_hit=0, shared_blks_read=0, jit_functions=5,
                   jit_optimization_ms=jit_ms)
    return Snapshot(server, datetime.now(UTC), statements=Statements((st,), True, total_ms))


@pytest.mark.parametrize(("jit_ms", "total_ms", "expected"), [
    (6000.0, 10000.0, Severity.CRITICAL),   # 60 % of the time
    (4000.0, 10000.0, Severity.WARNING),    # 40 %
    (2000.0, 10000.0, None),                # 20 %: below jit_min_share
    (900.0, 1000.0, None),                  # 90 %, but under a second lost in all
])
def test_jit_overhead_thresholds(jit_ms: float, total_ms: float,
                                 expected: Severity | None) -> None:
    findings = list(jit_overhead(_snapshot(jit_ms, total_ms), Thresholds()))
    assert [f.severity for f in findings] == ([expected] if expected else [])


def test_jit_above_cost_suggestion_without_a_plan_cost() -> None:
    finding = next(iter(jit_overhead(_snapshot(6000.0, 10000.0), Thresholds())))
    assert finding.remedy is not None
    assert 'ALTER DATABASE "app" SET jit_above_cost = 1000000' in finding.remedy.sql[-1]
    assert 'ALTER ROLE "app" SET jit = off' in finding.remedy.sql[-2]


def test_doctests() -> None:
    result = doctest.testmod(pgcrisis.checks.jit)
    assert result.attempted > 0 and result.failed == 0
