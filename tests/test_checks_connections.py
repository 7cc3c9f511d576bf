"""connection-saturation and runaway-client, with real connections on a real server."""

from __future__ import annotations

from pgcrisis.lab.faults_health import ApiCallLoop, DatabaseConnectionLimit, IdleConnectionPile
from pgcrisis.model.findings import Severity
from tests.helpers import only, triage


def test_idle_pile_from_one_client_names_the_client(db: str) -> None:
    with IdleConnectionPile(db, n=80, application_name="report-pool"):
        report = triage(db)
    piles = [f for f in report.by_code("connection-saturation") if "idle" in f.title]
    assert len(piles) == 1, [f.title for f in report.findings]
    pile = piles[0]
    assert pile.objects[0].kind == "client"
    assert pile.objects[0].name is not None and pile.objects[0].name.startswith("report-pool@")
    assert pile.evidence["idle"] >= 80
    assert pile.remedy is not None and "report-pool" in pile.remedy.sql[0]
    # the same client holds a disproportionate share of the connections: the pile's cause
    runaway = only(report, "runaway-client")
    assert runaway.objects[0] == pile.objects[0]
    assert runaway.evidence["connections"] >= 80
    assert report.causes_of(pile) == [runaway]


def test_database_connection_limit_nearly_reached(db: str) -> None:
    with DatabaseConnectionLimit(db, limit=10, used=10) as lab:
        report = triage(db)
    finding = only(report, "connection-saturation")
    assert finding.severity is Severity.CRITICAL
    assert finding.objects[-1].kind == "database"
    assert finding.objects[-1].name == lab.database
    assert finding.objects[0].kind == "client"
    assert finding.objects[0].name is not None
    assert finding.objects[0].name.startswith("checkout-api@")
    assert finding.evidence["limit"] == 10


def test_a_few_connections_are_not_a_runaway(db: str) -> None:
    with IdleConnectionPile(db, n=6):
        report = triage(db)
    assert report.by_code("runaway-client") == []
    assert report.by_code("connection-saturation") == []


def test_api_call_loop_is_found_by_sampling_call_rates(db: str) -> None:
    with ApiCallLoop(db, application_name="crm-sync") as lab:
        report = triage(db, sample_s=1.5)
        without_sample = triage(db)
    finding = only(report, "runaway-client")
    assert finding.objects[0].kind == "client"
    assert finding.objects[0].name is not None and finding.objects[0].name.startswith("crm-sync@")
    assert finding.evidence["calls_per_s"] >= 200
    assert finding.evidence["share"] >= 0.5
    assert finding.evidence["measured_with"] == "pg_stat_statements"
    assert any(o.kind == "query" for o in finding.objects)
    assert finding.remedy is not None and "crm-sync" in finding.remedy.sql[0]
    assert lab.calls > 0
    # two connections are no disproportionate share: only the sample shows the loop
    assert without_sample.by_code("runaway-client") == []


def test_a_loop_of_heavy_statements_is_found_by_its_share_of_the_time(db: str) -> None:
    with ApiCallLoop(db, application_name="export-retry", sleep_s=0.01):
        report = triage(db, sample_s=1.5)
    finding = only(report, "runaway-client")
    assert finding.objects[0].name is not None
    assert finding.objects[0].name.startswith("export-retry@")
    assert finding.evidence["calls_per_s"] < 200  # too few calls to count: the time shows it
    assert finding.evidence["exec_ms_per_s"] >= 500
    assert finding.evidence["time_share"] >= 0.5
