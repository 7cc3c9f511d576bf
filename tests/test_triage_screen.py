"""The first screen, on the seed incident replayed (the demo's faults, without its fixes).

Triage names every cause with one finding per problem (thirteen cron jobs refreshing without
CONCURRENTLY are one finding listing them all), and the terminal report of it fits a 50-line
terminal at 120 columns with every code on it. Piped, nothing is cut; ``--all`` prints every
finding and every member of a group in full.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from rich.console import Console

from pgcrisis.demo.incident import build_causes
from pgcrisis.judge import TriageReport
from pgcrisis.lab.app import create_app
from pgcrisis.lab.scenario import admin_connect
from pgcrisis.presentation import DEFAULT_PANELS, triage_terminal
from tests.helpers import PgServer, require, triage

SCALE = 0.02
#: the codes the demo checks triage names (one or two per cause of the incident)
SEED_CODES = ("jit-overhead", "refresh-spike", "matview-blocking-refresh",
              "matview-concurrent-unready", "job-too-frequent", "job-backlog", "lock-hoarder",
              "missing-index")


def _clear_cron(dsn: str) -> None:
    with admin_connect(dsn) as conn:
        conn.execute("SELECT cron.unschedule(jobid) FROM cron.job")
        conn.execute("TRUNCATE cron.job_run_details")


@pytest.fixture(scope="module")
def incident(pg: PgServer) -> Iterator[TriageReport]:
    """Every fault of the seed incident injected at once (as ``pgcrisis demo`` does), triaged
    once for the whole module, then released and removed."""
    for piece in ("pg_cron", "pg_stat_statements", "jit"):  # every cause is replayed here
        require(pg, piece)
    dsn = pg.dsn  # pg_cron's database
    with admin_connect(dsn) as conn:
        for ext in ("pg_stat_statements", "pg_cron", "hypopg"):
            if ext not in pg.unavailable:
                conn.execute(f"CREATE EXTENSION IF NOT EXISTS {ext}".encode())
        create_app(conn, SCALE)
    _clear_cron(dsn)
    causes = list(build_causes(dsn, SCALE))
    for cause in causes:
        cause.scenario.setup()
    try:
        for cause in causes:
            cause.scenario.inject()
            cause.scenario.self_check()
        report = triage(dsn)  # also validated against the JSON Schema
    finally:
        for cause in causes:
            cause.scenario.stop()
        for cause in causes:
            remove = getattr(cause.scenario, "remove", None)
            if remove is not None:
                remove()
        _clear_cron(dsn)
    yield report


def _render(report: TriageReport, *, terminal: bool, width: int = 120, height: int = 50,
            panels: int | None = DEFAULT_PANELS) -> list[str]:
    out = io.StringIO()
    console = Console(file=out, width=width, height=height, force_terminal=terminal,
                      color_system=None, legacy_windows=False)
    triage_terminal.render(report, console, panels=panels)
    return out.getvalue().splitlines()


def test_every_cause_is_named_and_each_problem_is_one_finding(incident: TriageReport) -> None:
    codes = [f.code for f in incident.findings]
    assert set(SEED_CODES) <= set(codes)
    assert len(codes) <= 16, [f.title for f in incident.findings]  # 38 before grouping

    cron = incident.snapshot.cron
    refreshing = [j for j in cron.jobs if j.active and j.refreshes]
    views = {s.target for j in refreshing for s in j.refreshes}
    assert len(refreshing) >= 13 and len(views) >= 14

    [scheduled] = [f for f in incident.by_code("matview-blocking-refresh")
                   if "grouped" in f.evidence]
    assert scheduled.title.startswith(f"{len(refreshing)} cron jobs refresh {len(views)} "
                                      "materialized views without CONCURRENTLY")
    assert {o.id for o in scheduled.objects if o.kind == "job"} == {j.jobid for j in refreshing}
    assert {o.name for o in scheduled.objects if o.kind == "matview"} == views
    assert [i["evidence"]["jobid"] for i in scheduled.evidence["items"]] == [
        o.id for o in scheduled.objects if o.kind == "job"]

    [unready] = [f for f in incident.by_code("matview-concurrent-unready")
                 if "grouped" in f.evidence]
    assert {o.name for o in unready.objects if o.kind == "matview"} == views
    assert len(unready.evidence["items"]) == len(views)

    # the live refresh blocking readers now is its own critical finding, not in the group
    live = [f for f in incident.by_code("matview-blocking-refresh") if f is not scheduled]
    assert live and all(f.severity.value == "critical" for f in live)
    assert all(o.kind != "backend" for o in scheduled.objects)


def test_the_first_screen_fits_a_50_line_terminal_with_every_code(
        incident: TriageReport) -> None:
    lines = _render(incident, terminal=True)
    text = "\n".join(lines)
    assert len(lines) <= 50, text
    assert max(len(line) for line in lines) <= 120
    for f in incident.findings:
        assert f.code in text, f"{f.code} is not on the first screen:\n{text}"
    # the worst root cause is printed in full: its remedy's first statement is there
    first = incident.findings[incident.tree()[0][0]]
    assert first.remedy is not None and first.remedy.sql[0] in text


def test_piped_output_cuts_no_line(incident: TriageReport) -> None:
    lines = _render(incident, terminal=False, width=80)
    assert any(len(line) > 80 for line in lines)  # not laid out at 80 columns
    for f in incident.findings:  # every title whole, on one line
        assert any(f.title in line for line in lines), f.title
    assert not any("╭" in line or "│" in line for line in lines)


def test_all_prints_every_finding_and_member_in_full(incident: TriageReport) -> None:
    lines = _render(incident, terminal=False, panels=None)
    text = "\n".join(lines)
    assert "More findings" not in text
    for f in incident.findings:
        assert f.detail in text
        for statement in f.remedy.sql if f.remedy else ():
            assert statement.splitlines()[-1] in text
        for item in f.evidence.get("items", ()):
            assert item["title"] in text
