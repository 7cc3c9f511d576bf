"""Benchmark: `pgcrisis explain` on a big plan in every layout, beside `jq -c .` on the same file.

    uv run python bench/explain.py [--size-mb 1024] [--repeat 3] [--dsn DSN] [--workdir DIR]

1. Captures real plans from PostgreSQL (the embedded server unless --dsn is given) with
   EXPLAIN (ANALYZE, BUFFERS, VERBOSE, SETTINGS) in JSON and in text: a query over a
   partitioned, wide table (partition scans with their VERBOSE output lists and filters)
   and a join with a sort and a hash, so nodes carry what real ones carry.
2. Builds a plan of the requested size in PostgreSQL's own indented layout by repeating
   those real nodes under the Append (relation names numbered), written as a stream; from
   it, the same plan in the layouts people hand over: compacted to one line (by
   ``pgcrisis explain --compact``, checked against ``jq -c .``), re-indented by another tool
   with 2 spaces, 4 spaces and tabs (lists spread one element a line, as jq and Python
   print them); and a text-format plan of the same size from the text capture.
3. For each layout, runs ``jq -c .``, ``pgcrisis explain FILE --format json`` and
   ``pgcrisis explain FILE --compact`` ``--repeat`` times, one process at a time, and
   prints the median wall time with its spread (min-max), CPU time, and peak memory (the
   largest process's maximum RSS; where the command ran more than one process at once, as
   the analysis of a big plan does, also their summed PSS at the peak), and the speed-up
   over jq from the medians. The analyses of all JSON layouts must agree.
4. Analyses a 1,000-level-deep plan with pgcrisis and with jq (which stops at its depth limit).

Prints figures only; nothing is asserted. On a shared machine, wall times vary with the
load: read the spread, and the CPU column, which varies far less.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.string import TextLoader

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.plans: test-only code
from tests.plans.pgformat import dumps

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


def _capture(dsn: str) -> tuple[list[Any], list[Any], list[str]]:
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
        with conn.transaction(force_rollback=True):
            conn.execute(b"SET max_parallel_workers_per_gather = 0")
            text = [r[0] for r in conn.execute(
                f"EXPLAIN (ANALYZE, BUFFERS, VERBOSE, SETTINGS) {SCAN_QUERY}".encode())]
        conn.execute(b"DROP SCHEMA pgcrisis_bench CASCADE")
        return plans[0], plans[1], text


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
    together: int = 0   # the process tree's summed PSS at its peak (sampled), bytes
    processes: int = 1  # the most processes seen at once


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
    sampler = _TreeMemory(proc.pid)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    sampler.stop()
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
    return Run(elapsed, cpu, peak, os.waitstatus_to_exitcode(status), sampler.peak,
               sampler.processes)


class _TreeMemory(threading.Thread):
    """Samples the summed PSS of a process and its descendants every 50 ms (Linux).

    ``pgcrisis explain`` reads a big plan in a second process: the peak RSS of the largest
    process says nothing of the two together, and summed RSS counts the pages they share
    twice. PSS shares each page among the processes that map it, so the sum is what the
    tool occupies. GNU time, the wrapper here, is left out.
    """

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self._pid = pid
        self._done = threading.Event()
        self.peak = 0
        self.processes = 0

    def run(self) -> None:
        while not self._done.wait(0.05):
            pids = self._tree(self._pid)
            if pids and pids[0] == self._pid and os.path.exists(GNU_TIME):
                pids = pids[1:]
            total = sum(self._pss(pid) for pid in pids)
            self.peak = max(self.peak, total)
            self.processes = max(self.processes, len(pids))

    def stop(self) -> None:
        self._done.set()
        self.join()

    def _tree(self, pid: int) -> list[int]:
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        found = [pid]
        for child in children:
            found += self._tree(int(child))
        return found

    @staticmethod
    def _pss(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
        except (OSError, ValueError):
            pass
        return 0


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[^,\s\[\]]+')


def relayout(source: Path, target: Path, unit: str) -> None:
    """PostgreSQL's layout re-indented with ``unit`` per level, lists spread one element a
    line (what jq, Python or an editor's formatter write), streamed line by line."""
    with source.open(encoding="utf-8") as src, target.open("w", encoding="utf-8") as out:
        for line in src:
            body = line.lstrip(" ")
            level = (len(line) - len(body)) // 2
            body = body.rstrip("\n")
            pad = unit * level
            head, sep, rest = body.partition(": [")
            if sep and rest.rstrip(",").endswith("]") and rest.rstrip(",") != "]":
                items = _TOKEN.findall(rest.rstrip(",")[:-1])
                comma = "," if rest.endswith(",") else ""
                inner = unit * (level + 1)
                out.write(f"{pad}{head}: [\n" + ",\n".join(inner + item for item in items)
                          + f"\n{pad}]{comma}\n")
            else:
                out.write(f"{pad}{body}\n")


def build_text(path: Path, size: int, rows: list[str]) -> int:
    """A text-format plan of about ``size`` bytes: the captured scan's partition scans
    repeated under its Append; returns the number of nodes."""
    first = next(i for i, row in enumerate(rows) if "->  " in row and "Scan" in row)
    column = rows[first].index("->")
    end = next((i for i in range(first + 1, len(rows))
                if rows[i].startswith(" " * column + "->  ")), len(rows))
    block = "\n".join(rows[first:end]) + "\n"
    tail_at = next(i for i in range(first, len(rows)) if not rows[i].startswith(" "))
    head = "\n".join(rows[:first]) + "\n"
    tail = "\n".join(rows[tail_at:]) + "\n"
    name = re.search(r" on (\S+)", rows[first])
    assert name is not None
    relation = name.group(1)
    nodes = first  # roughly: the nodes above the Append's members
    written = len(head) + len(tail)
    with path.open("w", encoding="utf-8") as out:
        out.write(head)
        index = 0
        while written < size:
            piece = block.replace(relation, f"{relation}_{index}")
            out.write(piece)
            written += len(piece)
            nodes += 1
            index += 1
        out.write(tail)
    return nodes


@dataclass(frozen=True)
class Runs:
    """Repeated runs of one command: medians and spread."""

    runs: tuple[Run, ...]

    @property
    def wall(self) -> float:
        return statistics.median(r.wall_s for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu_s for r in self.runs)

    @property
    def peak(self) -> int:
        return max(r.peak for r in self.runs)

    @property
    def status(self) -> int:
        return max(r.status for r in self.runs)

    @property
    def together(self) -> int:
        return max(r.together for r in self.runs)

    @property
    def processes(self) -> int:
        return max(r.processes for r in self.runs)

    def spread(self) -> str:
        walls = [r.wall_s for r in self.runs]
        return f"{min(walls):.2f}-{max(walls):.2f}"


def repeat(argv: list[str], stdout_path: Path | None, times: int) -> Runs:
    """``measure`` ``times`` times, one after the other."""
    return Runs(tuple(measure(argv, stdout_path) for _ in range(times)))


def _row(name: str, run: Runs, jq: Runs | None = None) -> None:
    versus = ""
    if jq is not None and run.status == 0:
        versus = (f"   {jq.wall / run.wall:4.1f}x jq (wall), "
                  f"{jq.cpu / max(run.cpu, 1e-9):4.1f}x (CPU)")
    print(f"  {name:<24} {run.wall:7.2f} s wall [{run.spread()}] {run.cpu:7.2f} s CPU  "
          f"peak {run.peak / 2**20:7.1f} MiB  exit {run.status}{versus}")
    if run.processes > 1:
        print(f"  {'':<24} {run.processes} processes at once: {run.together / 2**20:.1f} MiB "
              f"together at the peak (summed PSS, sampled every 50 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3, help="runs per command (median)")
    parser.add_argument("--dsn")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--layouts", default="postgres,compact,indent-2,indent-4,tabs,text",
                        help="comma-separated subset of the layouts to measure")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="pgcrisis-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    pgcrisis = [sys.executable, "-m", "pgcrisis"]
    times = max(1, args.repeat)

    if args.dsn:
        scan_plan, join_plan, scan_text = _capture(args.dsn)
    else:
        from pgcrisis.embedded import EmbeddedServer

        with EmbeddedServer() as server:
            scan_plan, join_plan, scan_text = _capture(server.dsn)

    plan = workdir / "plan.json"
    started = time.perf_counter()
    nodes = build(plan, args.size_mb << 20, scan_plan, join_plan)
    size = plan.stat().st_size
    print(f"built {plan} : {size / 2**30:.2f} GiB, {nodes:,} nodes "
          f"({size / max(nodes, 1):,.0f} bytes per node) in {time.perf_counter() - started:.1f} s")
    compact = workdir / "compact.json"
    measure([*pgcrisis, "explain", str(plan), "--compact"], compact)
    wanted = set(args.layouts.split(","))
    layouts = {"postgres": plan, "compact": compact}
    for name, unit in (("indent-2", "  "), ("indent-4", "    "), ("tabs", "\t")):
        if name in wanted:
            layouts[name] = workdir / f"{name}.json"
            relayout(plan, layouts[name], unit)
    layouts = {name: path for name, path in layouts.items() if name in wanted}
    text_plan = workdir / "plan.txt"
    text_nodes = build_text(text_plan, (args.size_mb if "text" in wanted else 1) << 20,
                            scan_text)
    sizes = ", ".join(f"{k} {v.stat().st_size / 2**20:,.0f} MiB" for k, v in layouts.items())
    print(f"layouts: {sizes}; text {text_plan.stat().st_size / 2**20:,.0f} MiB, "
          f"~{text_nodes:,} nodes")
    print(f"each command {times}x, one process at a time: median wall [min-max], median CPU, "
          f"max peak RSS; load average at start {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs")

    summaries: dict[str, Any] = {}
    jq_out = workdir / "jq.json"
    for name, path in layouts.items():
        print(f"\n{name} ({path.stat().st_size / 2**20:,.0f} MiB):")
        jq_run = repeat([JQ, "-c", ".", str(path)], jq_out, times)
        out = workdir / f"{name}-analysis.json"
        analysis = repeat([*pgcrisis, "explain", str(path), "--format", "json"], out, times)
        compaction = repeat([*pgcrisis, "explain", str(path), "--compact"],
                            workdir / "recompact.json", times)
        _row("jq -c .", jq_run)
        _row("explain (analysis)", analysis, jq_run)
        _row("explain --compact", compaction, jq_run)
        if analysis.status == 0:
            summaries[name] = json.loads(out.read_text())["summary"]
        if name in ("postgres", "tabs"):
            again = workdir / "jq-of-recompact.json"
            measure([JQ, "-c", ".", str(workdir / "recompact.json")], again)
            print(f"  --compact means the same as the input (jq -c of both identical): "
                  f"{_same_file(jq_out, again)}")
            again.unlink(missing_ok=True)
        out.unlink(missing_ok=True)
    agree = len({json.dumps(v, sort_keys=True) for v in summaries.values()}) == 1
    print(f"\nall JSON layouts give the same summary: {agree} ({len(summaries)} analysed)")

    if "text" in wanted:
        print(f"\ntext-format plan ({text_plan.stat().st_size / 2**20:,.0f} MiB; jq cannot "
              f"read it):")
        text_run = repeat([*pgcrisis, "explain", str(text_plan), "--format", "json"],
                          workdir / "text-analysis.json", times)
        _row("explain (analysis)", text_run)

    deep = workdir / "deep.json"
    deep.write_text(_deep_plan(1000))
    deep_run = repeat([*pgcrisis, "explain", str(deep), "--format", "json"],
                      workdir / "deep-analysis.json", 1)
    proc = subprocess.run([JQ, "-c", ".", str(deep)], capture_output=True, text=True, check=False)
    print("\n1,000-level-deep plan:")
    _row("explain (analysis)", deep_run)
    jq_says = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "ok"
    print(f"  jq -c . exit {proc.returncode}: {jq_says}")
    if not args.keep:
        for item in (plan, compact, *layouts.values(), text_plan, jq_out,
                     workdir / "recompact.json", deep, workdir / "text-analysis.json",
                     workdir / "deep-analysis.json"):
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
    from tests.plans.hand import deep

    return dumps(deep(levels)) + "\n"


if __name__ == "__main__":
    main()
