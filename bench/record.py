"""Benchmark: what the flight recorder costs a busy server, and how fast its store grows.

Starts an embedded server, initialises pgbench, then runs pgbench with ``--clients`` client
connections for ``--seconds`` each, ``--pairs`` times without and with ``pgcrisis record``
(at ``--interval``), interleaved (without, with, without, with, ...) so that a drift of the
shared machine hits both alike. Prints, beside the baseline "pgbench alone":

- the recorder's CPU as a share of one core: its own process and its server backend
  (``/proc/PID/stat`` utime + stime over the run), target under 2%;
- pgbench's TPS with the recorder against without, and the run-to-run noise of the runs
  without (max - min over median): the change should be within that noise;
- the store's growth extrapolated to a day, target under 30 MiB/day: measured in steady state,
  from 5 s into each run (after the first full sample) to its end, the file's size after a
  passive checkpoint (the WAL file is reused, not growth); run with ``--seconds`` above 60 so
  that the minute's full samples are in it.

    uv run python bench/record.py [--clients 200] [--seconds 70] [--pairs 3] [--interval 1s]

With ``--baseline-src DIR`` (another checkout's ``src``, e.g. a worktree of the commit
before a change) it measures instead what one sample costs the recorder of each tree and
what it adds to the store, both trees on the same busy server, interleaved, ``--repeat``
times each (``bench/_record_trees.py``): medians with their spread [min-max], and after/before.

    git worktree add /tmp/record-before <commit>
    uv run python bench/record.py --baseline-src /tmp/record-before/src --repeat 5
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
from _proc import cpu_seconds
from rich.console import Console
from rich.table import Table

from pgcrisis.durations import parse as parse_duration
from pgcrisis.embedded import EmbeddedServer

TARGET_CPU = 0.02
TARGET_MIB_PER_DAY = 30.0


def pgbench(tool: Path, dsn: str, clients: int, seconds: int) -> float:
    """Run pgbench (TPC-B without its two-row hot spot, -N) and return its TPS."""
    out = subprocess.run(
        [str(tool), "-n", "-N", "-c", str(clients), "-j", "2", "-T", str(seconds), dsn],
        capture_output=True, text=True, check=True, env={**os.environ, "PGAPPNAME": "pgbench"},
    ).stdout
    match = re.search(r"tps = ([\d.]+)", out)
    assert match, out
    return float(match[1])


def recorder_backend(dsn: str) -> int | None:
    """The pid of the recorder's server backend (application_name pgcrisis)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT pid FROM pg_stat_activity WHERE application_name ="
                           " 'pgcrisis' ORDER BY backend_start LIMIT 1").fetchone()
    return int(row[0]) if row else None


def with_recorder(tool: Path, dsn: str, store: Path, clients: int, seconds: int,
                  interval: str, growth: list[float]) -> tuple[float, float, float, int]:
    """pgbench while the recorder runs: (tps, recorder cpu s, backend cpu s, wall s)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pgcrisis", "record", dsn, "--store", str(store),
         "--interval", interval, "--name", "bench"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    backend = None
    while backend is None and time.monotonic() < deadline:
        time.sleep(0.5)
        backend = recorder_backend(dsn)
    if backend is None:
        proc.kill()
        raise SystemExit("the recorder did not connect: "
                         + (proc.stderr.read().decode() if proc.stderr else ""))
    cpu0, back0, t0 = cpu_seconds(proc.pid), cpu_seconds(backend), time.monotonic()
    bench = threading.Thread(target=lambda: result.append(pgbench(tool, dsn, clients, seconds)))
    result: list[float] = []
    bench.start()
    time.sleep(5)  # the first full sample (every part) is written: growth from here is steady
    size0, g0 = store_bytes(store), time.monotonic()
    bench.join()
    size1, g1 = store_bytes(store), time.monotonic()
    cpu1, back1, t1 = cpu_seconds(proc.pid), cpu_seconds(backend), time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    growth.append((size1 - size0) / (g1 - g0))
    return result[0], cpu1 - cpu0, back1 - back0, int(t1 - t0)


def store_bytes(store: Path) -> int:
    """The store's size once its write-ahead log is copied in (a passive checkpoint, as the
    recorder's own maintenance does): the WAL file is reused, not growth."""
    if not store.exists():
        return 0
    with sqlite3.connect(store, timeout=10) as conn:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    return store.stat().st_size


def compare_trees(args: argparse.Namespace) -> None:
    """``--baseline-src``: the recorder of two trees, interleaved, under one pgbench load."""
    from _record_trees import compare, report

    work = Path(tempfile.mkdtemp(prefix="pgcrisis-bench-record-trees-"))
    work.chmod(0o755)
    trees = {"before": args.baseline_src, "after": args.current_src}
    settings = {"max_connections": str(args.clients + 20)}
    with EmbeddedServer(directory=work / "cluster", settings=settings) as server:
        assert server.binaries is not None
        tool = server.binaries.tool("pgbench")
        print(f"{server.description}; pgbench -c {args.clients} throughout; each tree "
              f"{args.repeat} times, {args.seconds} s from its first frame, interleaved; "
              f"load average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        subprocess.run([str(tool), "-i", "-s", "10", "-q", server.dsn], check=True,
                       capture_output=True)
        total = args.repeat * len(trees) * (args.seconds + 30) + 60
        load = subprocess.Popen(
            [str(tool), "-n", "-N", "-c", str(args.clients), "-j", "2", "-T", str(total),
             server.dsn], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "PGAPPNAME": "pgbench"})
        try:
            figures = compare(server.dsn, work, trees, args.repeat, args.seconds,
                              recorder_backend)
        finally:
            load.terminate()
            load.wait(30)
    report(figures, trees)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=70)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--interval", default="1s")
    parser.add_argument("--baseline-src", type=Path,
                        help="compare the recorder of this tree's src with --current-src's")
    parser.add_argument("--current-src", type=Path,
                        default=Path(__file__).resolve().parents[1] / "src",
                        help="the tree compared with --baseline-src (this checkout's)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each tree with --baseline-src")
    args = parser.parse_args()
    if args.baseline_src is not None:
        compare_trees(args)
        return
    console = Console()
    work = Path(tempfile.mkdtemp(prefix="pgcrisis-bench-record-"))
    work.chmod(0o755)
    store = work / "recording.sqlite"
    settings = {"max_connections": str(args.clients + 20)}
    with EmbeddedServer(directory=work / "cluster", settings=settings) as server:
        assert server.binaries is not None
        tool = server.binaries.tool("pgbench")
        dsn = server.dsn
        console.print(f"{server.description}; pgbench -c {args.clients} -T {args.seconds}, "
                      f"{args.pairs} pairs, recorder every {args.interval}")
        subprocess.run([str(tool), "-i", "-s", "10", "-q", dsn], check=True,
                       capture_output=True)
        alone: list[float] = []
        recorded: list[tuple[float, float, float, int]] = []
        growth: list[float] = []
        for i in range(args.pairs):
            alone.append(pgbench(tool, dsn, args.clients, args.seconds))
            console.print(f"  pair {i + 1}: pgbench alone {alone[-1]:,.0f} tps")
            before = store_bytes(store) if store.exists() else 0
            run = with_recorder(tool, dsn, store, args.clients, args.seconds, args.interval,
                                growth)
            recorded.append(run)
            grew = store_bytes(store) - before
            console.print(f"  pair {i + 1}: with recorder {run[0]:,.0f} tps, store +{grew:,} B")
        per_day = statistics.median(growth) * 86400 / 2**20
    base = statistics.median(alone)
    noise = (max(alone) - min(alone)) / base
    tps = statistics.median(r[0] for r in recorded)
    cpu = statistics.median(r[1] / r[3] for r in recorded)
    backend = statistics.median(r[2] / r[3] for r in recorded)
    table = Table(title="pgcrisis record: cost on a busy server (median of pairs)")
    for column in ("measure", "baseline: pgbench alone", "with the recorder", "target"):
        table.add_column(column, justify="right")
    table.add_row("pgbench TPS", f"{base:,.0f}", f"{tps:,.0f} ({(tps - base) / base:+.1%})",
                  f"within noise ({noise:.1%})")
    table.add_row("recorder + its backend, CPU (share of a core)", "0",
                  f"{cpu + backend:.2%} ({cpu:.2%} + {backend:.2%})", f"< {TARGET_CPU:.0%}")
    table.add_row("store growth", "0", f"{per_day:,.1f} MiB/day", f"< {TARGET_MIB_PER_DAY:g}")
    console.print(table)
    console.print(f"TPS without the recorder, each run: {', '.join(f'{t:,.0f}' for t in alone)}; "
                  f"with: {', '.join(f'{r[0]:,.0f}' for r in recorded)}. Interval "
                  f"{parse_duration(args.interval).total_seconds():g} s. Work dir {work}.")


if __name__ == "__main__":
    main()
