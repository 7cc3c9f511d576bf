"""Culprit or contention, pure: hand-built snapshots in, findings out.

A root blocker that holds what its waiters want for a meaningful time is a blocking-lock;
sessions queueing for rows or a table's extension behind a momentary holder are contention,
one finding about the table and the statement; a window groups what it finds by what it is
about, across the pids that came and went. The real servers' side is tests/test_contention.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pgcrisis.checks.registry import run_checks
from pgcrisis.history.stalls import stalls
from pgcrisis.history.window import judge_window, with_when
from pgcrisis.model.activity import Backend, LockWait
from pgcrisis.model.evidence_contention import ContentionEvidence
from pgcrisis.model.findings import Finding, Severity
from pgcrisis.model.load import CpuCount, LoadProfile, StatementLoad, Tick, WaitLoad
from pgcrisis.model.relations import Relations, Table
from pgcrisis.model.server import ServerInfo
from pgcrisis.model.snapshot import Snapshot

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
SERVER = ServerInfo(150000, "15.18", "app", "pgcrisis", False, 1,
                    settings={"max_connections": "100", "max_locks_per_transaction": "64",
                              "synchronous_commit": "on"})
UPDATE = "UPDATE hot SET n = n + 1 WHERE id = 3"
HOT = Relations(tables=(Table(1, "public", "hot", "public.hot", "r", 1, 5.0, 0, 0, 0, 5),))
CODES = ("blocking-lock", "row-lock-contention", "relation-extension", "lwlock-contention")


def session(pid: int, *, state: str = "active", xact_s: float = 0.02, query: str = UPDATE,
            wait: tuple[str | None, str | None] = (None, None), blocked_by: tuple[int, ...] = (),
            query_id: int | None = 42) -> Backend:
    return Backend(pid, "app", "counter", "counter-svc", "10.0.0.5", "client backend", state,
                   xact_s, xact_s, xact_s, wait[0], wait[1], query, blocked_by,
                   query_id=query_id)


def queue(root: int, waiters: int, *, event: str = "tuple", relation: str = "public.hot",
          first: int = 100) -> tuple[list[Backend], list[LockWait]]:
    """``waiters`` sessions waiting on ``event`` locks behind ``root`` (row locks: the first
    waits for the root's transaction, the others for the first's row lock)."""
    sessions, waits = [], []
    for i in range(waiters):
        pid = first + i
        row_event = "transactionid" if i == 0 and event == "tuple" else event
        sessions.append(session(pid, wait=("Lock", row_event),
                                blocked_by=(root,) if i == 0 else (first,)))
        waits.append(LockWait(pid, row_event, "ExclusiveLock", relation, "r"))
    return sessions, waits


def snap(second: float, *sessions: Backend, waits: list[LockWait] | None = None,
         load: LoadProfile | None = None) -> Snapshot:
    when = T0 + timedelta(seconds=second)
    return Snapshot(SERVER, when, activity=sessions, lock_waits=tuple(waits or ()),
                    relations=HOT, load=load, server_time=when)


def findings(snapshot: Snapshot) -> list[Finding]:
    return list(run_checks(snapshot, only=CODES).findings)


def test_a_momentary_root_of_row_lock_waiters_is_contention_not_a_culprit() -> None:
    waiters, waits = queue(10, 6)
    [found] = findings(snap(0, session(10), *waiters, waits=waits))
    assert found.code == "row-lock-contention"
    assert found.objects[0].kind == "relation" and found.objects[0].name == "public.hot"
    assert any(o.kind == "query" and o.queryid == 42 for o in found.objects)
    assert any(o.kind == "client" and o.application_name == "counter-svc"
               for o in found.objects)
    ev = found.evidence
    assert isinstance(ev, ContentionEvidence)
    assert (ev.measured_over, ev.waiting_sessions, ev.holders, ev.longest_hold_s) == (
        "instant", 6.0, 1, 0.02)
    assert ev.waits == {"Lock/tuple": 5.0, "Lock/transactionid": 1.0}
    assert found.remedy is not None
    assert found.remedy.sql == ('ALTER ROLE "counter" CONNECTION LIMIT 2',)
    assert "Cancelling or terminating one of them helps nobody" in found.remedy.summary


def test_a_root_gone_idle_or_between_two_statements_held_nothing_for_long() -> None:
    waiters, waits = queue(10, 6, event="extend", relation="public.events")
    between = session(10, state="idle in transaction", xact_s=0.004)  # a round trip
    for root in ((), (session(10, state="idle", xact_s=0.0),), (between,)):
        [found] = findings(snap(0, *root, *waiters, waits=waits))
        assert found.code == "relation-extension"
        assert found.evidence["relation"] == "public.events"


def test_a_root_holding_for_long_idle_in_transaction_or_prepared_is_a_blocking_lock() -> None:
    waiters, waits = queue(10, 6)
    cases = ((session(10, xact_s=3.0), ("pg_cancel_backend(10)", "pg_terminate_backend(10)")),
             (session(10, state="idle in transaction", xact_s=0.3),
              ("pg_terminate_backend(10)",)))
    for root, ends in cases:
        [found] = findings(snap(0, root, *waiters, waits=waits))
        assert found.code == "blocking-lock" and found.objects[0].pid == 10
        assert found.remedy is not None
        assert [sql.split()[-1] for sql in found.remedy.sql] == list(ends)
    prepared, waits = queue(0, 1)
    [found] = findings(snap(0, *prepared, waits=waits))
    assert found.code == "blocking-lock" and found.objects[0].kind == "prepared-xact"


def test_rows_queued_behind_a_culprit_are_its_chain_not_contention() -> None:
    """Most updaters queue behind a session idle in its transaction (it updated the row and
    sat): one blocking-lock, no contention finding; a few behind it among a churning queue:
    the contention stays, and says who holds for long."""
    stuck, stuck_waits = queue(10, 6)
    churn, churn_waits = queue(20, 2, first=200)
    idle = session(10, state="idle in transaction", xact_s=5.0)
    assert [f.code for f in findings(snap(0, idle, session(20), *stuck, *churn,
                                          waits=stuck_waits + churn_waits))] == [
        "blocking-lock"]
    few, few_waits = queue(10, 2)
    churn, churn_waits = queue(20, 6, first=200)
    found = {f.code: f for f in findings(snap(0, idle, session(20), *few, *churn,
                                              waits=few_waits + churn_waits))}
    assert set(found) == {"blocking-lock", "row-lock-contention"}
    assert "2 more waited behind pid 10" in found["row-lock-contention"].detail


def test_a_young_holder_of_a_relation_lock_is_still_a_blocking_lock() -> None:
    """A fresh ALTER TABLE queued behind a statement of 0.1 s: one holder and a queue, the
    golden active_statement_chain (unchanged)."""
    readers, waits = queue(10, 3, event="relation", relation="public.orders")
    [found] = findings(snap(0, session(10, xact_s=0.1, query="SELECT count(*) FROM orders"),
                            *readers, waits=waits))
    assert found.code == "blocking-lock" and found.objects[0].pid == 10


def test_a_handful_at_one_instant_is_no_finding_without_a_window() -> None:
    waiters, waits = queue(10, 4)
    assert findings(snap(0, session(10), *waiters, waits=waits)) == []


def _profile(row_locks: float, lwlock: float, active: float, ticks: int = 6) -> LoadProfile:
    statement = StatementLoad(5000.0, 9000.0, 5000.0, 0, 0, 0, 0, 0, None, None, queryid=42,
                              query="UPDATE hot SET n = n + $1 WHERE id = $2", role="counter",
                              active=active, row_locks=row_locks, lwlock=lwlock, target="hot")
    waits = (WaitLoad("Lock", "tuple", row_locks * 0.7),
             WaitLoad("Lock", "transactionid", row_locks * 0.3),
             WaitLoad("LWLock", "WALWrite", lwlock),
             WaitLoad("CPU", None, active - row_locks - lwlock))
    return LoadProfile(1.0, ticks, CpuCount(2, "given"), waits,
                       tuple(Tick(round(active), 1, 0, row_locks=round(row_locks),
                                  lwlock=round(lwlock)) for _ in range(ticks)),
                       (statement,), 1.0)


def test_over_the_window_the_hot_rows_and_the_wal_named_by_their_statement() -> None:
    found = {f.code: f for f in findings(snap(0, session(10), load=_profile(6.0, 3.5, 10.0)))}
    assert set(found) == {"row-lock-contention", "lwlock-contention"}
    rows, wal = found["row-lock-contention"], found["lwlock-contention"]
    assert rows.severity is Severity.CRITICAL  # 6 sessions, 60% of the active ones
    assert rows.objects[0].name == "public.hot"  # the statement's table, from the catalog
    assert rows.evidence["statements"][0]["calls_per_s"] == 5000.0
    assert wal.severity is Severity.WARNING and wal.evidence["lwlock"] == "WALWrite"
    assert wal.remedy is not None
    cap, option = wal.remedy.sql
    assert cap == 'ALTER ROLE "counter" CONNECTION LIMIT 4'  # twice the 2 cores
    assert option.startswith("-- or commits of role counter stop waiting for the WAL flush")
    assert option.endswith('ALTER ROLE "counter" SET synchronous_commit = off')
    quiet = findings(snap(0, session(10), load=_profile(1.5, 0.5, 10.0)))
    assert quiet == []


def test_a_window_of_changing_holders_is_one_finding_about_the_table() -> None:
    frames = []
    for second in range(10):
        root = 10 + second  # a new holder every sample, each for milliseconds
        waiters, waits = queue(root, 8, first=100 + 10 * second)
        frames.append(snap(second, session(root), *waiters, waits=waits))
    found = judge_window(frames)
    codes = sorted(w.finding.code for w in found)
    assert codes == ["row-lock-contention", "stall"]
    stall = next(w for w in found if w.finding.code == "stall")
    assert stall.finding.evidence["root_blockers"] == []  # no culprit to name
    assert stall.finding.objects[0].name == "public.hot"


def test_a_window_groups_culprits_on_one_table_and_names_their_pids() -> None:
    frames = []
    for second in range(6):
        root = 7 if second < 3 else 8  # one idle transaction, then another
        readers, waits = queue(root, 2, event="relation", relation="public.orders")
        holder = session(root, state="idle in transaction", xact_s=30.0 + second)
        frames.append(snap(second, holder, *readers, waits=waits))
    [locks] = [w for w in judge_window(frames) if w.finding.code == "blocking-lock"]
    assert locks.pids == (7, 8)
    said = with_when(locks)
    assert said.evidence["pids"] == [7, 8]
    assert "(and 1 other pids over the window)" in said.title


def test_a_stall_in_bursts_is_one_finding_per_table() -> None:
    frames = []
    for second in range(12):
        burst = second % 3 == 0  # a queue every third sample, drained in between
        waiters, waits = queue(50, 9 if burst else 0, event="extend", relation="public.events")
        frames.append(snap(second, session(50), *waiters, waits=waits))
    [stall] = stalls(frames)
    assert stall.finding.evidence["stretches"] == 4
    assert stall.finding.objects[0].name == "public.events"
    assert " in 4 stretches (4 samples) from " in stall.finding.title
