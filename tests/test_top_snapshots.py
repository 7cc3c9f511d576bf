"""The layout of every ``pgcrisis top`` screen at 120x40, fixed as SVG baselines.

The app is fed a hand-made moment (tests/top_fixtures.py: fixed pids, ages and times, shown
in UTC), so every render is the same; a change of layout fails here until the baselines are
regenerated (``pytest tests/test_top_snapshots.py --snapshot-update``) and looked at. A
missing baseline fails too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

from pgcrisis.presentation.top.app import TopApp
from tests.top_fixtures import AT, TARGET, FixedSource, chain_snapshot, history, saturated_snapshot

SIZE = (120, 40)
Compare = Callable[..., bool]


def _app(*, read_only: bool = False, superuser: bool = True, status: str = "live") -> TopApp:
    return TopApp(FixedSource(chain_snapshot(superuser=superuser), status), target=TARGET,
                  read_only=read_only, zone=UTC)


def test_sessions_screen(snap_compare: Compare) -> None:
    """Header (connections, tps, waits, oldest transaction, horizon, findings), then every
    non-idle session, longest query first, and the keys."""
    assert snap_compare(_app(), terminal_size=SIZE)


def test_sessions_screen_with_idle_shown_sorted_by_locks(snap_compare: Compare) -> None:
    """i shows idle sessions; o cycles the sort key (duration → locks)."""
    assert snap_compare(_app(), press=["i", "o"], terminal_size=SIZE)


def test_blocking_tree_screen(snap_compare: Compare) -> None:
    """The root (the long statement) first, the queued ALTER TABLE under it, the readers under
    the ALTER, each with its state, wait, wanted lock and sessions behind."""
    assert snap_compare(_app(), press=["2", "down"], terminal_size=SIZE)


def test_findings_screen(snap_compare: Compare) -> None:
    """The findings, worst first, and the highlighted one's detail, evidence and remedy."""
    assert snap_compare(_app(), press=["3"], terminal_size=SIZE)


def test_details_screen(snap_compare: Compare) -> None:
    """Enter on a session: its full query, locks, transaction age, client, who it blocks."""
    assert snap_compare(_app(), press=["down", "enter"], terminal_size=SIZE)


def test_cancel_confirmation(snap_compare: Compare) -> None:
    """c on the tree's root: the modal shows the exact SQL, the risk and the undo."""
    assert snap_compare(_app(), press=["2", "down", "c"], terminal_size=SIZE)


def test_read_only_non_superuser(snap_compare: Compare) -> None:
    """Read-only: no action keys in the footer; as a non-superuser the header says what it
    cannot see or do."""
    assert snap_compare(_app(read_only=True, superuser=False), terminal_size=SIZE)


def _saturated() -> TopApp:
    points = history(AT, 2, (7.6, 0.0, 0.0, 0.4, 0.0, 0.0, 0.0))
    return TopApp(FixedSource(saturated_snapshot(2), points=points), target=TARGET, zone=UTC)


def test_saturated_load_pane(snap_compare: Compare) -> None:
    """The load pane: 7.6 sessions on CPU on 2 CPUs (3.8x the cores, in red), and the last
    minute's samples growing to it as stacked bars above the dotted CPU line."""
    assert snap_compare(_saturated(), terminal_size=SIZE)


def test_saturation_finding_keys(snap_compare: Compare) -> None:
    """On a cpu-saturation finding the footer offers what mitigate would do: cancel its
    statement, terminate its client, cap its role, set its role's setting (JIT off)."""
    assert snap_compare(_saturated(), press=["3"], terminal_size=SIZE)
