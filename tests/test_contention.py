"""Contention produced for real: many clients on the same rows or the same table, each wait
short and changing hands (issue 20, points 3 and 4). Named as one finding about the contended
thing (the table, the statement, the client), never as a random session to terminate.

The load is pgbench with a custom script (tests/scenarios/contention.py): 40 clients updating
five rows (``UPDATE hot SET n = n + 1 WHERE id = random(1, 5)``), 53 clients inserting into
one table. Measured on the shared 2-core machine, a 2 s load window sees 5 to 17 sessions
waiting on the rows' locks (half to nine tenths of the active ones), 6 to 32 on the table's
buffers and extension lock; each holder's transaction is 10 to 50 ms old. Each test checks:

- live: triage names the contention first (the first root in the order a person reads it),
  with the table and the statement's queryid, and no blocking-lock or cancel/terminate
  anywhere; a snapshot caught with sessions queued behind momentary holders names it too,
  judged at that instant (no load window), and blames none of them;
- recorded: ``pgcrisis record`` runs during the load and ``triage --from/--to`` over it
  names it too, as a handful of findings (before: a blocking-lock per pid that held the lock
  for an instant, a stall per stretch);
- a true culprit among them (a session that updated one of the hot rows and sits idle in its
  transaction) is still the blocking-lock, read first, with the contention beneath it.

Each takes 15-25 s.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import psycopg
import pytest

from pgcrisis.checks.causes import tree
from pgcrisis.checks.contention import instant
from pgcrisis.checks.locks import wait_chains
from pgcrisis.checks.registry import run_checks
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.judge import TriageReport
from pgcrisis.model.contention import EXTENSION, ROW_LOCKS, Kind
from pgcrisis.model.evidence_contention import ContentionEvidence
from pgcrisis.model.findings import Finding, Severity
from pgcrisis.model.snapshot import Snapshot
from tests.helpers import PgServer, triage
from tests.record_helpers import collected, idle_for
from tests.scenarios.contention import HotRowUpdates, InsertContention
from tests.scenarios.load import recorded_window

pytestmark = [pytest.mark.needs("pg_stat_statements"), pytest.mark.min_server(14)]

#: a load window long enough to average the bursts over (2 cores: queues form and drain)
WINDOW_S = 2.0
#: what a minute of either load may give over a recording: a handful
HANDFUL = 8
#: the contention codes (checks/contention.py)
CONTENTION = ("row-lock-contention", "relation-extension", "lwlock-contention")
#: a remedy ending a session
_ONE_SESSION = re.compile(r"pg_(?:terminate|cancel)_backend\(")


def _queryid(dsn: str, text: str) -> int:
    """pg_stat_statements' queryid of the statement whose text starts like ``text``, in the
    test's own database (the cluster is shared: another test's table is another queryid)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT queryid FROM pg_stat_statements WHERE query LIKE %s"
                           " AND dbid = (SELECT oid FROM pg_database"
                           " WHERE datname = current_database())"
                           " ORDER BY calls DESC LIMIT 1", (text + "%",)).fetchone()
    assert row is not None, f"pg_stat_statements has no statement like {text!r}"
    return int(row[0])


def _first_root(report: TriageReport) -> Finding:
    """The first finding above info a person reads: roots first, consequences beneath."""
    order = [report.findings[i] for i, depth in tree(report.findings, report.caused_by)
             if depth == 0 and report.findings[i].severity is not Severity.INFO]
    assert order, [f.title for f in report.findings]
    return order[0]


def _nobody_blamed(findings: tuple[Finding, ...]) -> None:
    """No session named as a culprit: no blocking-lock, and the contention's remedy ends no
    session (a cap on the clients, never one of them cancelled or terminated)."""
    assert [f.title for f in findings if f.code == "blocking-lock"] == []
    ending = [sql for f in findings if f.code in CONTENTION and f.remedy is not None
              for sql in f.remedy.sql if _ONE_SESSION.search(sql)]
    assert ending == []


def _names(finding: Finding, table: str, queryid: int) -> None:
    """``finding`` is about ``table`` first, and the statement ``queryid`` drives it (its
    evidence as the JSON has it: a window's report carries it as a mapping)."""
    ev = finding.evidence
    assert finding.objects[0].kind == "relation" and finding.objects[0].name == table
    assert ev["relation"] == table
    assert any(o.kind == "query" and o.queryid == queryid for o in finding.objects)
    assert ev["statements"] and ev["statements"][0]["queryid"] == queryid


def _caught(dsn: str, kind: Kind) -> Snapshot:
    """A snapshot (no load window) with sessions queued behind momentary holders of
    ``kind``, as many as judge contention at one instant (polled, 20 s at most)."""
    t = Thresholds()

    def queued(snapshot: Snapshot) -> bool:
        return len(instant(snapshot, kind, t).waiters) >= t.contention_min_waiters

    return collected(dsn, queued, timeout=20)


def _at_instant(snapshot: Snapshot, code: str, table: str) -> Finding:
    """The checks run on a snapshot caught mid-queue: ``code`` at the instant, nobody blamed."""
    findings = run_checks(snapshot).findings
    _nobody_blamed(findings)
    [found] = [f for f in findings if f.code == code]
    ev = found.evidence
    assert isinstance(ev, ContentionEvidence)
    assert ev.measured_over == "instant" and ev.holders >= 1
    # held for a moment: under a second, or already over when the holder's row was read
    # (its transaction had ended: no age to show, and the finding says "a moment")
    assert ev.longest_hold_s is None or ev.longest_hold_s < 1.0
    assert ev.relation == table  # from the locks awaited, else the statement's table
    assert ev.statements and ev.statements[0].table == table
    return found


def _window(report: TriageReport, codes: tuple[str, ...], table: str, queryid: int,
            check: Callable[[Finding], bool] = lambda f: True) -> None:
    """The window's report: a handful of findings, the contention among them naming the
    table and the statement, nobody blamed."""
    assert len(report.findings) <= HANDFUL, [f.title for f in report.findings]
    _nobody_blamed(report.findings)
    named = [f for f in report.findings if f.code in codes and check(f)]
    assert named, [f.title for f in report.findings]
    _names(named[0], table, queryid)
    assert "started_at" in named[0].evidence and "peak_at" in named[0].evidence


def test_hot_rows_are_one_row_lock_contention_live_and_recorded(
        pg: PgServer, db: str, tmp_path: object) -> None:
    with HotRowUpdates(db, pg.tool("pgbench")):
        live = triage(db, sample_s=WINDOW_S)
        queryid = _queryid(db, "UPDATE hot SET n = n +")
        first = _first_root(live)
        assert first.code == "row-lock-contention", [f.title for f in live.findings]
        _names(first, "public.hot", queryid)
        ev = first.evidence
        assert isinstance(ev, ContentionEvidence)
        assert ev.measured_over == "window" and ev.waiting_sessions >= 2
        assert set(ev.waits) <= {"Lock/transactionid", "Lock/tuple"}
        assert any(o.kind == "client" and o.application_name == "counter-svc"
                   for o in first.objects)
        _nobody_blamed(live.findings)
        _at_instant(_caught(db, ROW_LOCKS), "row-lock-contention", "public.hot")
        recorded = recorded_window(db, str(tmp_path / "hot.db"), 24, after=2)
    _window(recorded, ("row-lock-contention",), "public.hot", queryid)


def test_an_insert_storm_is_contention_on_its_table_live_and_recorded(
        pg: PgServer, db: str, tmp_path: object) -> None:
    with InsertContention(db, pg.tool("pgbench")):
        live = triage(db, sample_s=WINDOW_S)
        queryid = _queryid(db, "INSERT INTO events")
        first = _first_root(live)
        # the contention, or the write storm whose writers queue for the table (its cause)
        assert first.code in ("lwlock-contention", "relation-extension", "write-storm"), [
            f.title for f in live.findings]
        [found, *_] = [f for f in live.findings
                       if f.code in ("lwlock-contention", "relation-extension")]
        _names(found, "public.events", queryid)
        ev = found.evidence
        assert isinstance(ev, ContentionEvidence) and ev.waiting_sessions >= 2
        assert any(o.kind == "client" and o.application_name == "ingest"
                   for o in found.objects)
        if first.code == "write-storm":  # the contention beneath it, one link or two
            causes = set(live.caused_by[live.findings.index(found)])
            causes |= {j for i in causes for j in live.caused_by[i]}
            assert live.findings.index(first) in causes
        _nobody_blamed(live.findings)
        recorded = recorded_window(db, str(tmp_path / "insert.db"), 24, after=2)
    _window(recorded, ("lwlock-contention", "relation-extension"), "public.events", queryid)


def test_an_insert_storm_caught_mid_extension_blames_no_inserter(
        pg: PgServer, db: str) -> None:
    """Before: a random inserter named as the root blocker of the queue, 'blocks 40
    sessions for 0 s', cancel then terminate. Now: the table's extension, at that instant."""
    with InsertContention(db, pg.tool("pgbench")):
        snapshot = _caught(db, EXTENSION)
    _at_instant(snapshot, "relation-extension", "public.events")


def test_a_long_holder_among_the_hot_row_updates_is_still_the_blocking_lock(
        pg: PgServer, db: str) -> None:
    """One session updates hot row 1 and sits idle in its transaction while 40 clients update
    the five rows: the updaters of row 1 queue behind it for good. It is the culprit (named
    first, terminate as its remedy); the churn on the other rows is contention beneath it,
    never a blocking-lock of its own."""
    with HotRowUpdates(db, pg.tool("pgbench")), psycopg.connect(db) as holder:
        holder.execute("SET application_name = 'forgotten-tx'")
        holder.execute("UPDATE hot SET n = n + 1 WHERE id = 1")
        pid = holder.info.backend_pid
        held = idle_for(pid, 1.1)  # idle-in-transaction is news once it has sat for a second

        def queued_behind(snapshot: Snapshot) -> bool:
            behind = sum(len(c.waiters) for c in wait_chains(snapshot.activity)
                         if c.root == pid)
            return held(snapshot) and behind >= 3

        collected(db, queued_behind, timeout=20)
        report = triage(db, sample_s=WINDOW_S)
        holder.rollback()
    first = _first_root(report)
    assert first.code in ("blocking-lock", "idle-in-transaction"), [
        f.title for f in report.findings]
    assert first.objects[0].kind == "backend" and first.objects[0].pid == pid
    [blocking] = report.by_code("blocking-lock")
    assert blocking.objects[0].pid == pid
    assert blocking.remedy is not None
    assert f"pg_terminate_backend({pid})" in " ".join(blocking.remedy.sql)
    for found in report.findings:
        if found.code in CONTENTION:  # the churn on the other rows: beneath the culprit
            index = report.findings.index(found)
            assert report.findings.index(blocking) in report.caused_by[index] or any(
                report.findings[i].code in CONTENTION for i in report.caused_by[index])
