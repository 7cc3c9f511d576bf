"""Benchmark: `pgcrisis explain` on a 1 GiB plan, beside `jq -c .` on the same file.

    uv run python bench/explain.py [--size-mb 1024] [--dsn DSN] [--workdir DIR]

1. Captures real plans from PostgreSQL (the embedded server unless --dsn is given) with
   EXPLAIN (ANALYZE, BUFFERS, VERBOSE, SETTINGS, FORMAT JSON): a query over a partitioned,
   wide table (partition scans with their VERBOSE output lists and filters) and a join with
   a sort and a hash, so nodes carry what real ones carry.
2. Builds a plan of the requested size in PostgreSQL's own indented layout by repeating
   those real nodes under the Append (relation names numbered), written as a stream.
3. Runs, one at a time, measuring wall time and peak memory (the child's ru_maxrss):
   ``pgcrisis explain FILE --format json``, ``pgcrisis explain FILE --compact`` and
   ``jq -c . FILE``; then checks that the compacted file means the same as the original
   (``jq -c .`` of both is byte-identical).
4. Analyses a 1,000-level-deep plan with pgcrisis and with jq (which stops at its depth limit).

Prints figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.string import TextLoader

from pgcrisis.plan.pgformat import dumps

JQ = shutil.which("jq") or "/usr/bin/jq"
COLUMNS = 24
PARTITIONS = 16
PLACEHOLDER = "@@CHILDREN@@"

SETUP = [
    "DROP SCHEMA IF EXISTS pgcrisis_bench CASCADE",
    "CREATE SCHEMA pgcrisis_bench",
    "SET search_path = pgcrisis_bench",
    "CREATE TABLE readings (id bigint, at date, sensor int, "
    + ", ".join(f"metric_{i:02d} double precision" for i in range(COLUMNS))
    + ", note text) PARTITION BY RANGE (at)",
    *(f"CREATE TABLE readings_{p} PARTITION OF readings FOR VALUES FROM "
      f"('2024-01-01'::date + {p * 30}) TO ('2024-01-01'::date + {p * 30 + 30})"
      for p in range(PARTITIONS)),
    "INSERT INTO readings SELECT g, '2024-01-01'::date + (g % (30 * 16)), g % 500, "
    + ", ".join(f"random() * {i + 1}" for i in range(COLUMNS))
    + ", md5(g::text) FROM generate_series(1, 40000) g",
    "CREATE TABLE sensors (id int PRIMARY KEY, site text, kind text)",
    "INSERT INTO sensors SELECT g, 'site ' || (g % 40), 'kind ' || (g % 7) "
    "FROM generate_series(0, 499) g",
    "ANALYZE readings, sensors",
]
SCAN_QUERY = ("SELECT * FROM readings WHERE metric_03 > 3.5 AND note LIKE '%ab%' "
              "AND sensor <> 17")
JOIN_QUERY = ("SELECT s.site, r.* FROM readings_0 r JOIN sensors s ON s.id = r.sensor "
              "WHERE r.metric_01 < 1.0 ORDER BY r.metric_02 DESC LIMIT 50")


def _capture(dsn: str) -> tuple[list[Any], list[Any]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.adapters.register_loader("json", TextLoader)
        for statement in SETUP:
            conn.execute(statement.encode())
        plans = []
        for query in (SCAN_QUERY, JOIN_QUERY):
            with conn.transaction(force_rollback=True):
                conn.execute(b"SET max_parallel_workers_per_gather = 0")
                row = conn.execute(
                    f"EXPLAIN (ANALYZE, BUFFERS, VERBOSE, SETTINGS, FORMAT JSON) {query}"
                    .encode()).fetchone()
            assert row is not None
            plans.append(json.loads(row[0]))
        conn.execute(b"DROP SCHEMA pgcrisis_bench CASCADE")
        return plans[0], plans[1]


def _find(node: dict[str, Any], node_type: str) -> dict[str, Any]:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.get("Node Type") == node_type:
            return current
        stack.extend(current.get("Plans", []))
    raise LookupError(node_type)


def _reindent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line for line in text.split("\n"))


def build(path: Path, size: int, scan_plan: list[Any], join_plan: list[Any]) -> int:
    """Write a plan of about ``size`` bytes; returns the number of nodes."""
    document = json.loads(json.dumps(scan_plan))
    append = _find(document[0]["Plan"], "Append")
    scans = append["Plans"]
    subtree = json.loads(json.dumps(join_plan[0]["Plan"]))
    subtree["Parent Relationship"] = "Member"
    templates = [(dumps(scan), scan.get("Relation Name", ""), 1) for scan in scans[:PARTITIONS]]
    join_nodes = sum(1 for _ in _walk(subtree))
    templates.append((dumps(subtree), "readings_0", join_nodes))
    append["Plans"] = [{"Node Type": PLACEHOLDER}]
    lines = dumps(document).split("\n")
    at = next(i for i, line in enumerate(lines) if PLACEHOLDER in line)
    indent = len(lines[at - 1]) - len(lines[at - 1].lstrip(" "))
    head = "\n".join(lines[: at - 1]) + "\n"
    tail = "\n" + "\n".join(lines[at + 2:])
    rendered = [(_reindent(text, indent).replace(f'"{name}"', '"@REL@"'), count)
                for text, name, count in templates]
    nodes = sum(1 for _ in _walk(document[0]["Plan"])) - 1
    written = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(head)
        written += len(head)
        index = 0
        while written < size - len(tail):
            text, count = rendered[index % len(rendered)]
            piece = ("" if index == 0 else ",\n") + text.replace("@REL@",
                                                                 f"readings_{index}")
            out.write(piece)
            written += len(piece)
            nodes += count
            index += 1
        out.write(tail + "\n")
    return nodes


def _walk(node: dict[str, Any]) -> Any:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            yield current
            stack.extend(current.get("Plans", []))


GNU_TIME = "/usr/bin/time"


@dataclass(frozen=True)
class Run:
    """One measured command."""

    wall_s: float
    cpu_s: float
    peak: int
    status: int


def measure(argv: list[str], stdout_path: Path | None) -> Run:
    """Wall and CPU (user + system) seconds, peak RSS in bytes, exit status of one child.

    The peak comes from GNU time where it exists: a child forked straight from this (bigger)
    process inherits its high-water mark through exec, so wait4's figure would be inflated.
    CPU time is printed beside wall time because this machine may be shared: CPU seconds
    hardly change with the load, wall seconds do.
    """
    out = stdout_path.open("wb") if stdout_path else subprocess.DEVNULL
    use_time = os.path.exists(GNU_TIME)
    command = [GNU_TIME, "-f", "@@%M", *argv] if use_time else argv
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if stdout_path:
        out.close()  # type: ignore[union-attr]
    assert proc.stderr is not None
    errors = proc.stderr.read().decode("utf-8", "replace")
    peak = usage.ru_maxrss * 1024
    if use_time:
        marks = [line for line in errors.splitlines() if line.startswith("@@")]
        if marks:
            peak = int(marks[-1][2:]) * 1024
    cpu = usage.ru_utime + usage.ru_stime
    return Run(elapsed, cpu, peak, os.waitstatus_to_exitcode(status))


def _row(name: str, run: Run, jq: Run | None = None) -> None:
    versus = ""
    if jq is not None:
        wall, cpu = jq.wall_s / run.wall_s, jq.cpu_s / max(run.cpu_s, 1e-9)
        versus = f"   speed-up over jq: {wall:4.1f}x wall, {cpu:4.1f}x CPU"
    print(f"  {name:<34} {run.wall_s:7.2f} s wall {run.cpu_s:7.2f} s CPU   peak "
          f"{run.peak / 2**20:7.1f} MiB   exit {run.status}{versus}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--dsn")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="pgcrisis-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    pgcrisis = [sys.executable, "-m", "pgcrisis"]

    if args.dsn:
        scan_plan, join_plan = _capture(args.dsn)
    else:
        from pgcrisis.embedded import EmbeddedServer

        with EmbeddedServer() as server:
            scan_plan, join_plan = _capture(server.dsn)

    plan = workdir / "plan.json"
    started = time.perf_counter()
    nodes = build(plan, args.size_mb << 20, scan_plan, join_plan)
    size = plan.stat().st_size
    print(f"built {plan} : {size / 2**30:.2f} GiB, {nodes:,} nodes "
          f"({size / max(nodes, 1):,.0f} bytes per node) in {time.perf_counter() - started:.1f} s")

    print("\nwall time and peak memory (one process at a time):")
    jq_out = workdir / "jq.json"
    jq_run = measure([JQ, "-c", ".", str(plan)], jq_out)
    analysis_out = workdir / "analysis.json"
    analysis = measure([*pgcrisis, "explain", str(plan), "--format", "json"], analysis_out)
    compact_out = workdir / "compact.json"
    compaction = measure([*pgcrisis, "explain", str(plan), "--compact"], compact_out)
    _row("jq -c .", jq_run)
    _row("pgcrisis explain --format json", analysis, jq_run)
    _row("pgcrisis explain --compact", compaction, jq_run)
    if analysis.status == 0:
        summary = json.loads(analysis_out.read_text())["summary"]
        print(f"  analysis: {summary['nodes']:,} nodes, execution {summary['execution_ms']} ms")

    recompacted = workdir / "jq-of-compact.json"
    jq_compact = measure([JQ, "-c", ".", str(compact_out)], recompacted)
    same = _same_file(jq_out, recompacted)
    print(f"  compacted file means the same as the original (jq -c of both identical): {same}"
          f"; {compact_out.stat().st_size / 2**20:,.0f} MiB vs jq's "
          f"{jq_out.stat().st_size / 2**20:,.0f} MiB")

    print("\nthe compacted file as input (no line structure: the bracket-counting path):")
    from_compact = measure([*pgcrisis, "explain", str(compact_out), "--format", "json"],
                           workdir / "compact-analysis.json")
    _row("jq -c . (compacted input)", jq_compact)
    _row("pgcrisis explain --format json", from_compact, jq_compact)
    compact_summary = json.loads((workdir / "compact-analysis.json").read_text())["summary"]
    if analysis.status == 0:
        print(f"  same summary as from the indented file: {compact_summary == summary}")

    deep = workdir / "deep.json"
    deep.write_text(_deep_plan(1000))
    deep_run = measure([*pgcrisis, "explain", str(deep), "--format", "json"],
                       workdir / "deep-analysis.json")
    proc = subprocess.run([JQ, "-c", ".", str(deep)], capture_output=True, text=True, check=False)
    print("\n1,000-level-deep plan:")
    _row("pgcrisis explain --format json", deep_run)
    jq_says = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "ok"
    print(f"  jq -c . exit {proc.returncode}: {jq_says}")
    if not args.keep:
        for item in (plan, jq_out, analysis_out, compact_out, recompacted, deep,
                     workdir / "compact-analysis.json", workdir / "deep-analysis.json"):
            item.unlink(missing_ok=True)


def _same_file(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    with a.open("rb") as fa, b.open("rb") as fb:
        while True:
            x, y = fa.read(1 << 22), fb.read(1 << 22)
            if x != y:
                return False
            if not x:
                return True


def _deep_plan(levels: int) -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.plans.hand import deep

    return dumps(deep(levels)) + "\n"


if __name__ == "__main__":
    main()
