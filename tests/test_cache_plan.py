"""The cache planner and graph, as pure functions: precedence, cap, lower bound, cycles."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pgcrisis.cache.graph import CacheGraph
from pgcrisis.cache.planner import lower_bound, observed, plan_schedule
from pgcrisis.cache.schedule import Window, lane_commands
from pgcrisis.model.matviews import Matview, Matviews, ViewEdge
from tests.cache_synthetic import catalogue, random_starts

NIGHT = 4 * 3600.0


def test_graph_collapses_plain_views_and_finds_levels() -> None:
    mv = Matviews(
        views=(Matview(1, "s.a", True, True), Matview(2, "s.b", True, True),
               Matview(3, "s.c", True, True)),
        edges=(ViewEdge("s.v1", "v", "s.a", "m"), ViewEdge("s.v2", "v", "s.v1", "v"),
               ViewEdge("s.b", "m", "s.v2", "v"), ViewEdge("s.c", "m", "s.b", "m"),
               ViewEdge("s.c", "m", "s.v1", "v")))
    g = CacheGraph.from_matviews(mv)
    assert g.bases == {"s.a": (), "s.b": ("s.a",), "s.c": ("s.a", "s.b")}
    assert g.via[("s.b", "s.a")] == ("s.v2", "s.v1")
    assert g.levels == {"s.a": 0, "s.b": 1, "s.c": 2}
    assert g.order() == ("s.a", "s.b", "s.c")
    assert g.downstream(["s.b"]) == ("s.b", "s.c")
    assert g.cycles == ()


def test_cycles_are_reported_and_left_out_of_the_order() -> None:
    g = CacheGraph.build(["a", "b", "c", "d", "e"],
                         [("b", "a"), ("c", "b"), ("b", "c"), ("d", "c"), ("e", "a")])
    assert g.cycles == (("b", "c"),)
    assert g.order() == ("a", "e")
    assert g.stuck() == ("b", "c", "d")
    assert "b" not in g.levels


def test_plan_of_300_views_reaches_the_lower_bound_with_no_violation() -> None:
    durations, bases = catalogue(300, seed=7)
    plan = plan_schedule(durations, bases, window_s=NIGHT)
    assert plan.peak == plan.lower_bound == lower_bound(durations, NIGHT) == 3
    assert plan.violations == 0 and plan.fits
    random_night = observed(random_starts(list(durations), NIGHT, seed=1), durations, bases,
                            NIGHT)
    assert random_night.peak > plan.peak and random_night.violations > 0


def test_plan_is_deterministic_and_jitters_only_independent_lanes() -> None:
    durations = {"a": 600.0, "b": 600.0, "c": 60.0, "d": 60.0}
    bases = {"b": ("a",)}
    one = plan_schedule(durations, bases, window_s=3600, seed=5)
    assert one == plan_schedule(durations, bases, window_s=3600, seed=5)
    other = plan_schedule(durations, bases, window_s=3600, seed=6)
    for plan in (one, other):
        chained = {s.view: s for s in plan.slots}
        assert chained["a"].start_s == 0.0 and chained["b"].start_s == 600.0
    # ... while another seed does move the independent ones (else there is no jitter to test)
    independent = [{s.view: s.start_s for s in plan.slots if s.view in ("c", "d")}
                   for plan in (one, other)]
    assert independent[0] != independent[1]


def test_cap_below_the_bound_overruns_instead_of_breaking_the_cap() -> None:
    durations = {f"v{i}": 100.0 for i in range(10)}
    plan = plan_schedule(durations, {}, window_s=300, max_concurrent=2)
    assert plan.lower_bound == 4 and plan.peak == 2 and not plan.fits


def test_a_long_chain_gets_more_lanes_to_fit() -> None:
    durations = {"a": 100.0, "b": 100.0, "c": 100.0, "x": 250.0, "y": 250.0}
    plan = plan_schedule(durations, {"b": ("a",), "c": ("b",)}, window_s=400)
    assert plan.fits and plan.violations == 0 and plan.peak <= plan.lanes


def test_lane_jobs_wait_for_bases_in_other_lanes() -> None:
    durations = {"s.a": 100.0, "s.b": 100.0, "s.c": 10.0}
    plan = plan_schedule(durations, {"s.c": ("s.a", "s.b")}, window_s=150)
    jobs = lane_commands(plan, Window.parse("01:00-01:03"))
    assert [name for name, _, _ in jobs] == ["pgcrisis-cache-lane-1", "pgcrisis-cache-lane-2"]
    assert all(schedule == "0 1 * * *" for _, schedule, _ in jobs)
    commands = " ".join(c for _, _, c in jobs)
    assert "ARRAY['s.a', 's.c']::text[], ARRAY['', 's.b']::text[], '01:00'::time" in commands


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 40), st.integers(0, 10_000), st.integers(1, 6))
def test_any_plan_respects_order_and_cap(n: int, seed: int, cap: int) -> None:
    durations, bases = catalogue(n, seed=seed, mean_s=300)
    plan = plan_schedule(durations, bases, window_s=3600, max_concurrent=cap, seed=seed)
    assert plan.violations == 0
    assert plan.peak <= min(cap, plan.lanes) and plan.lanes <= cap
    assert {s.view for s in plan.slots} == set(durations)


def test_an_installed_plan_reads_back_as_the_current_schedule() -> None:
    from pgcrisis.cache.catalog import CacheCatalog
    from pgcrisis.cache.model import Durations
    from pgcrisis.cache.schedule import current_schedule
    from pgcrisis.model.jobs import CronJob
    from pgcrisis.model.server import ServerInfo

    durations = {"s.a": 600.0, "s.b": 60.0, "s.c": 300.0}
    bases = {"s.b": ("s.a",)}
    plan = plan_schedule(durations, bases, window_s=700)
    window = Window.parse("01:00-01:12")
    jobs = [CronJob(i, name, schedule, command, "app", "u", True)
            for i, (name, schedule, command) in enumerate(lane_commands(plan, window))]
    graph = CacheGraph.build(durations, [("s.b", "s.a")])
    cat = CacheCatalog(ServerInfo.__new__(ServerInfo), Matviews(), graph,
                       {n: Durations(n, d, d, 1, "pgcrisis") for n, d in durations.items()})
    current = current_schedule(cat, jobs)
    assert (current.peak, current.violations) == (plan.peak, 0) == (2, 0)
