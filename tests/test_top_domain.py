"""``pgcrisis top``'s domain, on hand-made snapshots: the blocking tree, session rows, the
header's figures, and replay's stepping through a recording.

The checks and the view are pure functions of a snapshot, so these fix the shapes a person
reads in a crisis without a server; the live paths are tested against real servers in
``test_top_app.py``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from pgcrisis.errors import ConfigError
from pgcrisis.model.activity import LockCount, LockWait, PreparedXact, Transactions
from pgcrisis.model.findings import Severity
from pgcrisis.model.health import DatabaseInfo, ServerHealth
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.store import Store
from pgcrisis.top.replay import ReplaySource
from pgcrisis.top.sessions import SessionFilter, session_rows, sort_rows
from pgcrisis.top.tree import blocking_tree
from pgcrisis.top.view import build_view, header
from tests.record_helpers import SERVER, T0, backend, central, frame, spec, store  # noqa: F401

LOCK = ("Lock", "relation")


def chain() -> Snapshot:
    """pid 10 holds a lock in an idle transaction; 20's ALTER TABLE queues behind it; 31-33
    read the table and queue behind the ALTER (pg_blocking_pids names the ALTER, and for 33
    also 10, as a soft and a hard blocker); 40 is idle."""
    return Snapshot(
        server=SERVER, taken_at=T0, server_time=T0,
        activity=(
            backend(10, state="idle in transaction", age=120.0, query="select * from orders"),
            backend(20, age=60.0, query="alter table orders add note text", blocked_by=(10,),
                    wait=LOCK),
            backend(31, age=50.0, blocked_by=(20,), wait=LOCK),
            backend(32, age=40.0, blocked_by=(20,), wait=LOCK),
            backend(33, age=30.0, blocked_by=(10, 20), wait=LOCK),
            backend(40, state="idle", age=None),
        ),
        lock_counts=(LockCount(10, 3, 3, 0, 2), LockCount(20, 2, 1, 1, 1),
                     LockCount(31, 1, 0, 1, 1)),
        lock_waits=(LockWait(20, "relation", "AccessExclusiveLock", "public.orders", "r"),
                    LockWait(31, "relation", "AccessShareLock", "public.orders", "r")),
    )


def shape(snapshot: Snapshot) -> list[tuple[int, int]]:
    return [(depth, node.pid) for root in blocking_tree(snapshot) for depth, node in root.walk()]


def test_the_root_comes_first_and_the_queue_nests_under_the_queued_alter() -> None:
    """Readers queued behind a queued ALTER TABLE are its children, not the root's, even when
    pg_blocking_pids also names the root; the root counts every session behind it."""
    assert shape(chain()) == [(0, 10), (1, 20), (2, 31), (2, 32), (2, 33)]
    root = blocking_tree(chain())[0]
    assert (root.behind, root.waiting_s, root.state) == (4, None, "idle in transaction")
    alter = root.children[0]
    assert alter.wants == "AccessExclusiveLock on public.orders"
    assert alter.waiting_s == 60.0


def test_a_session_blocking_several_is_one_root_with_every_waiter() -> None:
    """Two independent queues behind one session (pg_activity #240 got this wrong)."""
    snap = replace(chain(), activity=(
        backend(10, state="idle in transaction", age=9.0),
        backend(21, blocked_by=(10,), wait=LOCK), backend(22, blocked_by=(10,), wait=LOCK),
        backend(50, state="idle in transaction", age=3.0),
        backend(51, blocked_by=(50,), wait=LOCK)))
    assert shape(snap) == [(0, 10), (1, 21), (1, 22), (0, 50), (1, 51)]


def test_a_prepared_transaction_is_a_root_by_its_gid() -> None:
    snap = replace(chain(), activity=(backend(21, blocked_by=(0,), wait=LOCK),),
                   prepared=(PreparedXact("orphan-7", "app", "app", 600.0, 1234),))
    root = blocking_tree(snap)[0]
    assert (root.pid, root.label) == (0, "prepared transaction 'orphan-7'")


def test_a_cycle_still_shows_once_from_its_lowest_pid() -> None:
    """A deadlock the server has not detected yet has no root; it is shown, not lost."""
    snap = replace(chain(), activity=(backend(7, blocked_by=(8,), wait=LOCK),
                                      backend(8, blocked_by=(7,), wait=LOCK)))
    assert shape(snap) == [(0, 7), (1, 8)]


def test_no_waiter_no_tree() -> None:
    assert blocking_tree(replace(chain(), activity=(backend(1),))) == ()


def test_session_rows_carry_locks_waits_and_the_findings_naming_them() -> None:
    view = build_view(chain())
    rows = {r.pid: r for r in view.sessions}
    assert rows[10].locks == 3 and rows[20].wait == "Lock:relation"
    assert "blocking-lock" in rows[10].findings
    assert rows[40].idle


def test_the_filter_hides_idle_sessions_and_matches_fields_and_text() -> None:
    rows = session_rows(chain())
    assert 40 not in {r.pid for r in rows if SessionFilter().keeps(r)}
    assert 40 in {r.pid for r in rows if SessionFilter(show_idle=True).keeps(r)}
    assert {r.pid for r in rows if SessionFilter(text="ALTER").keeps(r)} == {20}
    assert {r.pid for r in rows if SessionFilter(state="idle in").keeps(r)} == {10}
    assert {r.pid for r in rows if SessionFilter(only_pids=frozenset({40})).keeps(r)} == {40}
    assert SessionFilter(text="x", show_idle=True).describe() == "text~x, idle shown"


def test_sorting_by_duration_follows_the_basis_and_puts_unknown_last() -> None:
    rows = session_rows(chain())
    assert [r.pid for r in sort_rows(rows, "duration")] == [10, 20, 31, 32, 33, 40]
    assert [r.pid for r in sort_rows(rows, "locks")][:2] == [10, 20]
    assert sort_rows(rows, "pid", descending=False)[0].pid == 10


def test_the_header_counts_states_limits_rates_and_findings() -> None:
    before = replace(chain(), transactions=Transactions(1000, 10))
    after = replace(chain(), taken_at=T0 + timedelta(seconds=2),
                    server_time=T0 + timedelta(seconds=2),
                    transactions=Transactions(1100, 10),
                    server_health=ServerHealth(databases=(
                        DatabaseInfo("app", True, False, True, 0, 0, 8),)))
    view = build_view(after, before)
    h = view.header
    assert h.tps == 50.0
    assert h.by_state == {"idle in transaction": 1, "active": 4, "idle": 1}
    assert h.waiting == 4
    assert h.oldest_xact == (10, 120.0)
    assert [(x.scope, x.name, x.used, x.limit) for x in h.limits] == [
        ("server", "max_connections", 7, 100), ("database", "app", 6, 8)]
    assert h.findings.get(Severity.WARNING.value, 0) + h.findings.get("critical", 0) >= 1


def test_a_statistics_reset_between_two_samples_gives_no_rate() -> None:
    before = replace(chain(), transactions=Transactions(1000, 0))
    after = replace(chain(), server_time=T0 + timedelta(seconds=1),
                    transactions=Transactions(5, 0))
    assert header(after, before, ()).tps is None


def test_replay_steps_frame_by_frame_and_jumps_to_findings(store: Store) -> None:  # noqa: F811
    """Replay moves through the frames a recording holds, and jumps to the next (or previous)
    frame in which a warning held; at either end it stays put."""
    writer = store.writer("shop", source="test")
    calm = {"activity": (backend(1),), "lock_counts": (), "lock_waits": (), "strong_locks": (),
            "prepared": ()}
    bad = {**calm, "activity": chain().activity}
    for i in range(6):
        fields = bad if i == 4 else calm
        writer.append(frame(T0 + timedelta(seconds=i), fields,
                            worst=Severity.WARNING if i == 4 else None))
    writer.close()
    replay = ReplaySource(store, None, T0 + timedelta(seconds=1, milliseconds=500))
    assert replay.position == T0 + timedelta(seconds=1)
    assert replay.latest().view.tree == ()
    assert replay.step(forward=True, flagged=True)
    assert replay.position == T0 + timedelta(seconds=4)
    assert replay.latest().view.tree[0].pid == 10
    assert replay.step(forward=True) and replay.position == T0 + timedelta(seconds=5)
    assert not replay.step(forward=True) and replay.position == T0 + timedelta(seconds=5)
    assert replay.step(forward=False, flagged=True)
    assert replay.position == T0 + timedelta(seconds=4)
    assert not replay.step(forward=False, flagged=True)


def test_replay_outside_the_recording_says_what_it_covers(store: Store) -> None:  # noqa: F811
    writer = store.writer("shop", source="test")
    writer.append(frame(T0, {"activity": ()}))
    writer.close()
    with pytest.raises(ConfigError, match="outside the recording 'shop', which covers"):
        ReplaySource(store, None, T0 - timedelta(hours=1))
