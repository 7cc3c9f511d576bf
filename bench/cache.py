"""Benchmark: what `pgcrisis cache` changes for readers and for the refresh schedule.

1. Reader latency on a real (embedded) server: a reader thread looks rows up in a
   materialized view continuously; p50/p99 of the reads with no refresh running, of the
   reads overlapping a plain ``REFRESH MATERIALIZED VIEW``, and of those overlapping
   ``pgcrisis cache refresh`` (CONCURRENTLY), and how many reads waited (> 50 ms). Target:
   p99 during `cache refresh` within 2x of p99 without any refresh. On a small, busy
   machine the refresh's own CPU use shows up as a few reads of a few ms (scheduling, not
   locks): compare the last column.
2. Schedules for a synthetic catalogue of 300 views (lognormal durations, dependencies):
   peak concurrency and order violations (dependents started before their base finished)
   of the old 08:00-10:00 random default, of a random spread over a 01:00-05:00 night,
   and of `cache plan` for that night. Target: the plan at the lower bound, zero violations.

    uv run python bench/cache.py [--rows 1500000] [--seeds 20]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console
from rich.table import Table

from pgcrisis.cache.planner import lower_bound, observed, plan_schedule
from pgcrisis.cache.service import refresh_views
from pgcrisis.dsn import Target
from pgcrisis.embedded import EmbeddedServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' synthetic catalogue

from tests.cache_synthetic import catalogue, random_starts

NIGHT_S = 4 * 3600.0
MORNING_S = 2 * 3600.0
#: a read slower than this waited for something other than the CPU (a lock)
WAITED_MS = 50.0


def build(dsn: str, rows: int) -> None:
    """A fact table and a matview aggregating it (one row per key), with its unique index."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE facts (id bigserial PRIMARY KEY, k int NOT NULL,"
                     " amount numeric NOT NULL)")
        conn.execute("INSERT INTO facts (k, amount) SELECT (random() * 20000)::int,"
                     " (random() * 100)::numeric(10, 2) FROM generate_series(1, %s)", (rows,))
        conn.execute("CREATE MATERIALIZED VIEW mv_totals AS SELECT k, count(*) AS n,"
                     " sum(amount) AS total, avg(amount) AS mean FROM facts GROUP BY k")
        conn.execute("CREATE UNIQUE INDEX ON mv_totals (k)")
        conn.execute("VACUUM ANALYZE facts")
        conn.execute("ANALYZE mv_totals")


def _read_loop(dsn: str, stop: Any, out: Any) -> None:
    """In its own process (no GIL shared with the refresher): look one key up at a time,
    then send back (start, end) wall-clock times of every read."""
    reads: list[tuple[float, float]] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        k = 0
        while not stop.is_set():
            k = (k + 7919) % 20000
            t0 = time.time()
            conn.execute("SELECT total FROM mv_totals WHERE k = %s", (k,))
            reads.append((t0, time.time()))
            time.sleep(0.001)
    out.put(reads)


class Reader:
    """A reader process; ``reads`` once stopped."""

    def __init__(self, dsn: str) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._stop = ctx.Event()
        self._out: Any = ctx.Queue()
        self._proc = ctx.Process(target=_read_loop, args=(dsn, self._stop, self._out))
        self.reads: list[tuple[float, float]] = []

    def start(self) -> None:
        self._proc.start()

    def finish(self) -> list[tuple[float, float]]:
        self._stop.set()
        self.reads = self._out.get(timeout=60)
        self._proc.join(30)
        return self.reads


def _percentiles(reads: list[tuple[float, float]]) -> tuple[float, float, int]:
    ms = sorted((b - a) * 1000 for a, b in reads)
    if not ms:
        return 0.0, 0.0, 0
    return (statistics.median(ms), ms[min(len(ms) - 1, int(0.99 * len(ms)))], len(ms))


def _waited(reads: list[tuple[float, float]]) -> int:
    """Reads that took longer than a CPU time slice could explain: they waited for a lock."""
    return sum(1 for a, b in reads if (b - a) * 1000 > WAITED_MS)


def timed(action: Any) -> tuple[float, float]:
    """Run ``action`` between pauses; its wall-clock (start, end). The refreshes note the
    span of the REFRESH statement itself: that is when readers could be hurt."""
    time.sleep(0.3)
    t0 = time.time()
    action()
    t1 = time.time()
    time.sleep(0.3)
    return t0, t1


def _within(reads: list[tuple[float, float]],
            span: tuple[float, float]) -> list[tuple[float, float]]:
    return [(a, b) for a, b in reads if b >= span[0] and a <= span[1]]


def latency(dsn: str, rows: int, rounds: int, console: Console) -> Table:
    with console.status("building the fact table and its cached view"):
        build(dsn, rows)
    reader = Reader(dsn)
    reader.start()
    time.sleep(2.0)  # the process starts and warms up
    spans: dict[str, list[tuple[float, float]]] = {"none": [], "plain": [], "cache": []}
    took: dict[str, list[float]] = {"plain": [], "cache": []}

    def plain() -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            t0 = time.time()
            conn.execute("REFRESH MATERIALIZED VIEW mv_totals")
            spans["plain"].append((t0, time.time()))
            took["plain"].append(time.time() - t0)

    def cached() -> None:
        run = refresh_views(Target(dsn, "bench"), ["mv_totals"])
        assert run.outcomes[0].status == "refreshed" and run.outcomes[0].concurrently
        took["cache"].append(run.outcomes[0].duration_s)
        spans["cache"].append((run.outcomes[0].started_at, run.outcomes[0].finished_at))

    # interleaved rounds, so every kind of window sees the same background load
    for i in range(rounds):
        with console.status(f"round {i + 1}/{rounds}: no refresh, plain REFRESH, cache refresh"):
            spans["none"].append(timed(lambda: time.sleep(1.0)))
            timed(plain)
            timed(cached)
    reads = reader.finish()

    def picked(kind: str) -> list[tuple[float, float]]:
        return [r for span in spans[kind] for r in _within(reads, span)]

    baseline = picked("none")
    plain_reads, plain_s = picked("plain"), statistics.mean(took["plain"])
    cache_reads, cache_s = picked("cache"), statistics.mean(took["cache"])
    table = Table(title=f"reader latency, mv of 20,000 keys over {rows:,} rows, "
                        f"{rounds} rounds")
    for col in ("reads during", "refresh s (mean)", "reads", "p50 ms", "p99 ms",
                "p99 / no-refresh p99", f"reads > {WAITED_MS:.0f} ms"):
        table.add_column(col, justify="right")
    p50, p99_base, n = _percentiles(baseline)
    table.add_row("no refresh", "-", str(n), f"{p50:.2f}", f"{p99_base:.2f}", "1.0x",
                  str(_waited(baseline)))
    for label, reads, secs in (("plain REFRESH", plain_reads, plain_s),
                               ("pgcrisis cache refresh", cache_reads, cache_s)):
        p50, p99, n = _percentiles(reads)
        table.add_row(label, f"{secs:.2f}", str(n), f"{p50:.2f}", f"{p99:.2f}",
                      f"{p99 / p99_base:.1f}x", str(_waited(reads)))
    return table


def schedules(seeds: int) -> Table:
    durations, bases = catalogue(300, seed=7)
    names = list(durations)
    dependents = sum(1 for v in bases.values() if v)
    bound = lower_bound(durations, NIGHT_S)
    table = Table(title=(f"300 views, {sum(durations.values()) / 3600:.1f} h of refreshing, "
                         f"{dependents} built on others; lower bound at night: {bound}"))
    for col in ("schedule", "peak (seed 1)", "violations (seed 1)",
                f"peak, mean of {seeds} seeds", f"violations, mean of {seeds}"):
        table.add_column(col, justify="right")
    for label, window in (("random 08:00-10:00 (old default)", MORNING_S),
                          ("random 01:00-05:00", NIGHT_S)):
        runs = [observed(random_starts(names, window, seed=s), durations, bases, window)
                for s in range(1, seeds + 1)]
        table.add_row(label, str(runs[0].peak), str(runs[0].violations),
                      f"{statistics.mean(r.peak for r in runs):.1f}",
                      f"{statistics.mean(r.violations for r in runs):.1f}")
    plans = [plan_schedule(durations, bases, window_s=NIGHT_S, seed=s)
             for s in range(1, seeds + 1)]
    table.add_row("pgcrisis cache plan 01:00-05:00", str(plans[0].peak),
                  str(plans[0].violations), f"{statistics.mean(p.peak for p in plans):.1f}",
                  f"{statistics.mean(p.violations for p in plans):.1f}")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_500_000)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    console = Console(width=max(Console().width, 110))
    console.print(schedules(args.seeds))
    with EmbeddedServer() as server:
        console.print(latency(server.dsn, args.rows, args.rounds, console))


if __name__ == "__main__":
    main()
