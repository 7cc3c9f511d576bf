"""Benchmark: `pgcrisis explain` on a big plan in every layout, beside `jq -c .` on the same file.

    uv run python bench/explain.py [--size-mb 1024] [--repeat 3] [--dsn DSN] [--workdir DIR]
    uv run python bench/explain.py --size-mb 128 --repeat 5 --baseline-src /tmp/before/src

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
   over jq from the medians (``bench/_runs.py`` measures). The analyses of all JSON layouts
   must agree.
4. Analyses a 1,000-level-deep plan with pgcrisis and with jq (which stops at its depth limit).

With ``--baseline-src DIR`` (another checkout's ``src``, e.g. a worktree of the commit
before a change), steps 3 and 4 give way to a comparison: the analysis of the same files
(the layouts, plus a small JSON plan that takes the strict parser) by that tree and by this
one (``--current-src``), interleaved in one run, with each one's medians, spread and the
ratio (``bench/_two_trees.py``).

Prints figures only; nothing is asserted. On a shared machine, wall times vary with the
load: read the spread, and the CPU column, which varies far less.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from _runs import Runs, measure, repeat, row
from psycopg.types.string import TextLoader

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.plans: test-only code
from tests.plans.pgformat import dumps

JQ = shutil.which("jq") or "/usr/bin/jq"
PGCRISIS = [sys.executable, "-m", "pgcrisis"]
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
class Inputs:
    """The files measured: the plan in each layout, a text plan, and the captured plans they
    were built from."""

    layouts: dict[str, Path]
    text_plan: Path
    scan_plan: list[Any]
    join_plan: list[Any]


def main() -> None:
    args = _arguments()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="pgcrisis-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    inputs = _inputs(args, workdir)
    try:
        if args.baseline_src:
            _compare_trees(args, workdir, inputs)
        else:
            _beside_jq(args, workdir, inputs)
    finally:
        if not args.keep:
            for item in (*inputs.layouts.values(), inputs.text_plan,
                         workdir / "plan.json", workdir / "compact.json"):
                item.unlink(missing_ok=True)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3, help="runs per command (median)")
    parser.add_argument("--dsn")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--layouts", default="postgres,compact,indent-2,indent-4,tabs,text",
                        help="comma-separated subset of the layouts to measure")
    parser.add_argument("--baseline-src", type=Path,
                        help="compare the analysis with this source tree's, interleaved")
    parser.add_argument("--current-src", type=Path,
                        default=Path(__file__).resolve().parents[1] / "src",
                        help="the tree compared with --baseline-src (this checkout's)")
    return parser.parse_args()


def _inputs(args: argparse.Namespace, workdir: Path) -> Inputs:
    """Real plans captured from PostgreSQL, built up to the size asked, in every layout."""
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
    measure([*PGCRISIS, "explain", str(plan), "--compact"], compact)
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
    return Inputs(layouts, text_plan, scan_plan, join_plan)


def _beside_jq(args: argparse.Namespace, workdir: Path, inputs: Inputs) -> None:
    """Each layout's analysis and compaction beside ``jq -c .``, the text plan, a deep plan."""
    times = max(1, args.repeat)
    print(f"each command {times}x, one process at a time: median wall [min-max], median CPU, "
          f"max peak RSS; load average at start {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs")
    summaries: dict[str, Any] = {}
    jq_out = workdir / "jq.json"
    for name, path in inputs.layouts.items():
        print(f"\n{name} ({path.stat().st_size / 2**20:,.0f} MiB):")
        jq_run = repeat([JQ, "-c", ".", str(path)], jq_out, times)
        out = workdir / f"{name}-analysis.json"
        analysis = repeat([*PGCRISIS, "explain", str(path), "--format", "json"], out, times)
        compaction = repeat([*PGCRISIS, "explain", str(path), "--compact"],
                            workdir / "recompact.json", times)
        row("jq -c .", jq_run)
        row("explain (analysis)", analysis, jq_run)
        row("explain --compact", compaction, jq_run)
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
    if "text" in args.layouts.split(","):
        text_plan = inputs.text_plan
        print(f"\ntext-format plan ({text_plan.stat().st_size / 2**20:,.0f} MiB; jq cannot "
              f"read it):")
        text_run = repeat([*PGCRISIS, "explain", str(text_plan), "--format", "json"],
                          workdir / "text-analysis.json", times)
        row("explain (analysis)", text_run)
    _deep(workdir)
    if not args.keep:
        for item in (jq_out, workdir / "recompact.json", workdir / "text-analysis.json"):
            item.unlink(missing_ok=True)


def _deep(workdir: Path) -> None:
    """A 1,000-level-deep plan, where jq stops at its depth limit."""
    deep = workdir / "deep.json"
    deep.write_text(_deep_plan(1000))
    deep_run: Runs = repeat([*PGCRISIS, "explain", str(deep), "--format", "json"],
                            workdir / "deep-analysis.json", 1)
    proc = subprocess.run([JQ, "-c", ".", str(deep)], capture_output=True, text=True, check=False)
    print("\n1,000-level-deep plan:")
    row("explain (analysis)", deep_run)
    jq_says = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "ok"
    print(f"  jq -c . exit {proc.returncode}: {jq_says}")
    for item in (deep, workdir / "deep-analysis.json"):
        item.unlink(missing_ok=True)


def _compare_trees(args: argparse.Namespace, workdir: Path, inputs: Inputs) -> None:
    """The analysis of every layout by two source trees, interleaved (``_two_trees``)."""
    from _two_trees import compare

    files = dict(inputs.layouts)
    if "text" in args.layouts.split(","):
        files["text"] = inputs.text_plan
    small = workdir / "small.json"  # under the strict parser's limit (4 MiB)
    build(small, (4 << 20) - (256 << 10), inputs.scan_plan, inputs.join_plan)
    files["small"] = small
    try:
        compare(files, args.baseline_src, args.current_src, max(1, args.repeat))
    finally:
        if not args.keep:
            small.unlink(missing_ok=True)


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
