"""Refresh schedules: list scheduling with precedence under a concurrency cap.

Refreshing every cached view at the same clock time (or at random times) makes two problems:
a peak of refreshes running at once, and dependents refreshed before their base (so they
cache stale data until the next night). The planner answers both. Given each view's refresh
duration, which views are built on which, a window and a cap:

* the lower bound of the peak is ``ceil(sum of durations / window)``: no schedule that fits
  in the window can run fewer at once;
* the plan uses that many *lanes* (raised, up to the cap, only when the longest dependency
  chain would not fit otherwise); each lane refreshes one view after another;
* views are placed in priority order (longest remaining chain first, the classic
  critical-path list-scheduling rule), each on the lane free soonest, never before its bases
  end: no order is ever violated and at most ``lanes`` refreshes run at once;
* independent roots (views with no base and no dependent) are placed in a seeded shuffled
  order and a lane holding only them starts at a seeded offset within its slack: the jitter
  spreads installations apart without touching any dependency. Same seed, same plan.

>>> p = plan_schedule({"a": 60, "b": 60, "c": 60}, {"c": ("a",)}, window_s=120)
>>> p.lanes, p.peak, p.violations
(2, 2, 0)
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pgcrisis.cache.graph import CacheGraph


@dataclass(frozen=True, slots=True)
class Slot:
    """One planned refresh: ``start_s``/``end_s`` after the window opens, on ``lane``."""

    view: str
    start_s: float
    end_s: float
    lane: int
    bases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Schedule:
    """A set of refresh intervals, planned or observed, and what to judge it by."""

    slots: tuple[Slot, ...]
    window_s: float
    lanes: int = 0
    lower_bound: int = 1
    seed: int = 0
    stuck: tuple[str, ...] = ()   # views in (or built on) a dependency cycle: not planned

    @property
    def peak(self) -> int:
        """The most refreshes running at the same moment."""
        return peak_concurrency((s.start_s, s.end_s) for s in self.slots)

    @property
    def violations(self) -> int:
        """Dependents that start before one of their bases has finished."""
        end = {s.view: s.end_s for s in self.slots}
        return sum(1 for s in self.slots for b in s.bases
                   if b in end and s.start_s < end[b] - 1e-9)

    @property
    def makespan_s(self) -> float:
        """When the last refresh ends."""
        return max((s.end_s for s in self.slots), default=0.0)

    @property
    def fits(self) -> bool:
        """Whether every refresh ends within the window."""
        return self.makespan_s <= self.window_s + 1e-9

    def lane_slots(self, lane: int) -> tuple[Slot, ...]:
        """The refreshes of one lane, in start order."""
        return tuple(sorted((s for s in self.slots if s.lane == lane), key=lambda s: s.start_s))


def peak_concurrency(intervals: Iterable[tuple[float, float]]) -> int:
    """The most intervals overlapping at one instant (an interval ending as another starts
    does not overlap it).

    >>> peak_concurrency([(0, 10), (5, 15), (10, 20)])
    2
    """
    events: list[tuple[float, int]] = []
    for start, end in intervals:
        events.append((start, 1))
        events.append((end, -1))
    events.sort(key=lambda e: (e[0], e[1]))  # ends before starts at the same instant
    peak = current = 0
    for _, delta in events:
        current += delta
        peak = max(peak, current)
    return peak


def lower_bound(durations: Mapping[str, float], window_s: float) -> int:
    """``ceil(sum of durations / window)``, at least 1."""
    return max(1, math.ceil(sum(durations.values()) / window_s - 1e-9))


def _tail(graph: CacheGraph, durations: Mapping[str, float],
          order: tuple[str, ...]) -> dict[str, float]:
    """Each view's duration plus the longest chain of dependents after it (its priority)."""
    dependents = graph.dependents_of
    tail: dict[str, float] = {}
    for name in reversed(order):
        tail[name] = durations[name] + max((tail[d] for d in dependents.get(name, ())
                                            if d in tail), default=0.0)
    return tail


def _list_schedule(graph: CacheGraph, durations: Mapping[str, float], order: tuple[str, ...],
                   lanes: int, rank: Mapping[str, float]) -> list[Slot]:
    """Place ready views by ``rank`` (highest first) on the lane that frees soonest."""
    free = [(0.0, lane) for lane in range(lanes)]
    heapq.heapify(free)
    end: dict[str, float] = {}
    waiting = {n: {b for b in graph.bases.get(n, ()) if b in durations} for n in order}
    dependents = graph.dependents_of
    ready = [(-rank[n], n) for n in order if not waiting[n]]
    heapq.heapify(ready)
    slots: list[Slot] = []
    while ready:
        _, name = heapq.heappop(ready)
        lane_free, lane = heapq.heappop(free)
        earliest = max((end[b] for b in graph.bases.get(name, ()) if b in end), default=0.0)
        start = max(lane_free, earliest)
        end[name] = start + durations[name]
        slots.append(Slot(name, start, end[name], lane,
                          tuple(b for b in graph.bases.get(name, ()) if b in durations)))
        heapq.heappush(free, (end[name], lane))
        for d in dependents.get(name, ()):
            if d in waiting:
                waiting[d].discard(name)
                if not waiting[d]:
                    heapq.heappush(ready, (-rank[d], d))
    return slots


def plan_schedule(durations: Mapping[str, float], bases: Mapping[str, Iterable[str]], *,
                  window_s: float, max_concurrent: int | None = None,
                  seed: int = 0) -> Schedule:
    """The refresh plan for views with these ``durations`` (seconds) and ``bases``.

    Lanes start at the lower bound and grow (up to ``max_concurrent``) only while the plan
    overruns the window; with a cap below the lower bound the plan overruns (``fits`` is
    false) rather than break the cap.
    """
    graph = CacheGraph.build(durations, ((v, b) for v, bs in bases.items() for b in bs))
    order = graph.order(within=durations)
    stuck = tuple(n for n in durations if n not in set(order))
    live = {n: float(durations[n]) for n in order}
    if not live:
        return Schedule((), window_s, 0, 1, seed, stuck)
    bound = lower_bound(live, window_s)
    cap = max(1, max_concurrent) if max_concurrent else len(live)
    rng = random.Random(seed)
    dependents = graph.dependents_of
    independent = [n for n in order if not graph.bases.get(n) and not dependents.get(n)]
    shuffled = independent[:]
    rng.shuffle(shuffled)
    tail = _tail(graph, live, order)
    # independent roots rank below every chain of the same length, in seeded order
    rank = {n: tail[n] for n in order}
    for i, n in enumerate(shuffled):
        rank[n] = tail[n] - (i + 1) / (len(shuffled) + 1)
    lanes = min(bound, cap)
    slots = _list_schedule(graph, live, order, lanes, rank)
    while lanes < cap and max(s.end_s for s in slots) > window_s:
        lanes += 1
        slots = _list_schedule(graph, live, order, lanes, rank)
    slots = _jitter(slots, set(independent), window_s, rng)
    return Schedule(tuple(sorted(slots, key=lambda s: (s.start_s, s.lane))), window_s,
                    lanes, bound, seed, stuck)


def _jitter(slots: list[Slot], independent: set[str], window_s: float,
            rng: random.Random) -> list[Slot]:
    """Shift lanes that hold only independent roots by a seeded offset within their slack."""
    out: list[Slot] = []
    for lane in sorted({s.lane for s in slots}):
        mine = sorted((s for s in slots if s.lane == lane), key=lambda s: s.start_s)
        slack = window_s - mine[-1].end_s
        if all(s.view in independent for s in mine) and slack > 0:
            shift = rng.uniform(0, slack)
            mine = [Slot(s.view, s.start_s + shift, s.end_s + shift, s.lane, s.bases)
                    for s in mine]
        out.extend(mine)
    return out


def observed(starts: Mapping[str, float], durations: Mapping[str, float],
             bases: Mapping[str, Iterable[str]], window_s: float) -> Schedule:
    """A schedule as given by clock start times (the current one, or a random one)."""
    slots = tuple(Slot(n, starts[n], starts[n] + durations[n], -1,
                       tuple(b for b in bases.get(n, ()) if b in starts))
                  for n in starts)
    return Schedule(slots, window_s, 0, lower_bound(durations, window_s))
