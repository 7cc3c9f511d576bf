"""`pgcrisis mitigate` on a real server: each fault's playbook step clears it, triage agrees,
the journal holds the action, and `--undo` puts back what can be put back.

Answers are scripted on stdin (as a person would type them); the journal goes to a file of
the test's own (``PGCRISIS_JOURNAL``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from pgcrisis.actions import Recorded, SetSetting
from pgcrisis.cli.main import cli
from pgcrisis.dsn import Target, with_overrides
from pgcrisis.errors import ConfigError
from pgcrisis.journal import read_actions
from pgcrisis.lab.cache import CachedViewTree
from pgcrisis.lab.jobs import CleanupTooFrequent
from pgcrisis.lab.scenario import admin_connect, wait_until
from pgcrisis.mitigate import playbook
from pgcrisis.mitigate.apply import run_action, undo
from tests.helpers import PgServer, triage
from tests.scenarios.health import IdleConnectionPile
from tests.scenarios.locks import IdleTransactionChain, PreparedTransactionBlocker


@pytest.fixture(autouse=True)
def journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "journal.jsonl"
    monkeypatch.setenv("PGCRISIS_JOURNAL", str(path))
    monkeypatch.setenv("PGCRISIS_INCIDENT_DIR", str(tmp_path / "incidents"))
    return path


def run(*args: str, answers: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=answers)
    return result.exit_code, result.stdout, result.stderr


def _one(dsn: str, query: str, params: tuple[Any, ...] = ()) -> Any:
    with admin_connect(dsn) as conn:
        row = conn.execute(query.encode() if not params else query, params or None).fetchone()  # type: ignore[call-overload]
        return row[0] if row else None


def test_a_lock_chain_is_cleared_by_terminating_its_root_first(db: str, journal: Path) -> None:
    """The idle root of a chain is the first step; answering `y` ends it, the chain is gone
    from the re-triage and from triage after, the journal holds the action, and a
    termination cannot be undone (one line, exit 3)."""
    with IdleTransactionChain(db, readers=2) as lab:
        code, out, _ = run("mitigate", db)
        assert code == 0
        first = f"terminate-pid-{lab.root_pid}"
        assert out.split("\n")[2].lstrip().startswith(f"1. {first}"), out
        assert "Nothing has been changed" in out
        code, out, err = run("mitigate", db, "--apply", answers="y\nn\nn\nn\n")
        assert code == 0, out + err
        assert f"applied {first} as " in out
        gone = out.split("Gone", 1)[1].split("Remaining", 1)[0]
        assert "[blocking-lock]" in gone
        assert triage(db).by_code("blocking-lock") == []
    [action] = [a for a in read_actions(journal) if a.step == first]
    assert action.ok and action.done == (f"SELECT pg_terminate_backend({lab.root_pid})",)
    code, out, err = run("mitigate", db, "--undo", action.id)
    assert code == 3 and out == ""
    assert len(err.strip().splitlines()) == 1 and "cannot be undone" in err


class _Orphan(PreparedTransactionBlocker):
    """The lab's orphaned prepared transaction, whose clean-up tolerates it being gone."""

    def stop(self) -> None:
        if _one(self.dsn, "SELECT count(*) FROM pg_prepared_xacts WHERE gid = %s",
                (self.gid,)):
            super().stop()
        else:
            super(PreparedTransactionBlocker, self).stop()


def test_an_orphaned_prepared_transaction_is_rolled_back_in_its_database(
        db: str, journal: Path) -> None:
    """The step named on the command line (no question asked) rolls the prepared
    transaction back from its own database; the waiter goes on; triage no longer reports
    it."""
    gid = f"pgcrisis-test-{uuid.uuid4().hex[:6]}"
    with _Orphan(db, gid=gid):
        step = f"rollback-prepared-{gid}"
        code, out, err = run("mitigate", db, "--apply", step)
        assert code == 0, out + err
        assert _one(db, "SELECT count(*) FROM pg_prepared_xacts WHERE gid = %s", (gid,)) == 0
        report = triage(db)
        assert not [f for f in report.findings if gid in f.title]
    [action] = read_actions(journal)
    assert action.step == step and action.ok
    assert action.database == psycopg.conninfo.conninfo_to_dict(db)["dbname"]


@pytest.fixture
def runaway_role(pg: PgServer, db: str) -> Iterator[str]:
    """A login role of its own (CONNECTION LIMIT does not apply to superusers)."""
    role = f"crm_{uuid.uuid4().hex[:6]}"
    with admin_connect(db) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'crm'").format(sql.Identifier(role)))
    yield role
    with admin_connect(db) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                     (role,))
        gone = "SELECT count(*) = 0 FROM pg_stat_activity WHERE usename = %s"
        wait_until(lambda: _one(db, gone, (role,)), 10.0, "the role's sessions to end")
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def test_a_runaway_client_is_ended_and_braked_and_the_brake_undone(
        pg: PgServer, db: str, runaway_role: str, journal: Path) -> None:
    """80 idle connections from one client: `y` to capping its role and to ending all its
    sessions (`n` to ending only its idle ones, the idle pile's step between them); triage no
    longer reports it; `--undo` of the cap (by step id) restores the role's connection limit
    as it was read before (-1), and a second undo is one line, exit 3."""
    params = psycopg.conninfo.conninfo_to_dict(db)
    params.update(user=runaway_role, password="crm")
    as_role = psycopg.conninfo.make_conninfo("", **params)
    conns = [psycopg.connect(db, application_name="shop") for _ in range(2)]
    conns += [psycopg.connect(as_role, application_name="crm-sync") for _ in range(80)]
    try:
        code, out, err = run("mitigate", db, "--apply", answers="y\nn\ny\nq\n")
        assert code == 0, out + err
        assert "applied terminate-client-crm-sync" in out
        assert f"applied limit-role-{runaway_role.replace('_', '-')}" in out
        assert "[runaway-client]" in out.split("Gone", 1)[1].split("Remaining", 1)[0]
        assert triage(db).by_code("runaway-client") == []
        limit = _one(db, "SELECT rolconnlimit FROM pg_roles WHERE rolname = %s", (runaway_role,))
        assert 0 < limit < 80
    finally:
        for conn in conns:
            conn.close()
    step = f"limit-role-{runaway_role.replace('_', '-')}"
    code, out, err = run("mitigate", db, "--undo", step)
    assert code == 0, out + err
    assert _one(db, "SELECT rolconnlimit FROM pg_roles WHERE rolname = %s", (runaway_role,)) == -1
    [braked] = [a for a in read_actions(journal) if a.step == step]
    assert braked.undone_by is not None
    code, _, err = run("mitigate", db, "--undo", braked.id)
    assert code == 3 and "already undone" in err and len(err.strip().splitlines()) == 1


#: a session that takes a while to exit: it drops its temporary tables on the way out
SLOW_EXIT = ("DO $$ BEGIN FOR i IN 1..4000 LOOP"
             " EXECUTE format('CREATE TEMP TABLE slow_exit_%s (a int PRIMARY KEY)', i);"
             " END LOOP; END $$")


def _sessions(dsn: str, role: str) -> tuple[int, int, int, int]:
    """The pile's idle sessions (report-pool, ``role``), its neighbours' (shop, ``role``),
    report-pool's under another role, and report-pool's at work (idle in a transaction)."""
    with admin_connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE application_name = 'report-pool' AND usename = %(r)s"
            "                        AND state = 'idle'),"
            " count(*) FILTER (WHERE application_name = 'shop' AND usename = %(r)s),"
            " count(*) FILTER (WHERE application_name = 'report-pool' AND usename <> %(r)s),"
            " count(*) FILTER (WHERE application_name = 'report-pool'"
            "                        AND state = 'idle in transaction')"
            " FROM pg_stat_activity", {"r": role}).fetchone()
    assert row is not None
    return row[0], row[1], row[2], row[3]


def test_an_idle_pile_ends_only_its_clients_idle_sessions_and_caps_its_role(
        db: str, runaway_role: str, journal: Path) -> None:
    """80 idle connections of one client (report-pool, as its own role): the playbook has the
    idle pile's two steps; applied by their ids they end that client's idle sessions only
    (its neighbour shop's, report-pool's under another role and one at work in a transaction
    stay) and cap its role; `--undo` of the cap restores the role's limit (-1).

    The triage that follows waits for the sessions it ended to leave: the pile is gone, not
    remaining, and so is a session of it that takes a while to exit (it drops thousands of
    temporary tables on the way out)."""
    params = psycopg.conninfo.conninfo_to_dict(db)
    params.update(user=runaway_role, password="crm")
    as_role = psycopg.conninfo.make_conninfo("", **params)
    other = psycopg.connect(db, autocommit=True, application_name="report-pool")
    busy = psycopg.connect(as_role, application_name="report-pool")
    busy.execute("SELECT 1")  # a transaction left open: at work, not idle
    slow = psycopg.connect(as_role, autocommit=True, application_name="report-pool")
    slow.execute(SLOW_EXIT)
    end = "terminate-idle-client-report-pool"
    cap = f"limit-role-{runaway_role.replace('_', '-')}"
    try:
        with IdleConnectionPile(as_role, n=80, application_name="report-pool"):
            assert _sessions(db, runaway_role) == (81, 2, 1, 1)
            code, out, err = run("mitigate", db, "--format", "json")
            assert code == 0, out + err
            steps = {s["id"]: s for s in json.loads(out)["steps"]}
            assert "connection-saturation" in steps[end]["codes"]
            assert "connection-saturation" in steps[cap]["codes"]
            assert f"usename = '{runaway_role}'" in steps[end]["sql"][0]
            code, out, err = run("mitigate", db, "--apply", end, cap)
            assert code == 0, out + err
            gone, remaining = out.split("Gone", 1)[1].split("Remaining", 1)
            pile = "[connection-saturation] report-pool"
            assert pile in gone and pile not in remaining, out
            assert _sessions(db, runaway_role) == (0, 2, 1, 1)
            limit = _one(db, "SELECT rolconnlimit FROM pg_roles WHERE rolname = %s",
                         (runaway_role,))
            assert 0 < limit < 80
    finally:
        slow.close()
        busy.close()
        other.close()
    code, out, err = run("mitigate", db, "--undo", cap)
    assert code == 0, out + err
    assert _one(db, "SELECT rolconnlimit FROM pg_roles WHERE rolname = %s", (runaway_role,)) == -1


def test_a_role_setting_brake_is_undone_to_its_previous_value(
        db: str, runaway_role: str, journal: Path) -> None:
    """`jit = off` for a role that had `jit = on` of its own: the undo puts `on` back (read
    from pg_db_role_setting before the change), not a RESET."""
    with admin_connect(db) as conn:
        conn.execute(sql.SQL("ALTER ROLE {} SET jit = on").format(sql.Identifier(runaway_role)))
    settings = ("SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = "
                "s.setrole WHERE r.rolname = %s AND s.setdatabase = 0")
    target = Target(db, "test")
    done = run_action(SetSetting("jit", "off", "role", runaway_role), target,
                      step="jit-off-role")
    assert done.ok and _one(db, settings, (runaway_role,)) == ["jit=off"]
    elsewhere = Target(with_overrides(db, port=1), "test")
    with pytest.raises(ConfigError, match=r"was applied on .*:\d+, not on .*:1: give"):
        undo(done.id, elsewhere)  # another server: refused before connecting
    undo(done.id, target)
    assert _one(db, settings, (runaway_role,)) == ["jit=on"]


@pytest.fixture
def noop_job(cron_db: str) -> Iterator[CleanupTooFrequent]:
    scenario = CleanupTooFrequent(cron_db, scale=0.02)
    with scenario:
        yield scenario
    scenario.remove()


def test_a_no_op_cron_job_is_paused_and_resumed_by_undo(
        noop_job: CleanupTooFrequent, journal: Path) -> None:
    """The cleanup job that changes nothing every 5 minutes: pausing it clears
    job-too-frequent; `--undo` makes it active again."""
    dsn = noop_job.dsn
    step = f"pause-job-{noop_job.jobid}"
    code, out, err = run("mitigate", dsn, "--apply", step, "--format", "json")
    assert code == 0, out + err
    doc = json.loads(out)
    assert [a["step"] for a in doc["applied"]] == [step]
    assert any(f["code"] == "job-too-frequent" for f in doc["changes"]["gone"])
    active = "SELECT active FROM cron.job WHERE jobid = %s"
    assert _one(dsn, active, (noop_job.jobid,)) is False
    assert triage(dsn).by_code("job-too-frequent") == []
    code, out, err = run("mitigate", dsn, "--undo", doc["applied"][0]["action"]["id"])
    assert code == 0, out + err
    assert _one(dsn, active, (noop_job.jobid,)) is True


@pytest.fixture
def refresh_spike(cron_db: str) -> Iterator[CachedViewTree]:
    """Four pg_cron jobs refreshing views at 09:00: one refresh spike."""
    scenario = CachedViewTree(cron_db, scale=0.02, views=3)
    with scenario:
        yield scenario
    scenario.remove()


def test_the_jobs_of_a_spike_are_paused_as_one_step_with_one_undo(
        refresh_spike: CachedViewTree, journal: Path) -> None:
    """The spike's four jobs are one step (`pause-4-jobs`), not four: applied by its id it
    pauses all of them as one journaled action; `--undo` of the step resumes all of them."""
    dsn = refresh_spike.dsn
    jobs = "SELECT array_agg(active ORDER BY jobid) FROM cron.job WHERE jobname LIKE %s"
    mine = (refresh_spike.prefix + "%",)
    code, out, err = run("mitigate", dsn, "--format", "json")
    assert code == 0, out + err
    pauses = [s for s in json.loads(out)["steps"] if s["kind"] == "pause-job"]
    assert [(s["id"], s["codes"], len(s["sql"]), len(s["undo"])) for s in pauses] == [
        ("pause-4-jobs", ["refresh-spike"], 4, 4)]
    code, out, err = run("mitigate", dsn, "--apply", "pause-4-jobs")
    assert code == 0, out + err
    assert _one(dsn, jobs, mine) == [False] * 4
    [action] = read_actions(journal)
    assert action.step == "pause-4-jobs" and len(action.done) == 4 and action.ok
    assert action.action["kind"] == "pause-job" and len(action.action["jobs"]) == 4
    code, out, err = run("mitigate", dsn, "--undo", "pause-4-jobs")
    assert code == 0, out + err
    assert _one(dsn, jobs, mine) == [True] * 4


def _state(dsn: str) -> Any:
    """What mitigation could change: sessions, prepared transactions, roles, jobs."""
    with admin_connect(dsn) as conn:
        return conn.execute(
            "SELECT (SELECT array_agg(pid ORDER BY pid) FROM pg_stat_activity "
            "        WHERE backend_type = 'client backend' AND application_name <> 'pgcrisis'"
            "        AND application_name <> 'pgcrisis-lab'),"
            " (SELECT array_agg(gid ORDER BY gid) FROM pg_prepared_xacts),"
            " (SELECT array_agg(rolname || rolconnlimit || coalesce(s.setconfig::text, '')"
            "                   ORDER BY rolname) FROM pg_roles r LEFT JOIN pg_db_role_setting s"
            "  ON s.setrole = r.oid)").fetchone()


def test_without_apply_the_server_is_never_changed(db: str, journal: Path) -> None:
    """A chain and an orphaned prepared transaction, with a full playbook for both: without
    --apply (text or JSON, with or without answers on stdin) nothing changes on the server
    and nothing is journaled; step ids without --apply are refused."""
    with IdleTransactionChain(db, readers=1), _Orphan(db, gid="pgcrisis-no-apply"):
        before = _state(db)
        code, out, _ = run("mitigate", db, answers="y\ny\ny\n")
        assert code == 0 and "rollback-prepared-pgcrisis-no-apply" in out
        code, out, _ = run("mitigate", db, "--format", "json", answers="y\n")
        steps = json.loads(out)["steps"]
        assert code == 0 and len(steps) >= 2
        # what unblocks most comes first
        assert [s["unblocks"] for s in steps] == sorted((s["unblocks"] for s in steps),
                                                        reverse=True)
        assert steps[0]["unblocks"] >= 2
        code, _, err = run("mitigate", db, "rollback-prepared-pgcrisis-no-apply")
        assert code == 3 and "--apply" in err
        assert _state(db) == before
    assert not journal.exists()


def test_an_action_failing_midway_leaves_the_journal_saying_what_ran(
        db: str, journal: Path) -> None:
    """A lock timeout on the second statement: the journal says the first ran, the second
    failed with the server's words, the third never ran. A lost connection (the session
    ended under the action) likewise. The next playbook starts from the server as it is."""
    target = Target(db, "test")
    with admin_connect(db) as conn:
        conn.execute("CREATE TABLE held (id int)")
    holder = psycopg.connect(db)
    holder.execute("LOCK TABLE held IN ACCESS EXCLUSIVE MODE")
    try:
        three = ("SELECT 1", "SELECT count(*) FROM held", "SELECT 3")
        timed_out = run_action(Recorded("test", "three statements", three), target,
                               step="three")
    finally:
        holder.close()
    assert (timed_out.done, timed_out.failed, timed_out.not_done) == (
        ("SELECT 1",), "SELECT count(*) FROM held", ("SELECT 3",))
    assert "lock timeout" in timed_out.error
    lost = run_action(Recorded("test", "lost", ("SELECT pg_terminate_backend(pg_backend_pid())",
                                                 "SELECT 2")), target, step="lost")
    assert lost.done == () and lost.not_done == ("SELECT 2",) and not lost.ok
    assert [a.step for a in read_actions(journal)] == ["three", "lost"]
    with IdleTransactionChain(db, readers=1) as lab:
        holder_step = f"terminate-pid-{lab.root_pid}"
        report = triage(db)
        assert playbook.build(report).steps[0].id == holder_step


def test_a_process_dying_midway_is_read_from_the_statement_lines(journal: Path) -> None:
    """No end line (the process died): the statement lines still say what ran."""
    journal.write_text("\n".join(json.dumps(r) for r in (
        {"event": "action-start", "id": "abc123", "step": "s", "title": "t",
         "at": "2026-01-01T00:00:00+00:00", "sql": ["SELECT 1", "SELECT 2"], "undo": []},
        {"at": "2026-01-01T00:00:00+00:00", "sql": "SELECT 1", "ok": True, "action": "abc123"},
    )) + "\n")
    [action] = read_actions(journal)
    assert not action.finished and not action.ok
    assert action.done == ("SELECT 1",) and action.not_done == ("SELECT 2",)


@pytest.mark.parametrize(("args", "says"), [
    (("--undo", "nope42"), "no action 'nope42'"),
    (("--apply", "terminate-pid-1"), "no step 'terminate-pid-1'"),
    (("--yes",), "--yes goes with --apply"),
    (("--undo", "x", "--apply"), "--undo runs alone"),
    (("--store", "/nonexistent", "--at", "09:00", "--apply"), "--apply changes the live"),
    (("host=a", "host=b"), "give the DSN once"),
])
def test_bad_input_is_one_line_and_exit_3(db: str, args: tuple[str, ...], says: str) -> None:
    """Mistakes are one line on stderr, exit 3, never a traceback, and nothing applied."""
    full = (db, *args) if args[0] != "host=a" else args
    code, out, err = run("mitigate", *full)
    assert code == 3, out + err
    assert len(err.strip().splitlines()) == 1 and says in err, err
