"""The load profile and its checks, on profiles made by hand (no server): how readings become a
profile, how cpu-saturation and io-saturation judge it, what they say they could not see, the
remedies they build and the steps mitigate takes from them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from pgcrisis.actions import Cancel, CapConnections, SetSetting, TerminateSessions
from pgcrisis.checks.registry import run_checks
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.collect.load_build import Seen, Totals, build, not_own, statement_deltas
from pgcrisis.collect.load_window import Readings
from pgcrisis.collect.sampler import rates
from pgcrisis.dsn import Target
from pgcrisis.judge import judge
from pgcrisis.mitigate import playbook
from pgcrisis.model.activity import Backend
from pgcrisis.model.evidence import of
from pgcrisis.model.evidence_saturation import CpuSaturationEvidence, IoSaturationEvidence
from pgcrisis.model.findings import Finding, Severity
from pgcrisis.model.load import CpuCount, Hidden, LoadProfile
from pgcrisis.model.load_rates import ServerCounters, ServerRates
from pgcrisis.model.load_tables import RelationReads
from pgcrisis.model.plans import BY_SESSIONS, PlanTip, StatementPlan, StatementPlans
from pgcrisis.model.server import ServerInfo
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.presentation import load_text, triage_json

SERVER = ServerInfo(160004, "16.4", "app", "admin", True, 4242)
AT = datetime(2026, 3, 1, 9, 14, tzinfo=UTC)
TWO = CpuCount(2, "2 CPUs as given by --cpus")
HEAVY = -42


def seen(pid: int, *, state: str | None = "active", wait: tuple[str, str] | None = None,
         app: str = "crunch", role: str = "reports", query_id: int | None = HEAVY,
         backend_type: str = "client backend", leader: int | None = None) -> Seen:
    return Seen(pid, backend_type, app, "10.0.0.7", role, state,
                wait[0] if wait else None, wait[1] if wait else None, query_id,
                leader_pid=leader)


def totals(calls: float, exec_ms: float, *, read: float = 0.0, jit: float | None = None
           ) -> Totals:
    return Totals(calls, exec_ms, calls, 0.0, read, 0.0, 0.0, 0.0, 0.0, jit)


def counters(at: float, *, commits: int = 0, read: int = 0, hit: int = 0,
             started: float = 1.0, reset: float | None = 0.0) -> ServerCounters:
    return ServerCounters(at, started, commits, 0, read, hit, 0, 0, 0, 0, 0, 0,
                          db_reset_at=reset)


def profile(samples: list[list[Seen]], cpus: CpuCount = TWO, *,
            deltas: dict[tuple[str, int], Totals] | None = None, **kw: Any) -> LoadProfile:
    return build(samples, 1.0, cpus, deltas=deltas, statements_s=1.0, **kw)


def snapshot(load: LoadProfile, activity: tuple[Backend, ...] = (),
             server: ServerInfo = SERVER) -> Snapshot:
    return Snapshot(server=server, taken_at=AT, load=load, activity=activity)


def crunching(n: int, samples: int = 6, **kw: Any) -> list[list[Seen]]:
    return [[seen(100 + i, **kw) for i in range(n)] for _ in range(samples)]


def backend(pid: int, query_id: int = HEAVY) -> Backend:
    return Backend(pid, "app", "reports", "crunch", "10.0.0.7", "client backend", "active",
                   1.0, 1.0, 1.0, None, None, "select heavy()", (), query_id=query_id)


# -- building a profile -----------------------------------------------------------------------

def test_a_profile_averages_the_samples_by_wait_and_counts_workers_for_their_leader() -> None:
    samples = [[seen(1), seen(2, wait=("IO", "DataFileRead")),
                seen(3, backend_type="parallel worker", app="", role="reports", leader=1,
                     query_id=None),
                seen(4, state="idle", wait=("Client", "ClientRead"))],
               [seen(1), seen(2)]]
    p = profile(samples)
    assert p.samples == 2 and p.active == pytest.approx(2.5)
    assert p.by_class() == {"CPU": 2.0, "IO": 0.5}
    assert p.on_cpu == pytest.approx(2.0) and p.data_io == pytest.approx(0.5)
    assert [(t.active, t.on_cpu, t.data_io) for t in p.ticks] == [(3, 2, 1), (2, 2, 0)]
    [client] = p.clients  # the worker counted as its leader's client
    assert client.label == "crunch@10.0.0.7" and client.active == pytest.approx(2.5)
    [statement] = p.statements  # seen running, no counters: still named, by its sessions
    assert statement.queryid == HEAVY and statement.on_cpu == pytest.approx(2.0)
    assert statement.calls == 0 and statement.clients == ("crunch@10.0.0.7",)


def test_pgcrisis_own_sessions_and_their_workers_are_never_counted() -> None:
    sample = [seen(1, app="pgcrisis"), seen(2, backend_type="parallel worker", leader=1),
              seen(3)]
    assert [s.pid for s in not_own(sample)] == [3]


def test_statement_differences_count_new_ones_from_zero_and_leave_reset_ones_out() -> None:
    before = {("a", 1): totals(10, 100.0), ("a", 2): totals(50, 500.0)}
    after = {("a", 1): totals(15, 160.0, jit=None), ("a", 2): totals(5, 50.0),
             ("b", 3): totals(2, 20.0)}
    deltas = statement_deltas(before, after)
    assert deltas[("a", 1)].calls == 5 and deltas[("a", 1)].exec_ms == pytest.approx(60.0)
    assert ("a", 2) not in deltas  # fell: a reset or an eviction, not negative work
    assert deltas[("b", 3)].calls == 2


def test_statements_are_summed_over_roles_and_kept_by_load_and_by_each_counter() -> None:
    deltas = {("a", 1): totals(10, 900.0), ("b", 1): totals(5, 100.0),
              ("a", 2): totals(1, 1.0, read=5000.0)}
    p = profile([[]], deltas=deltas)
    first = p.statement(1)
    assert first is not None and first.calls == 15 and first.role == "a"
    assert {s.queryid for s in p.statements} == {1, 2}  # 2 is kept for its blocks read
    assert {r.role: r.exec_ms for r in p.roles} == {"a": 901.0, "b": 100.0}


def test_server_rates_between_two_readings_and_windows_they_cannot_judge() -> None:
    r = ServerRates.between(counters(100.0, commits=10, read=10, hit=90),
                            counters(102.0, commits=30, read=20, hit=170))
    assert r.broken is None and r.commits is not None
    assert r.commits.per_s == 10 and r.commits.usual_per_s == pytest.approx(30 / 102)
    assert r.hit_ratio == pytest.approx(80 / 90)
    unknown = ServerRates.between(counters(1.0, reset=None), counters(2.0, commits=5, reset=None))
    # no reset time known: the usual level counts since the server started (the counters may
    # count from before it: never below the true level)
    assert unknown.commits is not None and unknown.commits.usual_over_s == 1.0
    assert unknown.commits.usual_per_s == 5.0
    restarted = ServerRates.between(counters(1.0), counters(2.0, started=5.0))
    assert restarted.broken == "the server restarted during the window" and not restarted.known()
    reset = ServerRates.between(counters(1.0, commits=50), counters(2.0, commits=3))
    assert reset.broken is not None and "reset" in reset.broken


def test_call_rates_per_client_come_from_the_same_window_as_before() -> None:
    """runaway-client's attribution, unchanged: a statement's calls go to the clients seen
    running it, in proportion; calls nobody was seen running go to their role."""
    loop = [seen(1, app="crm", state="idle", query_id=7), seen(2, app="web", query_id=8)]
    readings = Readings(1.5, [loop, loop, [seen(1, app="crm", query_id=7)]],
                        statements=({("reports", 7): totals(0, 0.0)},
                                    {("reports", 7): totals(900, 45.0),
                                     ("batch", 9): totals(10, 5.0)}))
    sample = rates(readings)
    by = {c.application: c for c in sample.clients}
    assert by["crm"].calls == 900 and by["crm"].top_queryid == 7
    assert by["crm"].connections == 1 and by["web"].calls == 0
    assert by["(not seen)"].role == "batch" and by["(not seen)"].calls == 10
    assert sample.total_calls == 910 and sample.activity_samples == 3
    assert sample.statements_available and sample.seconds == 1.5


# -- cpu-saturation ---------------------------------------------------------------------------

def test_cpu_saturation_by_how_far_over_the_cores_and_only_when_sustained() -> None:
    t = Thresholds()
    assert run_checks(snapshot(profile(crunching(2))), only=["cpu-saturation"]).findings == ()
    [warning] = run_checks(snapshot(profile(crunching(4))), only=["cpu-saturation"]).findings
    assert warning.severity is Severity.WARNING
    [critical] = run_checks(snapshot(profile(crunching(7))), only=["cpu-saturation"]).findings
    assert critical.severity is Severity.CRITICAL and "7.0 sessions on CPU for 2 cores" in \
        critical.title
    spike = [[seen(i) for i in range(20)]] + [[seen(1)]] * 5  # one busy instant out of six
    assert profile(spike).on_cpu >= 2 * t.cpu_saturation_ratio
    assert run_checks(snapshot(profile(spike)), only=["cpu-saturation"]).findings == ()


def test_cpu_saturation_names_its_statement_client_and_role_root_first() -> None:
    p = profile(crunching(6), deltas={("reports", HEAVY): totals(12, 5800.0, jit=2900.0)})
    p = replace(p, statements=tuple(replace(s, query="SELECT heavy_report()")
                                    for s in p.statements))
    [f] = run_checks(snapshot(p, (backend(100), backend(101), backend(102, query_id=7))),
                     only=["cpu-saturation"]).findings
    assert [o.kind for o in f.objects] == ["query", "client", "role"]
    assert f.objects[0].queryid == HEAVY and f.objects[0].name == "SELECT heavy_report()"
    assert f.objects[1].application_name == "crunch" and f.objects[2].name == "reports"
    ev = of(f.evidence, CpuSaturationEvidence)
    assert ev is not None and ev.cpus == 2 and ev.times_cores == 3.0
    assert ev.statements[0].share == 1.0 and ev.statements[0].jit_share == 0.5
    assert ev.statements[0].measured_by.startswith("sessions on CPU")
    assert f.remedy is not None
    actions = f.remedy.actions
    assert Cancel((100, 101)) in actions  # only the sessions running the statement now
    assert CapConnections("reports", 4) in actions  # twice the cores
    assert SetSetting("jit", "off", "role", "reports") in actions  # JIT is half its time
    [end] = [a for a in actions if isinstance(a, TerminateSessions)]
    assert end.application_name == "crunch" and end.option  # an option, not a step
    json_form = triage_json.finding_to_json(f)
    assert json_form["evidence"]["statements"][0]["queryid"] == HEAVY


def test_cpu_saturation_names_the_shape_that_costs_most_of_its_statements_plan() -> None:
    """From the plans part (the generic plans of the statements carrying the load): the
    shape costing at least bad_plan_min_share of the plan, in the title, the detail and the
    statement's evidence; a shape costing less, or no plan read, is not named."""
    p = profile(crunching(6), deltas={("reports", HEAVY): totals(12, 5800.0)})

    def judged(*tips: PlanTip) -> Finding:
        plans = StatementPlans((StatementPlan(HEAVY, "select heavy()", 1.0, BY_SESSIONS,
                                              "EXPLAIN (GENERIC_PLAN)", 1e6, 1.0, 7, "",
                                              tips),))
        [f] = run_checks(replace(snapshot(p), plans=plans), only=["cpu-saturation"]).findings
        return f

    def tip(code: str, title: str, share: float) -> PlanTip:
        return PlanTip(code, Severity.CRITICAL, title, "", "Aggregate", share * 1e6, share,
                       3e5, 3e5)

    small = tip("row-misestimate", "Seq Scan on public.t: its estimate is a guess", 0.2)
    named = judged(small, tip("subplan-per-row", "SubPlan 1 executed per row of 300k rows",
                              0.97))
    assert named.title.endswith(f"(query {HEAVY}): SubPlan 1 executed per row of 300k rows")
    assert "its generic plan: SubPlan 1 executed per row of 300k rows, 97% of its " \
        "estimated cost" in named.detail
    lead = triage_json.finding_to_json(named)["evidence"]["statements"][0]
    assert (lead["plan_shape"], lead["plan_share"]) == ("subplan-per-row", 0.97)
    for unnamed in (judged(small), judged(), run_checks(snapshot(p), only=[
            "cpu-saturation"]).findings[0]):
        assert "plan" not in unnamed.title and "generic plan" not in unnamed.detail
        assert "plan_shape" not in triage_json.finding_to_json(unnamed)["evidence"][
            "statements"][0]


def test_a_superusers_connections_are_never_capped() -> None:
    p = profile(crunching(6, role="admin"), deltas={("admin", HEAVY): totals(12, 5800.0)})
    [f] = run_checks(snapshot(p), only=["cpu-saturation"]).findings
    assert f.remedy is not None
    assert not any(isinstance(a, CapConnections) for a in f.remedy.actions)


def test_cores_unknown_sessions_on_cpu_are_reported_as_info_with_what_would_tell() -> None:
    unknown = CpuCount(None, "the server is at db.example, not on this machine: give --cpus "
                             "N, or set [server] cpus = N in pgcrisis.toml")
    [f] = run_checks(snapshot(profile(crunching(6), unknown)), only=["cpu-saturation"]).findings
    assert f.severity is Severity.INFO and "the CPU count is not known" in f.title
    assert "cannot compare them with the cores" in f.detail and "--cpus" in f.detail
    ev = of(f.evidence, CpuSaturationEvidence)
    assert ev is not None and ev.cpus is None and ev.times_cores is None
    assert run_checks(snapshot(profile(crunching(3), unknown)),
                      only=["cpu-saturation"]).findings == ()


def test_what_the_server_hid_is_said_where_it_matters() -> None:
    hidden = (Hidden("statements", "pg_stat_statements is not installed in this database",
                     "CREATE EXTENSION pg_stat_statements"),
              Hidden("pg_stat_io", "no pg_stat_io before PostgreSQL 16", "PostgreSQL 16"))
    p = profile(crunching(6), hidden=hidden)
    [f] = run_checks(snapshot(p), only=["cpu-saturation"]).findings
    ev = of(f.evidence, CpuSaturationEvidence)
    assert ev is not None and len(ev.not_seen) == 1  # pg_stat_io is nothing to the CPUs
    assert "pg_stat_statements is not installed" in f.detail
    assert "pg_stat_io" not in f.detail


def test_a_profile_without_samples_and_a_snapshot_without_a_profile_judge_nothing() -> None:
    assert run_checks(snapshot(profile([])), only=["cpu-saturation", "io-saturation"]
                      ).findings == ()
    bare = Snapshot(server=SERVER, taken_at=AT)
    results = run_checks(bare, only=["cpu-saturation", "io-saturation"])
    assert results.findings == () and results.skipped == ()


# -- io-saturation ----------------------------------------------------------------------------

def _reading(n: int, samples: int = 6) -> list[list[Seen]]:
    return [[seen(200 + i, wait=("IO", "DataFileRead"), app="reader") for i in range(n)]
            + [seen(300, app="reader")] for _ in range(samples)]


def test_io_saturation_names_the_tables_and_statements_reading_most() -> None:
    tables = (RelationReads("public.orders", 9000, 1000, 500, 500),
              RelationReads("public.small", 10, 990, 0, 0))
    p = profile(_reading(5), deltas={("reports", HEAVY): totals(100, 4000.0, read=9000.0)},
                relations=tables, relations_s=1.0,
                counters=(counters(10.0, read=0, hit=0), counters(11.0, read=9500, hit=2500)))
    [f] = run_checks(snapshot(p), only=["io-saturation"]).findings
    assert f.severity is Severity.WARNING
    assert "5.0 sessions waiting on data-file I/O" in f.title and "public.orders" in f.title
    ev = of(f.evidence, IoSaturationEvidence)
    assert ev is not None and ev.waits == {"DataFileRead": 5.0}
    assert ev.hit_ratio == pytest.approx(0.208, abs=1e-3)
    assert [r.name for r in ev.relations] == ["public.orders"]  # the small one is noise
    assert ev.statements[0].queryid == HEAVY
    assert any(o.kind == "relation" and o.name == "public.orders" for o in f.objects)
    [critical] = run_checks(snapshot(profile(_reading(9))), only=["io-saturation"]).findings
    assert critical.severity is Severity.CRITICAL


def test_io_waits_of_a_few_sessions_or_of_the_wal_are_no_saturation() -> None:
    assert run_checks(snapshot(profile(_reading(1))), only=["io-saturation"]).findings == ()
    wal = [[seen(i, wait=("IO", "WALWrite")) for i in range(6)] for _ in range(6)]
    assert run_checks(snapshot(profile(wal)), only=["io-saturation"]).findings == ()


# -- reports and mitigate ---------------------------------------------------------------------

def test_the_reports_say_how_long_they_sampled() -> None:
    p = profile(crunching(6))
    report = judge(Target("", "test"), snapshot(p))
    assert load_text.line(p).startswith("Load over 1.0 s (6 samples): 6.0 active sessions")
    document = triage_json.report_to_json(report)
    assert document["load"]["window_s"] == 1.0 and document["load"]["cpus"] == 2
    assert document["load"]["by_class"] == {"CPU": 6.0}


def test_mitigate_offers_the_saturation_remedys_steps() -> None:
    p = profile(crunching(6), deltas={("reports", HEAVY): totals(12, 5800.0, jit=2900.0)})
    report = judge(Target("", "test"), snapshot(p, (backend(100), backend(101))))
    book = playbook.build(report, only_codes=["cpu-saturation"])
    kinds = {s.action.kind for s in book.steps}
    assert {"cancel", "limit-role", "role-jit", "terminate-client"} <= kinds, kinds
    cancel = next(s for s in book.steps if s.action.kind == "cancel")
    assert cancel.id == "cancel-2-sessions" and "driving statement" in cancel.effect
