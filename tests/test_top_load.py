"""``top``'s load pane (sessions by wait class against the CPUs, the last minute's samples),
live and replayed, and the keys a saturation finding offers: what ``mitigate`` would do for
it (cancel its statement, end its client, cap its role, JIT off for the role)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, timedelta
from pathlib import Path

from pgcrisis.actions import Cancel, CapConnections, SetSetting, TerminateSessions
from pgcrisis.model.load import RECORDED, CpuCount, LoadProfile, WaitLoad
from pgcrisis.presentation.top.app import TopApp
from pgcrisis.presentation.top.confirm import ConfirmAction
from pgcrisis.presentation.top.load import figures_line, history_lines
from pgcrisis.store._sqlite import SqliteStore
from pgcrisis.top.load import GIVE_CPUS, LoadPoint, kept, load_view
from pgcrisis.top.replay import ReplaySource
from tests.record_helpers import T0, backend, frame
from tests.top_fixtures import AT, TARGET, FixedSource, history, saturated_snapshot

SATURATED = (7.6, 0.0, 0.0, 0.4, 0.0, 0.0, 0.0)


def _point(s: int, total: float) -> LoadPoint:
    return LoadPoint(AT + timedelta(seconds=s), (total, 0, 0, 0, 0, 0, 0), 2)


def test_the_history_keeps_the_last_minute_oldest_first() -> None:
    points = kept((_point(-90, 1), _point(-30, 2), _point(-10, 3)), _point(0, 4))
    assert [p.total for p in points] == [2, 3, 4]  # 90 s before: dropped
    again = kept(points, _point(0, 5))  # the same moment read again: replaced, not added
    assert [p.total for p in again] == [2, 3, 5]


def test_the_pane_says_the_sessions_on_cpu_against_the_cores() -> None:
    view = load_view(saturated_snapshot(2), history(AT, 2, SATURATED))
    assert view is not None and view.cpus == 2 and view.cpu_ratio == 3.8
    line = figures_line(view).plain
    assert "8.0 active over 5 s: CPU 7.6  LWLock 0.4" in line
    assert "2 CPUs: on CPU 3.8× the cores" in line
    assert len(view.history) == 60  # the minute before, and this moment replacing its last
    bars = history_lines(view, width=100)
    assert len(bars) == 2 and "peak 8.0  ┈ 2 CPUs" in bars[0].plain
    assert bars[1].plain.strip().endswith(f"last {60} s")
    # the CPU line (2 of a scale to 8: the bottom row) runs through every bar past it:
    # (the samples of 2 sessions and more), not hidden by them
    passing = sum(1 for p in view.history if p.total >= 2)
    assert passing == 46 and bars[1].plain[:60].endswith("┈" * passing)


def test_without_a_cpu_count_the_pane_says_how_to_give_it() -> None:
    view = load_view(saturated_snapshot(None))
    assert view is not None and view.cpus is None and view.cpu_ratio is None
    assert "--cpus N" in view.cpus_how  # the profile's own words already say how
    assert "CPUs not known (the server is at db.example" in figures_line(view).plain
    terse = replace(saturated_snapshot(None), load=LoadProfile(
        5.0, 5, CpuCount(None, "not on this machine"), (WaitLoad("CPU", None, 1.0),)))
    told = load_view(terse)
    assert told is not None and told.cpus_how == f"not on this machine: {GIVE_CPUS}"
    assert "not sampled" in figures_line(None).plain


def _profile(cpu: float) -> LoadProfile:
    return LoadProfile(5.0, 5, CpuCount(2, "given"), (WaitLoad("CPU", None, cpu),),
                       source=RECORDED)


def test_a_replay_shows_the_recorded_load_of_the_minute_before_each_frame(
        tmp_path: Path) -> None:
    """Frames every 10 s for 3 minutes, on CPU growing with time: the moment at 150 s shows
    the frames of 90 to 150 s, and stepping back one frame drops the newest, adds none."""
    store = SqliteStore(tmp_path / "s.db", create=True)
    writer = store.writer("rec", source="test")
    for s in range(0, 180, 10):
        writer.append(frame(T0 + timedelta(seconds=s), {
            "activity": (backend(1),), "load": _profile(s / 10)}))
    writer.close()
    try:
        source = ReplaySource(store, "rec", T0 + timedelta(seconds=150))
        load = source.latest().view.load
        assert load is not None and load.cpus == 2
        assert [p.total for p in load.history] == [9, 10, 11, 12, 13, 14, 15]
        assert load.history[-1].at == T0 + timedelta(seconds=150)
        assert source.step(False)
        back = source.latest().view.load
        assert back is not None and [p.total for p in back.history] == [8, 9, 10, 11, 12,
                                                                          13, 14]
    finally:
        store.close()


async def _keys(read_only: bool) -> dict[str, object]:
    """On the saturation finding (tab 3): which keys the footer offers, and what each of c,
    k, l and s asks to confirm."""
    app = TopApp(FixedSource(saturated_snapshot(2), points=history(AT, 2, SATURATED)),
                 target=TARGET, read_only=read_only, zone=UTC)
    out: dict[str, object] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        for _ in range(50):
            if app.findings_pane.current() is not None:
                break
            await pilot.pause(0.05)
        out["offered"] = {b.binding.action for b in app.active_bindings.values() if b.enabled}
        for key in ("c", "k", "l", "s"):
            await pilot.press(key)
            await pilot.pause()
            if isinstance(app.screen, ConfirmAction):
                out[key] = app.screen.action_
                await pilot.press("n")
                await pilot.pause()
    return out


def test_a_saturation_finding_offers_what_mitigate_would_do() -> None:
    keys = asyncio.run(_keys(read_only=False))
    offered = keys["offered"]
    assert isinstance(offered, set) and {"cap_role", "role_setting"} <= offered
    cancel, end, cap, jit = keys["c"], keys["k"], keys["l"], keys["s"]
    assert isinstance(cancel, Cancel) and cancel.pids == tuple(range(201, 209))
    assert isinstance(end, TerminateSessions) and end.application_name == "report-crunch"
    assert isinstance(cap, CapConnections) and cap.role == "reporter"
    assert isinstance(jit, SetSetting)
    assert (jit.on, jit.name, jit.value) == ("reporter", "jit", "off")


def test_read_only_a_saturation_finding_offers_no_change() -> None:
    keys = asyncio.run(_keys(read_only=True))
    offered = keys["offered"]
    assert isinstance(offered, set) and not offered & {"cap_role", "role_setting"}
    assert not set(keys) & {"c", "k", "l", "s"}
