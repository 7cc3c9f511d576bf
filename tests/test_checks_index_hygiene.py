"""invalid-index, duplicate-index (identical and prefix) and unused-index."""

from __future__ import annotations

from pgcrisis.model.findings import Severity
from tests.helpers import triage
from tests.scenarios.health import FailedConcurrentIndex, RedundantIndexes, UnusedIndex


def test_invalid_index_left_by_a_failed_concurrent_build(db: str) -> None:
    with FailedConcurrentIndex(db):
        report = triage(db)
    [finding] = report.by_code("invalid-index")
    assert finding.objects[0].kind == "index"
    assert finding.objects[0].name == "public.users_email_key"
    assert finding.objects[1].name == "public.users"
    assert finding.remedy is not None
    assert finding.remedy.sql[0] == "DROP INDEX CONCURRENTLY public.users_email_key"
    assert "CREATE UNIQUE INDEX CONCURRENTLY users_email_key" in finding.remedy.sql[1]


def test_identical_and_prefix_indexes(db: str) -> None:
    with RedundantIndexes(db):
        report = triage(db)
    found = {f.evidence["how"]: f for f in report.by_code("duplicate-index")}
    assert set(found) == {"identical", "prefix"}
    identical = found["identical"]
    assert identical.objects[0].name == "public.invoices_customer_idx2"
    assert identical.objects[1].name == "public.invoices_customer_idx"
    assert identical.remedy is not None
    assert identical.remedy.sql == ("DROP INDEX CONCURRENTLY public.invoices_customer_idx2",)
    prefix = found["prefix"]
    assert prefix.objects[0].name == "public.invoices_issued_idx"
    assert prefix.objects[1].name == "public.invoices_issued_total_idx"
    # a redundant index is reported as such, not also as unused; the primary key never
    assert all(o.name != "public.invoices_pkey" for f in report.findings for o in f.objects)


def test_unused_index(db: str) -> None:
    with UnusedIndex(db, scale=0.7):
        report = triage(db)
    [finding] = report.by_code("unused-index")
    assert finding.objects[0].name == "public.events_ref_idx"
    assert finding.severity is Severity.INFO
    assert finding.evidence["idx_scan"] == 0
    assert finding.remedy is not None
    assert finding.remedy.sql == ("DROP INDEX CONCURRENTLY public.events_ref_idx",)
