"""missing-index and fk-missing-index on the order-management app of the seed incident."""

from __future__ import annotations

import doctest
from types import ModuleType

import psycopg
import pytest

import pgcrisis.checks.indexes
import pgcrisis.model.relations
from pgcrisis.lab.queries import OrderWorkflowMissingIndex
from pgcrisis.model.findings import Severity
from tests.helpers import PgServer, only, require, triage
from tests.scenarios.queries import ForeignKeyWithoutIndex

#: small app; the scenario tops standing_order_items up past the check's 1,000 pages
WORKFLOW_SCALE = 0.1


def _workflow_queryid(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT queryid FROM pg_stat_statements "
                           "WHERE query LIKE 'INSERT INTO order_items%standing_order_items%' "
                           "AND toplevel").fetchone()
    assert row is not None
    return int(row[0])


def test_order_workflow_missing_index_is_verified_and_critical(pg: PgServer, db: str) -> None:
    require(pg, "hypopg")
    with OrderWorkflowMissingIndex(db, scale=WORKFLOW_SCALE, users=4,
                                   orders_per_user=60) as scenario:
        report = triage(db)
        finding = only(report, "missing-index")
        assert finding.severity is Severity.CRITICAL
        table, query = finding.objects
        assert (table.kind, table.name) == ("relation", "public.standing_order_items")
        assert (query.kind, query.queryid) == ("query", _workflow_queryid(db))
        assert query.name is not None and query.name.startswith("INSERT INTO order_items")
        evidence = finding.evidence
        assert evidence["verified"] is True, evidence
        assert evidence["columns"] == ["customer_id"]
        assert evidence["calls"] >= 240
        assert evidence["cost_after"] * 2 < evidence["cost_before"]
        assert {"mean_ms", "total_ms"} <= evidence.keys()
        assert finding.remedy is not None
        assert finding.remedy.sql == (
            'CREATE INDEX CONCURRENTLY "standing_order_items_customer_id_idx" '
            'ON "public"."standing_order_items" ("customer_id")',)
        assert report.snapshot.index_advice.explains <= 4
        before = scenario.measure()
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute(finding.remedy.sql[0])
        after = scenario.measure()
        assert after.value < before.value / 2, (before, after)
        assert triage(db).by_code("missing-index") == []


def test_missing_index_unverified_when_its_table_is_locked(pg: PgServer, db: str) -> None:
    require(pg, "hypopg")
    with OrderWorkflowMissingIndex(db, scale=WORKFLOW_SCALE, users=4, orders_per_user=60):
        with psycopg.connect(db) as holder:  # a transaction holding DDL's lock
            holder.execute("LOCK TABLE standing_order_items IN ACCESS EXCLUSIVE MODE")
            report = triage(db)
            holder.rollback()
        finding = only(report, "missing-index")
        assert finding.severity is Severity.WARNING
        assert finding.objects[0].name == "public.standing_order_items"
        assert finding.evidence["verified"] is False
        assert "lock_timeout" in finding.evidence["unverified_reason"]
        assert "not verified" in finding.detail.lower()


def test_missing_index_unverified_without_hypopg(db: str) -> None:
    with OrderWorkflowMissingIndex(db, scale=WORKFLOW_SCALE, users=4, orders_per_user=60):
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute("DROP EXTENSION IF EXISTS hypopg")
        finding = only(triage(db), "missing-index")
        assert "not verified" in finding.detail.lower()
        assert finding.severity is Severity.WARNING
        assert finding.evidence["verified"] is False
        assert finding.evidence["unverified_reason"] == "hypopg is not installed in this database"


def test_foreign_key_without_index(db: str) -> None:
    with ForeignKeyWithoutIndex(db, scale=0.1) as scenario:
        report = triage(db)
        finding = only(report, "fk-missing-index")
        assert finding.severity is Severity.WARNING
        assert (finding.objects[0].kind, finding.objects[0].name) == ("relation", "public.orders")
        assert "orders_site_id_fkey" in finding.detail
        assert finding.evidence["constraint"] == "orders_site_id_fkey"
        assert finding.remedy is not None
        assert finding.remedy.sql == (
            'CREATE INDEX CONCURRENTLY "orders_site_id_idx" ON "public"."orders" ("site_id")',)
        before = scenario.measure()
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute(finding.remedy.sql[0])
        after = scenario.measure()
        assert after.value < before.value, (before, after)
        assert triage(db).by_code("fk-missing-index") == []


@pytest.mark.parametrize("module", [pgcrisis.checks.indexes, pgcrisis.model.relations])
def test_doctests(module: ModuleType) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
