"""table-bloat (and what holds vacuum back) and stale-statistics."""

from __future__ import annotations

from tests.helpers import only, triage
from tests.scenarios.health import SnapshotHoldsVacuum, StaleStatistics, VacuumDisabled


def test_dead_rows_held_back_by_an_idle_snapshot_name_the_holder(db: str) -> None:
    with SnapshotHoldsVacuum(db, scale=0.3) as lab:
        report = triage(db)
    finding = only(report, "table-bloat")
    assert finding.objects[0].name == "public.churn"
    assert finding.objects[1].kind == "backend"
    assert finding.objects[1].pid == lab.holder_pid
    assert finding.evidence["dead_rows"] >= lab.rows
    assert "report-exporter" in finding.evidence["held_back_by"]
    assert finding.remedy is not None
    assert finding.remedy.sql[0] == f"SELECT pg_terminate_backend({lab.holder_pid})"
    assert finding.remedy.sql[-1] == "VACUUM (VERBOSE) public.churn"


def test_autovacuum_disabled_is_said(db: str) -> None:
    with VacuumDisabled(db, scale=0.4) as lab:
        report = triage(db)
    finding = only(report, "table-bloat")
    assert finding.objects[0].name == "public.sessions_log"
    assert finding.evidence["held_back_by"] == "autovacuum disabled"
    assert finding.evidence["dead_rows"] >= lab.rows
    assert finding.remedy is not None
    assert finding.remedy.sql[0] == "ALTER TABLE public.sessions_log RESET (autovacuum_enabled)"


def test_stale_statistics_relative_to_the_table(db: str) -> None:
    with StaleStatistics(db, scale=0.5) as lab:
        report = triage(db)
    finding = only(report, "stale-statistics")
    assert finding.objects[0].name == "public.shipments"
    assert finding.evidence["changed_rows"] >= 3 * lab.rows
    assert finding.evidence["changed_share"] >= 2.9
    assert finding.remedy is not None
    assert finding.remedy.sql == ("ANALYZE (VERBOSE) public.shipments",)
