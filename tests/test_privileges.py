"""A role without privileges gets a report with skipped checks, never a crash."""

from __future__ import annotations

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.helpers import triage


def test_unprivileged_role_gets_skipped_entries_with_reasons(cron_db: str) -> None:
    with psycopg.connect(cron_db, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS observer")
        conn.execute("CREATE ROLE observer LOGIN PASSWORD 'observer-pw'")
        conn.execute("REVOKE ALL ON SCHEMA cron FROM observer")
    params = conninfo_to_dict(cron_db)
    params.update(user="observer", password="observer-pw")
    try:
        report = triage(make_conninfo("", **params))
        skipped = {s.check: s.reason for s in report.results.skipped}
        assert "permission denied" in skipped["job-failing"]
        assert "permission denied" in skipped["refresh-spike"]
        assert report.snapshot.server.current_user == "observer"
    finally:
        with psycopg.connect(cron_db, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                         " WHERE usename = 'observer'")
            conn.execute("DROP ROLE IF EXISTS observer")
