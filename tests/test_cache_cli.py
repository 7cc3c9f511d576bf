"""`pgcrisis cache` as a user runs it: tree, check, prepare, refresh, plan (installed in
pg_cron and run as pg_cron would), run, errors."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from pgcrisis.cache.service import night_plan_sql
from pgcrisis.cli.main import cli
from pgcrisis.dsn import Target
from pgcrisis.journal import apply
from pgcrisis.lab.app import create_app
from pgcrisis.lab.cache import CachedViewTree, build_tree
from pgcrisis.lab.scenario import admin_connect
from tests.helpers import triage

SCALE = 0.02
CALC = "public.mv_customer_totals"
SUMMARY = "public.mv_region_summary"


def run(*args: str, dsn: str | None = None) -> tuple[int, str, str]:
    env = {"PGCRISIS_DSN": dsn} if dsn else None
    result = CliRunner().invoke(cli, ["cache", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def app_db(db: str) -> str:
    with admin_connect(db) as conn:
        create_app(conn, SCALE)
        build_tree(conn)
    return db


@pytest.fixture
def tree(cron_db: str) -> Iterator[CachedViewTree]:
    """The demo's fault: the tree and 3 report views refreshed plainly at 09:00."""
    scenario = CachedViewTree(cron_db, scale=SCALE, views=3)
    with scenario:
        yield scenario
    scenario.remove()
    with admin_connect(cron_db) as conn:
        conn.execute("DROP SCHEMA IF EXISTS pgcrisis CASCADE")


def test_tree_json_svg_and_terminal(app_db: str, tmp_path: Path) -> None:
    code, out, _ = run("tree", "--format", "json", dsn=app_db)
    assert code == 0
    doc = json.loads(out)
    assert doc["order"] == [CALC, SUMMARY]
    summary = next(v for v in doc["views"] if v["name"] == SUMMARY)
    assert summary["level"] == 1 and summary["bases"] == [CALC]
    assert summary["via"][CALC] == ["public.v_region_report", "public.v_customer_report"]
    code, out, _ = run("tree", dsn=app_db)
    assert code == 0
    assert "via public.v_customer_report -> public.v_region_report" in " ".join(out.split())
    picture = tmp_path / "tree.svg"
    assert run("tree", "--format", "svg", "-o", str(picture), dsn=app_db)[0] == 0
    assert picture.read_text().startswith("<svg") and SUMMARY in picture.read_text()


def test_check_uses_the_triage_checks(app_db: str) -> None:
    code, out, _ = run("check", "--format", "json", dsn=app_db)
    doc = json.loads(out)
    assert code == 0  # info only: nothing refreshes these views
    views = {v["name"]: v for v in doc["views"]}
    assert views[CALC]["concurrent_ready"] is False
    assert views[CALC]["key_columns"] == ["customer_id"]
    assert views[CALC]["findings"] == ["matview-concurrent-unready"]
    assert views[SUMMARY]["bases"] == [CALC]


def test_prepare_refresh_and_errors(app_db: str) -> None:
    code, out, _ = run("prepare", dsn=app_db)
    assert code == 0 and "CREATE UNIQUE INDEX CONCURRENTLY" in out and "--apply" in out
    assert run("prepare", "--apply", dsn=app_db)[0] == 0
    code, out, _ = run("refresh", "mv_customer_totals", "--with-dependents", dsn=app_db)
    assert code == 0
    assert out.index(f"refreshed {CALC} CONCURRENTLY") < out.index(f"refreshed {SUMMARY}")
    code, _, err = run("refresh", "no_such_view", dsn=app_db)
    assert code == 3 and err.strip() == "pgcrisis: no relation named no_such_view in this database"
    code, _, err = run("refresh", "orders", dsn=app_db)
    assert code == 3 and "public.orders is not a materialized view" in err


def test_every_subcommand_explains_itself() -> None:
    for sub in ("tree", "check", "prepare", "refresh", "plan", "run", "watch"):
        code, out, _ = run(sub, "--help")
        assert code == 0 and "--dsn" in out, sub


def test_run_executes_the_plan_without_pg_cron(app_db: str) -> None:
    assert run("prepare", "--apply", dsn=app_db)[0] == 0
    code, out, _ = run("run", "--now", "--once", dsn=app_db)
    assert code == 0
    assert out.index(f"refreshed {CALC}") < out.index(f"refreshed {SUMMARY}")


def test_plan_replaces_the_nine_oclock_spike_in_pg_cron(tree: CachedViewTree) -> None:
    dsn = tree.dsn
    before = tree.measure()
    code, out, _ = run("plan", "--window", "01:00-05:00", "--format", "json", dsn=dsn)
    doc = json.loads(out)
    assert code == 0 and doc["violations"] == 0 and doc["peak"] == doc["lower_bound"] == 1
    assert doc["current"]["peak"] == 4  # four jobs at 09:00 (the tree's runs as one)
    assert run("prepare", "--apply", dsn=dsn)[0] == 0
    code, out, err = run("plan", "--window", "01:00-05:00", "--apply", dsn=dsn)
    assert code == 0, err
    with admin_connect(dsn) as conn:
        jobs = conn.execute("SELECT jobname, schedule, command, active FROM cron.job"
                            " ORDER BY jobid").fetchall()
    lanes = [(n, s, c) for n, s, c, active in jobs if n.startswith("pgcrisis-cache-lane-")
             and active]
    assert not [n for n, *_, active in jobs if n.startswith("pgcrisis-lab-") and active]
    assert [(n, s) for n, s, _ in lanes] == [("pgcrisis-cache-lane-1", "0 1 * * *")]
    after = tree.measure()
    assert (before.value, after.value) == (4, 1)  # one lane job at 01:00
    doc = json.loads(run("plan", "--format", "json", dsn=dsn)[1])
    assert doc["current"] == {"peak": 1, "violations": 0}  # the installed lane, read back

    with admin_connect(dsn) as conn:  # measure() replayed the lanes for real: start afresh
        conn.execute("DELETE FROM pgcrisis.refresh_log")

    # pg_cron runs the lane command: every view once, concurrently, bases first
    # (tree.measure() above replayed the lane too: count only what this call logs)
    with admin_connect(dsn) as conn:
        row = conn.execute("SELECT coalesce(max(id), 0) FROM pgcrisis.refresh_log").fetchone()
    seen = row[0] if row else 0

    def call(command: str) -> None:
        with admin_connect(dsn) as conn:
            conn.execute(command.encode())

    threads = [threading.Thread(target=call, args=(c,)) for *_, c in lanes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with admin_connect(dsn) as conn:
        log = conn.execute("SELECT view, status, concurrent FROM pgcrisis.refresh_log"
                           " WHERE source = 'pg_cron' AND id > %s ORDER BY id", (seen,)
                           ).fetchall()
    assert len(log) == 5 and all(s == "refreshed" and c for _, s, c in log)
    names = [v for v, *_ in log]
    assert names.index(CALC) < names.index(SUMMARY)


def test_night_plan_sql_is_the_demo_remedy_for_the_spike(tree: CachedViewTree) -> None:
    """What `pgcrisis demo` applies (shown and journaled) for the 09:00 refreshes."""
    before = tree.measure()
    statements = night_plan_sql(Target(tree.dsn, "test"))
    assert statements[0] == "CREATE SCHEMA IF NOT EXISTS pgcrisis"
    assert sum(s.startswith("CREATE UNIQUE INDEX CONCURRENTLY") for s in statements) == 5
    assert statements[-1].startswith("SELECT cron.schedule('pgcrisis-cache-lane-1', '0 1 * * *'")
    with admin_connect(tree.dsn) as conn:
        results = apply(conn, statements, reason="test")
    assert all(r.ok for r in results)
    assert (before.value, tree.measure().value) == (4, 1)
    assert not triage(tree.dsn).by_code("refresh-spike")
