"""connection-saturation and runaway-client, with real connections on a real server."""

from __future__ import annotations

from contextlib import ExitStack

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgcrisis.model.findings import Severity
from pgcrisis.presentation.triage_json import finding_to_json
from tests.helpers import PgServer, only, triage
from tests.scenarios.health import ApiCallLoop, DatabaseConnectionLimit, IdleConnectionPile


def _client_addr(dsn: str) -> str | None:
    """The address the server sees this test's connections come from."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT host(inet_client_addr())").fetchone()
        return row[0] if row else None


def test_idle_pile_from_one_client_names_the_client(db: str) -> None:
    with IdleConnectionPile(db, n=80, application_name="report-pool"):
        report = triage(db)
    piles = [f for f in report.by_code("connection-saturation") if "idle" in f.title]
    assert len(piles) == 1, [f.title for f in report.findings]
    pile = piles[0]
    assert pile.objects[0].kind == "client"
    assert pile.objects[0].name is not None and pile.objects[0].name.startswith("report-pool@")
    # the contract's keys, as pg_stat_activity has them, in the JSON too
    address = _client_addr(db)
    assert (pile.objects[0].application_name, pile.objects[0].client_addr) == (
        "report-pool", address)
    assert finding_to_json(pile)["objects"][0] == {
        "kind": "client", "application_name": "report-pool", "client_addr": address,
        "name": f"report-pool@{address}"}
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
    assert finding.objects[0].application_name == "checkout-api"
    assert finding.objects[0].client_addr == _client_addr(db)
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
    assert finding.objects[0].application_name == "crm-sync"
    assert finding.objects[0].client_addr == _client_addr(db)
    queries = [o for o in finding.objects if o.kind == "query"]
    assert queries and all(q.queryid is not None and q.name for q in queries)
    assert queries[0].queryid in finding.evidence["queryids"]
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


@pytest.mark.parametrize("scope", ["address", "application"])
def test_a_group_of_clients_is_named_by_the_keys_it_has(pg: PgServer, db: str,
                                                        scope: str) -> None:
    """No single client dominates, a group does: one address whatever the application
    (``*@address``: its clients, each by application_name and client_addr) or one application
    from two addresses (``app@*``: the application, with no single client_addr)."""
    if pg.embedded is None:
        pytest.skip("needs a second client address: the embedded server's unix socket "
                    "(not there with PGCRISIS_TEST_DSN)")
    over_socket = make_conninfo("", **{**conninfo_to_dict(db), "host": str(pg.embedded.socket_dir)})
    if scope == "address":  # 16 applications x 5 over TCP, 2 over the socket
        plan = [(db, f"batch-{i:02}") for i in range(16) for _ in range(5)]
        plan += [(over_socket, "shop")] * 2
    else:  # one application, 40 + 40 over both, 2 others
        plan = [(db, "etl"), (over_socket, "etl")] * 40 + [(db, "shop")] * 2
    with ExitStack() as stack:
        for dsn, application in plan:
            stack.enter_context(psycopg.connect(dsn, application_name=application))
        report = triage(db)
    finding = only(report, "runaway-client")
    clients = [o for o in finding.objects if o.kind == "client"]
    address = _client_addr(db)
    if scope == "address":
        assert f"client *@{address} holds 80" in finding.title
        assert len(clients) == 3
        assert all(c.application_name is not None and c.application_name.startswith("batch-")
                   and c.client_addr == address
                   and c.name == f"{c.application_name}@{address}" for c in clients)
    else:
        assert "client etl@* holds 80" in finding.title
        assert [(c.application_name, c.client_addr, c.name) for c in clients] == [
            ("etl", None, "etl@*")]
    assert finding.objects[-1].kind == "role"
