"""Judging a window of a recording, pure: hand-built snapshots in, findings with when they
held out (the same checks as triage, and the checks only a history can make)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pgcrisis.durations import parse as parse_duration
from pgcrisis.errors import ConfigError
from pgcrisis.history.timeline import per_minute, sparkline
from pgcrisis.history.window import (
    changes,
    connection_spikes,
    findings_over,
    judge_window,
    refresh_waves,
    stalls,
    with_when,
)
from pgcrisis.model.activity import Backend
from pgcrisis.model.server import ServerInfo
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.sizes import parse as parse_size
from pgcrisis.when import parse_moment, shown

T0 = datetime(2026, 11, 26, 8, 55, tzinfo=UTC)
SERVER = ServerInfo(150000, "15.18", "app", "postgres", True, 1,
                    settings={"max_connections": "100", "max_locks_per_transaction": "64"})


def session(pid: int, *, app: str = "shop", state: str = "active", query: str = "SELECT 1",
            wait: tuple[str | None, str | None] = (None, None), xact_s: float = 0.1,
            blocked_by: tuple[int, ...] = ()) -> Backend:
    return Backend(pid, "app", "app", app, "10.0.0.5", "client backend", state, xact_s,
                   xact_s, xact_s, wait[0], wait[1], query, blocked_by)


def at(second: int, *sessions: Backend) -> Snapshot:
    when = T0 + timedelta(seconds=second)
    return Snapshot(SERVER, when, activity=sessions, server_time=when)


def _quiet(second: int) -> Snapshot:
    return at(second, *(session(100 + i) for i in range(4)))


def test_a_stall_is_found_with_its_start_end_and_peak() -> None:
    holder = session(7, state="idle in transaction", query="UPDATE orders SET x = 1",
                     xact_s=40)
    stalled = [at(s, holder, *(session(200 + i, wait=("Lock", "relation"), blocked_by=(7,))
                               for i in range(n)))
               for s, n in ((10, 6), (11, 12), (12, 8))]
    window = [_quiet(0), *stalled, _quiet(20)]
    [found] = stalls(window)
    assert found.finding.code == "stall"
    assert found.finding.evidence["peak_waiting"] == 12
    assert found.finding.evidence["root_blockers"] == [7]
    assert (found.seen.started_at, found.seen.peak_at, found.seen.ended_at) == (
        T0 + timedelta(seconds=10), T0 + timedelta(seconds=11), T0 + timedelta(seconds=12))
    assert stalls([_quiet(0), _quiet(1)]) == []


def test_a_refresh_wave_whatever_started_it() -> None:
    refreshes = [session(300 + i, app=app, query=f"REFRESH MATERIALIZED VIEW mv_report_{i}")
                 for i, app in enumerate(("pg_cron", "pg_cron", "reports-app", "psql"))]
    [wave] = refresh_waves([_quiet(0), at(60, *refreshes), at(61, *refreshes[:3]), _quiet(62)])
    assert wave.finding.code == "refresh-wave"
    assert wave.finding.evidence["peak_refreshes"] == 4
    assert set(wave.finding.evidence["started_by"]) == {"pg_cron", "reports-app", "psql"}
    assert {o.name for o in wave.finding.objects} == {f"mv_report_{i}" for i in range(4)}
    assert refresh_waves([at(0, *refreshes[:2])]) == []  # two at once is no wave


def test_a_connection_spike_of_one_client() -> None:
    usual = [at(s, *(session(i, app="sync") for i in range(3))) for s in range(10)]
    spike = at(10, *(session(i, app="sync") for i in range(40)))
    [found] = connection_spikes([*usual, spike])
    assert found.finding.objects[0].application_name == "sync"
    assert (found.finding.evidence["usual"], found.finding.evidence["peak"]) == (3, 40)
    assert connection_spikes(usual) == []


def test_ddl_seen_running_is_a_change() -> None:
    ddl = session(9, query="ALTER TABLE orders ADD COLUMN note text")
    [found] = changes([_quiet(0), at(5, ddl), _quiet(10)])
    assert found.finding.code == "schema-change"
    assert "ALTER TABLE orders ADD COLUMN note text" in found.finding.detail


def test_the_checks_findings_say_when_they_held() -> None:
    idle = session(7, state="idle in transaction", xact_s=900, query="UPDATE t SET x = 1")
    window = [_quiet(0), *(at(s, idle) for s in (10, 20, 30)), _quiet(40)]
    items = [i for i in findings_over(window) if i.finding.code == "idle-in-transaction"]
    assert len(items) == 1
    seen = items[0].seen
    assert (seen.started_at, seen.ended_at, seen.frames) == (
        T0 + timedelta(seconds=10), T0 + timedelta(seconds=30), 3)
    said = with_when(items[0])
    assert said.evidence["started_at"] == (T0 + timedelta(seconds=10)).isoformat()
    assert said.title.endswith(f"[{shown(seen.started_at)} – {shown(seen.ended_at)}]")


def test_judge_window_ranks_critical_first() -> None:
    holder = session(7, state="idle in transaction", query="UPDATE orders SET x = 1",
                     xact_s=40)
    stalled = [at(s, holder, *(session(200 + i, wait=("Lock", "relation"), blocked_by=(7,))
                               for i in range(25))) for s in range(10, 45)]
    found = judge_window([_quiet(0), *stalled])
    assert found[0].finding.severity.value == "critical"


def test_per_minute_picture() -> None:
    waiting = [session(200 + i, wait=("Lock", "relation")) for i in range(3)]
    minutes = per_minute([_quiet(0), at(30, *waiting), _quiet(65)])
    assert [(m.samples, m.active, m.waiting) for m in minutes] == [(2, 4, 3), (1, 4, 0)]
    assert sparkline([0, 4, 8]) == " ▄█"


def test_times_and_durations_as_people_type_them() -> None:
    assert parse_moment("2026-11-26T09:14:00+01:00") == datetime(
        2026, 11, 26, 8, 14, tzinfo=UTC)
    assert parse_moment("09:14").tzinfo is not None
    assert parse_duration("48h") == timedelta(hours=48)
    assert parse_size("2GiB") == 2 * 1024 ** 3
    for bad in ("25:00", "yesterday", "9h14"):
        with pytest.raises(ConfigError):
            parse_moment(bad)
    with pytest.raises(ConfigError):
        parse_duration("soon")


def _statements(second: int, calls: int, total_ms: float) -> Snapshot:
    from pgcrisis.model.statements import Statement, Statements

    row = Statement(42, "SELECT * FROM orders WHERE customer_id = $1", "app", calls, total_ms,
                    total_ms / max(calls, 1), calls, 0, 0)
    when = T0 + timedelta(seconds=second)
    return Snapshot(SERVER, when, statements=Statements((row,)), server_time=when)


def test_a_statement_slower_than_the_same_window_the_day_before() -> None:
    from pgcrisis.history.window import regressions

    day_before = [_statements(0, 1000, 2000.0), _statements(600, 7000, 14000.0)]  # 2 ms
    today = [_statements(0, 1000, 2000.0), _statements(600, 7000, 134000.0)]      # 22 ms
    [found] = regressions(today, day_before)
    assert found.finding.code == "statement-regression"
    assert found.finding.objects[0].queryid == 42
    assert round(found.finding.evidence["mean_ms"]) == 22
    assert round(found.finding.evidence["day_before_mean_ms"]) == 2
    assert regressions(day_before, day_before) == []
