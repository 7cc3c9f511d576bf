"""Helpers the tests share: the server handle and a one-call triage."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources

import jsonschema
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.dsn import Target
from pgcrisis.embedded import EmbeddedServer
from pgcrisis.model.findings import Finding
from pgcrisis.presentation import triage_json
from pgcrisis.triage import TriageReport, run_triage


@dataclass
class PgServer:
    """What tests need of a server: DSNs per database and what it lacks."""

    dsn: str
    version_num: int = 0
    unavailable: dict[str, str] = field(default_factory=dict)
    embedded: EmbeddedServer | None = None

    def dsn_for(self, dbname: str) -> str:
        params = conninfo_to_dict(self.dsn)
        params["dbname"] = dbname
        return make_conninfo("", **params)



TRIAGE_SCHEMA = json.loads(
    resources.files("pgcrisis").joinpath("schemas/triage.schema.json").read_text())


def triage(dsn: str, thresholds: Thresholds | None = None, *, all_databases: bool = False,
           sample_s: float = 0.0) -> TriageReport:
    """Run triage the way the CLI does, on ``dsn``; every report any test produces is also
    checked against the shipped JSON Schema (so every finding shape is covered)."""
    report = run_triage(Target(dsn, "test"), thresholds=thresholds,
                        all_databases=all_databases, sample_s=sample_s)
    document = json.loads(triage_json.render(report))
    jsonschema.validate(document, TRIAGE_SCHEMA)
    return report


def only(report: TriageReport, code: str) -> Finding:
    """The single finding with ``code``; fails listing what was found otherwise."""
    found = report.by_code(code)
    assert len(found) == 1, f"expected one {code}, got {[f.title for f in report.findings]}"
    return found[0]
