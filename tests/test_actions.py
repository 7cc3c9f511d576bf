"""The action catalogue: each statement is shown exactly as psycopg composes it, alike
actions merge into one with one undo, a role brake's undo is what was read, and building or
showing any action loads no driver."""

from __future__ import annotations

import json
import subprocess
import sys

from pgcrisis.actions import (
    Action,
    Analyze,
    AnalyzeInStages,
    Cancel,
    CapConnections,
    CreateIndex,
    DropIndex,
    DropSlot,
    Job,
    PauseJobs,
    Recorded,
    RefreshConcurrentlyInJobs,
    RefreshMatview,
    RescheduleJob,
    ResumeJobs,
    RollbackPrepared,
    SetJobCommand,
    SetSetting,
    TableOption,
    Terminate,
    TerminateSessions,
    Vacuum,
    Widen,
    covers,
    merged,
    remedy_sql,
)

#: names a careless quoting gets wrong: a quote, a backslash, capitals, a space, non-ASCII
ODD = ("it's", "back\\slash", "Mixed Case", "naïve \"quoted\"")


def every_kind() -> list[Action]:
    """One action of every kind and form, with odd names wherever a name is quoted."""
    out: list[Action] = [Cancel.of([20, 10, 20]), Terminate.of([7]),
                         TerminateSessions(idle_only=True, idle_for="10 minutes"),
                         Vacuum(None, freeze=True), Vacuum("public.t"), Analyze("public.t"),
                         AnalyzeInStages(("public.t", "public.u")),
                         DropIndex("public.t_idx"), RefreshMatview("public.mv", True),
                         RefreshMatview("public.mv"), Widen("public.seq"),
                         Widen("public.t", "id"), TableOption("public.t", "autovacuum_enabled"),
                         TableOption("public.t", "autovacuum_vacuum_scale_factor", 0.02),
                         SetSetting("jit_above_cost", 1400000, "database", "shop"),
                         CapConnections("app", 5).known(-1, [])]
    for name in ODD:
        job = Job(3, name)
        out += [
            TerminateSessions(name), TerminateSessions(name, name, idle_only=True),
            RollbackPrepared(name), DropSlot(name), PauseJobs((job,)), ResumeJobs((job,)),
            RescheduleJob(job, "1 3 * * *", name), SetJobCommand(job, name, name),
            SetSetting("search_path", name, "role", name).known(-1, [f"search_path={name}"]),
            SetSetting("jit", "off", "database", name), SetSetting("statement_timeout", "5min"),
            CapConnections(name, 3).known(20, []),
            CreateIndex.on_columns(name, name, name, [name, "b"]),
        ]
    return out


def test_every_statement_reads_as_psycopg_composes_it(db: str) -> None:
    """The text a remedy shows and the journal keeps is, for every kind of action, byte for
    byte what psycopg composes and runs on a real connection (a literal with a backslash
    aside: psycopg writes it ``E'…'``, next test)."""
    import psycopg

    statements = [s for a in every_kind() for s in (*a.statements, *a.undo)]
    plain = [s for s in statements if "\\" not in s.text]
    assert len(plain) > 60
    with psycopg.connect(db) as conn:
        for s in plain:
            assert s.text == s.composable().as_string(conn), s.template


def test_what_runs_is_what_is_shown(db: str) -> None:
    """Every odd literal, shown and run: the server reads the shown text and the composed
    statement as the same value (a backslash stays a backslash)."""
    import psycopg

    from pgcrisis.actions.statement import Literal, Statement

    with psycopg.connect(db) as conn:
        for name in ODD:
            statement = Statement("SELECT {}", (Literal(name),))
            shown = conn.execute(statement.text.encode()).fetchone()
            ran = conn.execute(statement.composable()).fetchone()
            assert shown == ran == (name,)


def test_alike_actions_merge_into_one_with_one_undo() -> None:
    """Thirteen pauses of one finding are one action: every statement, and an undo that
    resumes every job; pauses in another database, and terminations, stay apart."""
    pauses = [PauseJobs((Job(i, f"refresh-{i}"),)) for i in range(1, 14)]
    [one, elsewhere] = merged([*pauses, PauseJobs((Job(20, "x"),), database="cron")])
    assert isinstance(one, PauseJobs) and len(one.jobs) == 13
    assert one.ident == "pause-13-jobs" and one.title.startswith("pause 13 pg_cron jobs: ")
    assert one.sql[0] == "SELECT cron.alter_job(1, active := false)" and len(one.sql) == 13
    assert [s.text for s in one.undo][-1] == "SELECT cron.alter_job(13, active := true)"
    assert elsewhere.database == "cron"
    assert covers(one, pauses[4]) and not covers(pauses[4], one)
    assert len(merged([Terminate.of([1]), Terminate.of([2])])) == 2
    assert merged([pauses[0]]) == (pauses[0],) and pauses[0].ident == "pause-job-1"


def test_actions_name_their_sql_risk_and_undo() -> None:
    assert Cancel.of([20, 10, 20]).sql == ("SELECT pg_cancel_backend(10)",
                                           "SELECT pg_cancel_backend(20)")
    assert Terminate.of([7]).title == "terminate pid 7" and Terminate.of([7]).undo == ()
    rollback = RollbackPrepared("it's", database="app")
    assert rollback.sql == ("ROLLBACK PREPARED 'it''s'",) and rollback.database == "app"
    pause = PauseJobs((Job(3, "refresh"),), database="postgres")
    assert [s.text for s in pause.undo] == ["SELECT cron.alter_job(3, active := true)"]
    idle = TerminateSessions("report-pool", "crm", idle_only=True)
    assert idle.sql == ("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                        "state = 'idle' AND application_name = 'report-pool' AND "
                        "usename = 'crm'",)
    assert idle.ident == "terminate-idle-client-report-pool"


def test_a_role_brake_undoes_to_what_was_read() -> None:
    """Before the role's values are read, a brake's undo is unknown (read at apply); after,
    it puts back exactly what was there: a limit, a value, or nothing (RESET)."""
    cap = CapConnections("app", 5)
    assert cap.undo == () and cap.undo_read_at_apply
    assert [s.text for s in cap.known(-1, []).undo] == ['ALTER ROLE "app" CONNECTION LIMIT -1']
    jit = SetSetting("jit", "off", "role", "app")
    assert jit.ident == "jit-off-role-app" and jit.kind == "role-jit"
    assert [s.text for s in jit.known(-1, ["jit=on"]).undo] == ['ALTER ROLE "app" SET jit = on']
    assert [s.text for s in jit.known(-1, ["work_mem=4MB"]).undo] == [
        'ALTER ROLE "app" RESET jit']
    assert not SetSetting("jit", "off").undo_read_at_apply


def test_a_remedy_shows_options_as_alternatives() -> None:
    """Options are shown under ``-- or …:``; steps as they are; a statement once."""
    actions = (SetSetting("jit", "off"),
               SetSetting("jit", "off", "role", "app", option="only for role app"),
               Terminate.of([1]), Terminate.of([1]))
    assert remedy_sql(actions) == ("ALTER SYSTEM SET jit = off", "SELECT pg_reload_conf()",
                                   '-- or only for role app:\nALTER ROLE "app" SET jit = off',
                                   "SELECT pg_terminate_backend(1)")


def test_a_concurrent_refresh_keeps_each_jobs_order_and_restores_its_command() -> None:
    index = CreateIndex.written("mv_key", "CREATE UNIQUE INDEX CONCURRENTLY mv_key ON mv (k)")
    one = RefreshConcurrentlyInJobs((index, SetJobCommand(Job(1, "a"), "new 1", "old 1")))
    two = RefreshConcurrentlyInJobs((index, SetJobCommand(Job(2, "b"), "new 2", "old 2")))
    [both] = merged([one, two])
    assert both.ident == "concurrent-refresh-2-jobs"
    assert both.title == "refresh CONCURRENTLY in job(s) a, b"
    assert both.sql == (index.sql[0], "SELECT cron.alter_job(1, command := 'new 1')",
                        "SELECT cron.alter_job(2, command := 'new 2')")
    assert [s.text for s in both.undo] == ["SELECT cron.alter_job(1, command := 'old 1')",
                                           "SELECT cron.alter_job(2, command := 'old 2')"]


def test_the_journal_form_names_kind_and_objects() -> None:
    assert PauseJobs((Job(3, "x"),)).to_json() == {"kind": "pause-job",
                                                   "jobs": [{"jobid": 3, "name": "x"}]}
    assert Recorded("undo-x", "undo: x", ("SELECT 1",)).sql == ("SELECT 1",)


#: this module imports no driver at the top, so the probe can build every kind from it
_PROBE = """
import json, sys
from tests.test_actions import every_kind
texts = [s.text for a in every_kind() for s in (*a.statements, *a.undo)]
print(json.dumps({"n": len(texts), "loaded": sorted(m for m in sys.modules
                                                   if m.split(".")[0] == "psycopg")}))
"""


def test_building_and_showing_actions_loads_no_driver() -> None:
    """Checks build actions and renderers show them while a recording is judged, which must
    not load psycopg (tests/test_imports.py): only running one composes it."""
    done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                          check=True)
    result = json.loads(done.stdout)
    assert result["n"] > 60 and result["loaded"] == []
