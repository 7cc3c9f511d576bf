"""long-transaction: old snapshots, orphaned prepared transactions, inactive slots."""

from __future__ import annotations

import time

from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.model.findings import Severity
from tests.helpers import only, triage
from tests.scenarios.health import (
    InactiveLogicalSlot,
    OrphanedPreparedTransaction,
    SnapshotHoldsVacuum,
)


def test_old_snapshot_is_named_with_the_dead_rows_it_keeps(db: str) -> None:
    with SnapshotHoldsVacuum(db, scale=0.3) as lab:
        time.sleep(0.3)
        report = triage(db, Thresholds(long_transaction_s=0.2))
    finding = only(report, "long-transaction")
    assert finding.objects[0].kind == "backend"
    assert finding.objects[0].pid == lab.holder_pid
    assert finding.objects[0].name == "report-exporter"
    assert finding.severity is Severity.WARNING
    assert finding.evidence["dead_rows_kept"] >= lab.rows
    assert finding.remedy is not None
    assert finding.remedy.sql == (f"SELECT pg_terminate_backend({lab.holder_pid})",)


def test_young_transactions_are_not_reported(db: str) -> None:
    with SnapshotHoldsVacuum(db, scale=0.3):
        report = triage(db)  # default threshold: 5 minutes
    assert report.by_code("long-transaction") == []


def test_orphaned_prepared_transaction_gives_gid_age_locks_and_rollback(db: str) -> None:
    began = time.monotonic()
    with OrphanedPreparedTransaction(db, gid="payment-7781"):
        report = triage(db, Thresholds(prepared_xact_s=0.0))
    lived = time.monotonic() - began
    finding = only(report, "long-transaction")
    assert finding.objects[0].kind == "prepared-xact"
    assert finding.objects[0].name == "payment-7781"
    assert finding.objects[0].gid == "payment-7781"
    assert finding.objects[1].name == "public.transfers"
    assert finding.evidence["locks"] >= 1
    assert 0 <= finding.evidence["age_s"] <= lived + 0.1  # prepared within this test
    assert finding.remedy is not None
    assert finding.remedy.sql == ("ROLLBACK PREPARED 'payment-7781'",)


def test_inactive_logical_slot_is_a_finding_at_any_size(db: str) -> None:
    with InactiveLogicalSlot(db, slot="crm_cdc", scale=0.05):
        report = triage(db)
    finding = only(report, "long-transaction")
    assert finding.objects[0].kind == "slot"
    assert finding.objects[0].name == "crm_cdc"
    assert finding.objects[0].slot_name == "crm_cdc"  # pg_replication_slots.slot_name
    assert finding.severity is Severity.WARNING
    assert finding.evidence["active"] is False
    assert finding.evidence["retained_bytes"] > 0
    assert finding.evidence["slot_type"] == "logical"
    assert finding.remedy is not None
    assert finding.remedy.sql == ("SELECT pg_drop_replication_slot('crm_cdc')",)
