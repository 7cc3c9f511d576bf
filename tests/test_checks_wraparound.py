"""wraparound-risk (sequences near their column's limit, database ages) and slow-query."""

from __future__ import annotations

import psycopg

from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.model.findings import Severity
from tests.helpers import only, triage
from tests.scenarios.health import DominantStatement, SequenceNearLimit


def test_integer_column_fed_by_a_bigint_sequence_near_its_limit(db: str) -> None:
    with SequenceNearLimit(db):
        report = triage(db)
    finding = only(report, "wraparound-risk")
    assert finding.objects[0].name == "public.tickets_id_seq"
    assert finding.objects[1].name == "public.tickets"
    assert finding.severity is Severity.CRITICAL
    assert finding.evidence["limit"] == 2_147_483_647
    assert finding.evidence["column_type"] == "integer"
    assert finding.remedy is not None
    assert finding.remedy.sql == ("ALTER TABLE public.tickets ALTER COLUMN id TYPE bigint",)


def test_database_age_against_the_wraparound_limit(db: str) -> None:
    with psycopg.connect(db) as conn:
        name = conn.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
    # a real database is far from 2^31 XIDs; burning a billion would take hours, so lower the bar
    report = triage(db, Thresholds(wraparound_warning_share=1e-9, wraparound_critical_share=1.0))
    mine = [f for f in report.by_code("wraparound-risk")
            if f.objects[0].name == name and f.evidence["kind"] == "transaction ID"]
    assert len(mine) == 1
    assert mine[0].objects[0].kind == "database"
    assert mine[0].severity is Severity.WARNING
    assert mine[0].evidence["age"] > 0


def test_slow_query_lists_the_statement_taking_the_time(db: str) -> None:
    with DominantStatement(db, calls=20, sleep_s=0.06):
        report = triage(db)
    finding = only(report, "slow-query")
    assert finding.severity is Severity.INFO
    query = finding.objects[0]
    assert query.kind == "query"
    assert query.name is not None and "reports" in query.name
    # the contract's key joins to pg_stat_statements
    with psycopg.connect(db) as conn:
        row = conn.execute("SELECT query FROM pg_stat_statements WHERE queryid = %s",
                           (query.queryid,)).fetchone()
    assert row is not None and "FROM reports" in row[0]
    assert finding.evidence["calls"] == 20
    assert finding.evidence["mean_ms"] >= 55
    assert finding.evidence["share"] >= 0.5
