"""--all-databases: per-database checks in every database, server-wide checks once."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import jsonschema
import psycopg
import pytest
from click.testing import CliRunner

from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.cli.main import cli
from pgcrisis.model.findings import ObjectRef
from pgcrisis.triage import per_database_checks
from tests.helpers import TRIAGE_SCHEMA as SCHEMA
from tests.helpers import PgServer, triage
from tests.scenarios.health import (
    OrphanedPreparedTransaction,
    RedundantIndexes,
    SequenceNearLimit,
)


@pytest.fixture
def two_more(pg: PgServer) -> Iterator[tuple[str, str]]:
    """Two more fresh databases (names), dropped afterwards."""
    names = [f"t_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    with psycopg.connect(pg.dsn, autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    yield names[0], names[1]
    with psycopg.connect(pg.dsn, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


def _database_of(objects: tuple[ObjectRef, ...]) -> str | None:
    return next((o.name for o in objects if o.kind == "database"), None)


def test_per_database_findings_name_their_database(pg: PgServer, db: str,
                                                   two_more: tuple[str, str]) -> None:
    first, second = two_more
    with (SequenceNearLimit(pg.dsn_for(first)), RedundantIndexes(pg.dsn_for(second)),
          OrphanedPreparedTransaction(db, gid="all-dbs-2pc")):
        single = triage(db, Thresholds(prepared_xact_s=0.0))
        report = triage(db, Thresholds(prepared_xact_s=0.0), all_databases=True)
    # one database: nothing of the other two
    assert single.by_code("wraparound-risk") == [] and single.by_code("duplicate-index") == []
    assert {first, second} <= set(report.databases)
    [sequence] = report.by_code("wraparound-risk")
    assert _database_of(sequence.objects) == first
    assert sequence.title.startswith(f"[{first}] ")
    duplicates = report.by_code("duplicate-index")
    assert {_database_of(f.objects) for f in duplicates} == {second}
    # server-wide: the prepared transaction is reported once, not once per database
    prepared = [f for f in report.by_code("long-transaction")
                if f.objects[0].name == "all-dbs-2pc"]
    assert len(prepared) == 1
    assert report.queries > single.queries


def test_server_wide_checks_are_not_repeated() -> None:
    per_db = set(per_database_checks())
    assert {"table-bloat", "duplicate-index", "stale-statistics", "slow-query"} <= per_db
    assert not {"blocking-lock", "connection-saturation", "runaway-client",
                "long-transaction"} & per_db


def test_database_ages_are_judged_once(db: str, two_more: tuple[str, str]) -> None:
    report = triage(db, Thresholds(wraparound_warning_share=1e-9, wraparound_critical_share=1.0),
                    all_databases=True)
    ages = [f.objects[0].name for f in report.by_code("wraparound-risk")
            if f.objects[0].kind == "database"]
    assert len(ages) == len(set(ages))
    assert set(two_more) <= set(ages)


def test_cli_all_databases_and_sample_flags(db: str, two_more: tuple[str, str]) -> None:
    result = CliRunner().invoke(cli, ["triage", db, "--format", "json", "--all-databases",
                                      "--sample", "0.3"])
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert set(two_more) <= set(doc["target"]["databases"])
    assert doc["target"]["databases"][0] == doc["target"]["database"]
    assert result.exit_code in (0, 1, 2)
