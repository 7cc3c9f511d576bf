"""A role without privileges gets a report with skipped checks, never a crash; `pgcrisis
cache` names each duration source it could not read instead of answering with nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg
import pytest
from click.testing import CliRunner

from pgcrisis.cache.apply.schema import ensure_schema
from pgcrisis.cli.main import cli
from tests.helpers import login_role, triage


@pytest.fixture
def observer(cron_db: str) -> Iterator[str]:
    """The DSN of a login role with no grant at all (not even on pg_cron's schema)."""
    with login_role(cron_db, "observer", "REVOKE ALL ON SCHEMA cron FROM observer") as dsn:
        yield dsn


def test_unprivileged_role_gets_skipped_entries_with_reasons(observer: str) -> None:
    report = triage(observer)
    skipped = {s.check: s.reason for s in report.results.skipped}
    assert "permission denied" in skipped["job-failing"]
    assert "permission denied" in skipped["refresh-spike"]
    assert report.snapshot.server.current_user == "observer"


def test_cache_names_the_duration_sources_it_may_not_read(cron_db: str, observer: str) -> None:
    with psycopg.connect(cron_db, autocommit=True) as conn:
        conn.execute("CREATE MATERIALIZED VIEW mv_guarded AS SELECT 1 AS id")
        ensure_schema(conn)  # pgcrisis.refresh_log exists; observer may not read it
    try:
        def cache(*args: str) -> tuple[int, str]:
            result = CliRunner().invoke(cli, ["cache", *args, "--dsn", observer])
            return result.exit_code, result.stdout

        code, out = cache("tree", "--format", "json")
        assert code == 0
        tree = json.loads(out)
        reasons = {u["source"]: u["reason"] for u in tree["unavailable"]}
        assert reasons.keys() == {"pgcrisis.refresh_log", "pg_cron"}
        assert all(r.startswith("permission denied") for r in reasons.values()), reasons
        view = next(v for v in tree["views"] if v["name"] == "public.mv_guarded")
        assert view["duration_source"] == "estimate"

        code, out = cache("check", "--format", "json")
        check = json.loads(out)
        assert {u["source"] for u in check["unavailable"]} == reasons.keys()
        assert "permission denied" in {s["code"]: s["reason"]
                                       for s in check["skipped"]}["refresh-spike"]

        for command in ("tree", "check"):
            _, out = cache(command)
            shown = " ".join(out.split())
            assert "skipped durations from pg_cron: permission denied" in shown, command
            assert "skipped durations from pgcrisis.refresh_log: permission denied" in shown
    finally:
        with psycopg.connect(cron_db, autocommit=True) as conn:
            conn.execute("DROP MATERIALIZED VIEW IF EXISTS mv_guarded")
            conn.execute("DROP SCHEMA IF EXISTS pgcrisis CASCADE")
