"""Benchmark: what one refresh of ``pgcrisis top`` costs with 1,000 connections, beside
pg_activity's refresh on the same server.

Starts an embedded server (``max_connections`` a little above ``--connections``) and opens
``--connections`` client sessions over its unix socket: most idle, some idle in transaction,
some active (``pg_sleep``), a lock chain of a few dozen readers queued behind an
``ALTER TABLE`` that waits on an idle transaction, and a row-lock chain of a few ``UPDATE``s,
so that the checks and the blocking tree have work.

One refresh of ``pgcrisis top`` is one fast sample (the fast parts: activity, locks,
prepared) plus ``build_view`` (every triage check, session rows, the blocking tree): the real
:class:`pgcrisis.top.live.sampling.LiveSource` at 1 s, in a subprocess of its own, connected as a
dedicated role (``pgcrisis_bench_top``, member of ``pg_monitor``). One refresh of pg_activity
is what its UI loop calls each tick in its default (activities) view, driven headless through
its own Python API in its own interpreter (``pgactivity.data.Data``: server information,
memory/load, activities, and the per-process system counters when it runs on the server's
host), connected as ``pgactivity_bench_top``; rendering is left out for both tools.
pg_activity is never imported into this project: it runs in its own environment when
installed (``uv tool install 'pg_activity[psycopg]'``, or ``--pg-activity-python`` naming an
interpreter that can import it).

A third row is a reference, not a tool: the bare ``SELECT * FROM pg_stat_activity`` at 1 s
(role ``floor_bench_top``), what reading the session list alone costs on this server.

Each tool runs ``--refreshes`` refreshes, ``--runs`` times, interleaved (pgcrisis, pg_activity,
pg_activity, pgcrisis, ...) so that a drift of the shared machine hits both alike. Figures:

- client CPU: the sampling process's CPU time (``time.process_time``) between two refreshes
  over the wall time between them, as a share of one core; median and [min-max] over every
  refresh of every run. Target under 10%.
- server query time: ``pg_stat_statements`` ``sum(total_exec_time)`` of the tool's role
  (top-level statements), read before and after a run, divided by the run's refreshes;
  median and [min-max] over runs. Target under 20 ms.
- server backend CPU (a cross-check): ``/proc/PID/stat`` utime + stime of the tool's backend
  over the run, per refresh.

The samplers run in processes of their own (``bench/_top_samplers.py``); the crowd of sessions
is opened by ``bench/_top_crowd.py``; this module coordinates, measures and reports.

    uv run python bench/top.py [--connections 1000] [--refreshes 30] [--runs 3]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from _proc import cpu_seconds
from _top_crowd import open_crowd, prepare
from _top_samplers import PGA_DRIVER
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pgcrisis.embedded import EmbeddedServer

TARGET_CLIENT = 0.10   # share of one core
TARGET_SERVER_MS = 20.0
PGCRISIS_ROLE = "pgcrisis_bench_top"
PGA_ROLE = "pgactivity_bench_top"
FLOOR_ROLE = "floor_bench_top"
FLOOR = "reference: SELECT * FROM pg_stat_activity"
PGA_INSTALL = "uv tool install 'pg_activity[psycopg]'"
#: the samplers, each run in a process of its own
SAMPLERS = Path(__file__).with_name("_top_samplers.py")

# -- the coordinator --------------------------------------------------------------------------

@dataclass
class Run:
    """One run of one tool: per-refresh client figures, per-run server figures."""

    tool: str
    refreshes: int
    client_shares: list[float]      # CPU s / wall s between two refreshes
    took_ms: list[float]            # wall time of each refresh's work
    server_exec_ms: float           # pg_stat_statements total_exec_time over the run
    server_plan_ms: float
    calls: int
    backend_cpu_s: float
    sessions: int
    extra: dict[str, Any] = field(default_factory=dict)


def pgss(admin: psycopg.Connection[Any], role: str) -> tuple[float, float, int]:
    """(total_exec_time ms, total_plan_time ms, calls) of ``role``'s top-level statements."""
    row = admin.execute(
        "SELECT coalesce(sum(total_exec_time), 0), coalesce(sum(total_plan_time), 0),"
        "       coalesce(sum(calls), 0)::bigint"
        "  FROM pg_stat_statements WHERE userid = %s::regrole AND toplevel",
        (role,)).fetchone()
    assert row is not None
    return float(row[0]), float(row[1]), int(row[2])


def breakdown(admin: psycopg.Connection[Any], role: str, top: int = 4) -> list[str]:
    """``role``'s costliest top-level statements over the whole bench: mean ms per call,
    calls, and the statement's first line (pgcrisis's SQL files open with a comment)."""
    rows = admin.execute(
        "SELECT mean_exec_time, calls, query FROM pg_stat_statements"
        " WHERE userid = %s::regrole AND toplevel ORDER BY total_exec_time DESC LIMIT %s",
        (role, top)).fetchall()
    out = []
    for mean, calls, query in rows:
        line = next((x.strip() for x in query.splitlines() if x.strip()), "")
        out.append(f"{mean:6.2f} ms x {calls:>4}  {line[:90]}")
    return out


def backend_of(admin: psycopg.Connection[Any], role: str) -> int:
    rows = admin.execute("SELECT pid FROM pg_stat_activity WHERE usename = %s",
                         (role,)).fetchall()
    if len(rows) != 1:
        raise SystemExit(f"expected one session of {role}, found {len(rows)}")
    return int(rows[0][0])


def measure(tool: str, cmd: Sequence[str], admin: psycopg.Connection[Any], role: str,
            refreshes: int, work: Path) -> Run:
    """Start a sampler, read the counters around its ``refreshes`` refreshes."""
    errors = (work / f"{tool}.stderr").open("w+")
    s_start = pgss(admin, role)
    proc = subprocess.Popen(list(cmd), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=errors, text=True)
    assert proc.stdin is not None and proc.stdout is not None

    def read() -> dict[str, Any]:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            proc.wait(timeout=30)
            errors.seek(0)
            raise SystemExit(f"the {tool} sampler failed:\n{errors.read()[-3000:]}")
        return dict(json.loads(line))

    ready = read()
    backend = int(ready.get("backend") or backend_of(admin, role))
    s0, b0 = pgss(admin, role), cpu_seconds(backend)
    proc.stdin.write("go\n")
    proc.stdin.flush()
    result = read()
    s1, b1 = pgss(admin, role), cpu_seconds(backend)
    proc.stdin.write("stop\n")
    proc.stdin.flush()
    proc.wait(timeout=30)
    marks = result["marks"]
    shares = [(c1 - c0) / (t1 - t0) for (t0, c0), (t1, c1) in itertools.pairwise(marks)]
    extra = {k: v for k, v in {**ready, **result}.items()
             if k not in ("ready", "marks", "took", "sessions", "backend")}
    # the start (pgcrisis: one full sample, then one fast one) before the measured refreshes
    extra["start_server_ms"] = s0[0] - s_start[0]
    return Run(tool=tool, refreshes=len(shares), client_shares=shares,
               took_ms=[t * 1000 for t in result["took"]],
               server_exec_ms=s1[0] - s0[0], server_plan_ms=s1[1] - s0[1],
               calls=s1[2] - s0[2], backend_cpu_s=b1 - b0, sessions=int(result["sessions"]),
               extra=extra)


# -- pg_activity, where installed -------------------------------------------------------------

def find_pg_activity(explicit: str | None) -> tuple[str, str] | None:
    """(python, version) of an interpreter that imports pgactivity and psycopg: the given
    one, else the one behind a ``pg_activity`` command on PATH (or ``~/.local/bin``)."""
    candidates: list[str] = []
    if explicit:
        candidates.append(explicit)
    else:
        command = shutil.which("pg_activity") or shutil.which(
            "pg_activity", path=str(Path.home() / ".local" / "bin"))
        if command:
            first = Path(command).read_bytes()[:300].split(b"\n", 1)[0].decode(errors="replace")
            if first.startswith("#!"):
                candidates.append(first[2:].strip().split()[0])
    for python in candidates:
        try:
            probe = subprocess.run(
                [python, "-c", "import pgactivity, psycopg; print(pgactivity.__version__)"],
                capture_output=True, text=True, check=False)
        except OSError:  # no such interpreter
            continue
        if probe.returncode == 0:
            return python, probe.stdout.strip()
    return None


# -- the report -------------------------------------------------------------------------------

def spread(values: Sequence[float], fmt: str, scale: float = 1.0) -> str:
    """``median [min-max]``, each value times ``scale``."""
    med = statistics.median(values) * scale
    return (f"{med:{fmt}} [{min(values) * scale:{fmt}}–{max(values) * scale:{fmt}}]")


def verdict(ok: bool) -> str:
    return "[green]PASS[/]" if ok else "[red]FAIL[/]"


def report(console: Console, runs: list[Run], pga: tuple[str, str] | None,
           args: argparse.Namespace) -> None:
    table = Table(title=f"one refresh at 1 s, {args.connections:,} client sessions "
                        f"({args.runs} runs x {args.refreshes} refreshes per tool)")
    for column in ("tool", "sessions seen", "client CPU, % of a core", "refresh work, ms",
                   "server query ms / refresh", "server backend CPU ms / refresh",
                   "statements / refresh"):
        table.add_column(column, justify="right", no_wrap=column == "tool")
    tools = ["pgcrisis top"] + ([f"pg_activity {pga[1]}"] if pga else []) + [FLOOR]
    for tool in tools:
        mine = [r for r in runs if r.tool == tool]
        shares = [s for r in mine for s in r.client_shares]
        took = [t for r in mine for t in r.took_ms]
        server = [r.server_exec_ms / r.refreshes for r in mine]
        backend = [r.backend_cpu_s * 1000 / r.refreshes for r in mine]
        calls = [r.calls / r.refreshes for r in mine]
        sessions = sorted({r.sessions for r in mine})
        table.add_row(tool, "/".join(f"{s:,}" for s in sessions), spread(shares, ".1f", 100),
                      spread(took, ".0f"), spread(server, ".1f"), spread(backend, ".1f"),
                      f"{statistics.median(calls):.1f}")
    console.print(table)
    if not pga:
        console.print(escape(f"pg_activity: not installed (install with: {PGA_INSTALL}; or "
                             "pass --pg-activity-python PATH)"))
    mine = [r for r in runs if r.tool == "pgcrisis top"]
    client = statistics.median(s for r in mine for s in r.client_shares)
    server = statistics.median(r.server_exec_ms / r.refreshes for r in mine)
    plan = statistics.median(r.server_plan_ms / r.refreshes for r in mine)
    console.print(f"target: client under {TARGET_CLIENT:.0%} of one core: "
                  f"{verdict(client < TARGET_CLIENT)} ({client:.1%}, median)")
    floor = statistics.median(r.server_exec_ms / r.refreshes for r in runs if r.tool == FLOOR)
    cpu = statistics.median(r.backend_cpu_s * 1000 / r.refreshes for r in mine)
    console.print(f"target: server under {TARGET_SERVER_MS:g} ms of query time per refresh: "
                  f"{verdict(server < TARGET_SERVER_MS)} ({server:.1f} ms exec, median of runs; "
                  f"+{plan:.1f} ms planning; its backend's CPU {cpu:.1f} ms; the bare "
                  f"SELECT * FROM pg_stat_activity {floor:.1f} ms)")
    first = mine[0].extra
    start_wall = statistics.median(r.extra["start_wall_s"] for r in mine)
    start_cpu = statistics.median(r.extra["start_cpu_s"] for r in mine)
    full_server = statistics.median(r.extra["start_server_ms"] for r in mine) - server
    tree = f"{first['roots']} root(s) with {first['behind']} sessions behind"
    console.print(f"pgcrisis top's view: {mine[0].sessions:,} sessions, blocking tree {tree}, "
                  f"{first['findings']} findings. Once a minute it reads every part: its start "
                  f"(that full sample) took {start_wall:.2f} s wall, {start_cpu:.2f} s client CPU "
                  f"(its first connection included), ≈{full_server:.0f} ms server query "
                  "time.")
    if pga:
        local = [r.extra.get("local") for r in runs if r.tool.startswith("pg_activity")]
        console.print(f"pg_activity {pga[1]} ({pga[0]}): its default view lists non-idle "
                      f"sessions only; system counters (psutil per process) "
                      f"{'on' if any(local) else 'off'}, as on the server's host; rendering "
                      "left out, as for pgcrisis.")
    console.print(escape(
        "Sources. client CPU: time.process_time of the sampler's process between two "
        "refreshes / wall time between them, every refresh of every run. refresh work: wall "
        "time of the sample and view (pg_activity: its fetches). server query ms: "
        "pg_stat_statements sum(total_exec_time) of the tool's role (top-level statements: "
        f"{PGCRISIS_ROLE}, {PGA_ROLE}, {FLOOR_ROLE}) after - before a run / refreshes, over "
        "runs. backend CPU: /proc/PID/stat utime+stime of the tool's server backend over a "
        "run / refreshes. "
        f"Machine: {os.cpu_count()} cores, shared; medians [min–max]."))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--refreshes", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pg-activity-python", help="an interpreter that imports pgactivity")
    args = parser.parse_args()
    console = Console(width=None if sys.stdout.isatty() else 150)
    pga = find_pg_activity(args.pg_activity_python)
    work = Path(tempfile.mkdtemp(prefix="pgcrisis-bench-top-"))
    work.chmod(0o755)
    driver = work / "pga_driver.py"
    driver.write_text(PGA_DRIVER)
    password = "bench-top-pw"
    settings = {"max_connections": str(args.connections + 60),
                "pg_stat_statements.track_planning": "on"}
    with EmbeddedServer(directory=work / "cluster", settings=settings) as server:
        if "pg_stat_statements" not in server.preloaded:
            raise SystemExit("the embedded server lacks pg_stat_statements: "
                             + "; ".join(m.line() for m in server.missing))
        console.print(f"{server.description}; {args.connections:,} sessions, "
                      f"{args.refreshes} refreshes at 1 s x {args.runs} runs per tool; "
                      + (f"pg_activity {pga[1]}" if pga else "pg_activity not installed"))
        prepare(server, password, (PGCRISIS_ROLE, PGA_ROLE, FLOOR_ROLE))
        crowd = open_crowd(server, args.connections, console)
        console.print("  mix: " + ", ".join(f"{k} {v}" for k, v in crowd.mix.items()))
        time.sleep(1)
        def ours(kind: str, role: str) -> tuple[list[str], str]:
            return ([sys.executable, str(SAMPLERS), kind, str(args.refreshes),
                     server.dsn_for(server.dbname, role, password)], role)

        samplers = {"pgcrisis top": ours("pgcrisis", PGCRISIS_ROLE),
                    FLOOR: ours("floor", FLOOR_ROLE)}
        if pga:
            samplers[f"pg_activity {pga[1]}"] = (
                [pga[0], str(driver), "127.0.0.1", str(server.port), PGA_ROLE, password,
                 server.dbname, str(args.refreshes)], PGA_ROLE)
        runs: list[Run] = []
        with psycopg.connect(server.dsn, autocommit=True) as admin:
            for i in range(args.runs):
                order = list(samplers) if i % 2 == 0 else list(reversed(samplers))
                for tool in order:
                    cmd, role = samplers[tool]
                    run = measure(tool, cmd, admin, role, args.refreshes, work)
                    runs.append(run)
                    console.print(
                        f"  run {i + 1}/{args.runs} {tool}: client "
                        f"{statistics.median(run.client_shares):.1%} of a core, server "
                        f"{run.server_exec_ms / run.refreshes:.1f} ms/refresh, "
                        f"{run.sessions:,} sessions seen")
            costs = {tool: breakdown(admin, role) for tool, (_, role) in samplers.items()
                     if tool != FLOOR}
        crowd.close()
    report(console, runs, pga, args)
    for tool, lines in costs.items():
        console.print(escape(f"{tool}, costliest statements (pg_stat_statements, whole "
                             f"bench, mean exec ms x calls):"))
        for line in lines:
            console.print(escape(f"  {line}"))
    shutil.rmtree(work, ignore_errors=True)  # kept when a sampler fails (its stderr is there)


if __name__ == "__main__":
    main()
