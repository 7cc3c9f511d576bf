"""Benchmark: reading a big PostgreSQL log with pgcrisis, beside pgBadger on the same file.

    uv run python bench/logs.py [--size 1G] [--runs 3] [--cache ~/.cache/pgcrisis-bench]
    uv run python bench/logs.py --size 50M --runs 1        # a quick try

1. A real log: the log lab (``tests/loglab``) starts a server that logs everything
   (connections, slow statements with auto_explain plans, temp files, checkpoints, lock
   waits, a deadlock, refusals, timeouts, a crash) with a prefix pgBadger parses
   (:data:`PREFIX`), and makes each event happen once; its stderr and csvlog files are kept
   in the cache.
2. A log of ``--size`` from it: the real lines repeated, each copy's times shifted past the
   previous copy's and its pids moved, so sessions do not collide (cached by size).
3. ``pgbadger -j 1`` (one job: pgcrisis reads with one process) with JSON output, and
   ``pgcrisis logs FILE --format json`` (until that command exists: the reader's API driven by
   ``python -c``; until the reader exists, that side is skipped, said), ``--runs`` times each,
   alternating, on the same file in the same run: wall time median [min-max], CPU, peak RSS
   (GNU time's, else wait4's), MB/s; and both tools' ERROR/FATAL/PANIC counts beside the
   expected ones (the source's csvlog, counted with :mod:`csv`, times the copies). pgBadger
   files some LOG lines (lock waits, the crash, recovery) under ERROR: its own totals are
   printed as ``ERROR+``, the errors that carry a SQLSTATE as ``ERROR``. ``pgcrisis logs``
   exits 2 when it has findings (the lab's log has: a crash, a deadlock...).

Target (issue 21): pgcrisis at least as fast as pgBadger, under 100 MiB. Prints figures only.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from _runs import Runs, repeat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.loglab: test-only code
from tests.loglab import make_lab
from tests.loglab.counts import csv_counts
from tests.loglab.server import PhasePlan

#: a prefix pgBadger's documentation gives, with the SQLSTATE (pgBadger reads %e)
PREFIX = "%t [%p]: user=%u,db=%d,app=%a,client=%h %e "
LINE = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC \[(\d+)\]: ")
ERRORS = ("ERROR", "FATAL", "PANIC")
PGCRISIS = [sys.executable, "-m", "pgcrisis"]
READER = ("import json, sys; from pgcrisis.logs.read import LogReader; r = LogReader(sys.argv[1:]);"
          " n = sum(1 for _ in r); print(json.dumps({'records': n, "
          "'severities': dict(r.stats.severities), 'unread': r.stats.unread.count}))")


def size(text: str) -> int:
    """``1G``, ``50M``, ``800K`` or bytes."""
    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    return int(float(text[:-1]) * units[text[-1].upper()]) if text[-1].isalpha() else int(text)


def source(cache: Path) -> Path:
    """The lab's real log (made once, kept in the cache)."""
    home = cache / "source"
    if not (home / "logs" / "bench.log").exists():
        shutil.rmtree(home, ignore_errors=True)
        print("making a real log (the lab's server, every event once)...", flush=True)
        make_lab(home, phases=(PhasePlan("bench", PREFIX, full=True),))
    return home / "logs" / "bench.log"


def copies(lines: list[str]) -> Iterator[tuple[int, str]]:
    """``(copy, text)``: the real lines again and again, each copy later than the last (by the
    source's span) and with its pids moved (by a prime, within Linux's pid range)."""
    parsed = [(LINE.match(line), line) for line in lines]
    first = next(datetime.fromisoformat(m[1]) for m, _ in parsed if m)
    last = [datetime.fromisoformat(m[1]) for m, _ in parsed if m][-1]
    span = last - first + timedelta(seconds=1)
    stamps: dict[tuple[str, int], str] = {}
    number = 0
    while True:
        out = []
        for found, line in parsed:
            if found is None:
                out.append(line)
                continue
            key = (found[1], number)
            if key not in stamps:
                shifted = datetime.fromisoformat(found[1]) + span * number
                stamps[key] = f"{shifted:%Y-%m-%d %H:%M:%S}"
            pid = 1000 + (int(found[2]) + number * 7919) % 4_000_000
            out.append(f"{stamps[key]} UTC [{pid}]: {line[found.end():]}")
        yield number, "\n".join(out) + "\n"
        stamps.clear()
        number += 1


def build(cache: Path, real: Path, wanted: int) -> tuple[Path, int]:
    """The big log (cached by size) and how many copies of the real one it holds."""
    path = cache / f"logs-{wanted}.log"
    lines = real.read_text(encoding="utf-8").splitlines()
    per_copy = len(("\n".join(lines) + "\n").encode())
    count = -(-wanted // per_copy)
    if path.exists() and path.stat().st_size >= wanted:
        return path, count
    print(f"building {wanted / 2**20:.0f} MiB from {len(lines)} real lines "
          f"({count} copies)...", flush=True)
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8") as fh:
        for number, text in copies(lines):
            if number == count:
                break
            fh.write(text)
    partial.replace(path)
    return path, count


def error_counts(document: Any) -> dict[str, int]:
    """ERROR/FATAL/PANIC counts found in a tool's JSON: the first object holding them."""
    if isinstance(document, dict):
        if any(isinstance(document.get(k), int) for k in ERRORS):
            return {k: int(document.get(k, 0)) for k in ERRORS}
        for value in document.values():
            found = error_counts(value)
            if found:
                return found
    elif isinstance(document, list):
        for value in document:
            found = error_counts(value)
            if found:
                return found
    return {}


def badger_errors(report: Path) -> dict[str, int]:
    """pgBadger's counts per level: its ``error_info`` entries (keyed by the normalised
    message, which starts with the level) summed by that level. pgBadger files some LOG
    messages (lock waits, a crash, recovery) as errors: those, with SQLSTATE 00000, are
    counted apart (``ERROR+``: pgBadger's own total)."""
    document = json.loads(report.read_text())
    counts: Counter[str] = Counter()
    for per_db in document.get("error_info", {}).values():
        for key, info in per_db.items():
            level = key.split(":", 1)[0]
            states = [state for state in info.get("sqlstate", []) if state]
            counts[f"{level}+"] += int(info.get("count", 0))
            if not states or states[0] != "00000":
                counts[level] += int(info.get("count", 0))
    return {level: counts[level] for level in (*ERRORS, *(f"{e}+" for e in ERRORS))}


def pgcrisis_side(probe: Path) -> tuple[list[str], str]:
    """The pgcrisis command to time, and what it is; ``[]`` and why when there is none yet."""
    helped = subprocess.run([*PGCRISIS, "logs", "--help"], capture_output=True, check=False)
    if helped.returncode == 0:
        return [*PGCRISIS, "logs", "{file}", "--format", "json"], "pgcrisis logs --format json"
    tried = subprocess.run([sys.executable, "-c", READER, str(probe)], capture_output=True,
                           text=True, check=False)
    if tried.returncode == 0:
        return [sys.executable, "-c", READER, "{file}"], "LogReader (no `logs` command yet)"
    why = tried.stderr.strip().splitlines()[-1:] or ["?"]
    return [], f"no `pgcrisis logs` command, and the reader fails: {why[0]}"


def show(name: str, runs: Runs, size_bytes: int, errors: dict[str, int]) -> None:
    """One tool's line: wall median [min-max], CPU, peak RSS, MB/s, exit, its error counts."""
    rate = size_bytes / 2**20 / runs.wall
    print(f"  {name:<34} {runs.wall:7.2f} s [{runs.spread()}]  CPU {runs.cpu:7.2f} s  "
          f"peak {runs.peak / 2**20:6.1f} MiB  {rate:6.1f} MiB/s  exit {runs.status}")
    print(f"  {'':<34} " + "  ".join(f"{k} {v}" for k, v in errors.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="1G", help="size of the log (1G, 50M...)")
    parser.add_argument("--runs", type=int, default=3, help="runs per tool (median)")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "pgcrisis-bench",
                        help="where the real log and the big one are kept")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    real = source(args.cache)
    path, count = build(args.cache, real, size(args.size))
    expected = csv_counts(real.with_suffix(".csv"))
    print(f"log: {path} ({path.stat().st_size / 2**20:.0f} MiB, {count} copies of "
          f"{real.name}), prefix {PREFIX!r}")
    print("  expected (csvlog counted with csv, times the copies): " + "  ".join(
        f"{k} {expected.severities[k] * count}" for k in ERRORS))
    badger = shutil.which("pgbadger")
    command, what = pgcrisis_side(real)
    out = Path(tempfile.mkdtemp(prefix="pgcrisis-bench-logs-"))
    try:
        measured: dict[str, list[Runs]] = {"pgbadger": [], "pgcrisis": []}
        for _ in range(args.runs):  # alternating, so both see the same load
            if badger:
                measured["pgbadger"].append(repeat(
                    [badger, "-j", "1", "-f", "stderr", "--prefix", PREFIX, "-q",
                     "-o", str(out / "badger.json"), str(path)], None, 1))
            if command:
                measured["pgcrisis"].append(repeat(
                    [part.replace("{file}", str(path)) for part in command],
                    out / "pgcrisis.json", 1))
        print(f"{args.runs} runs each, one process, same file:")
        if badger:
            show("pgbadger -j 1 (JSON report)", merged(measured["pgbadger"]),
                 path.stat().st_size, badger_errors(out / "badger.json"))
        else:
            print("  pgbadger: not installed (apt-get install -y pgbadger)")
        if command:
            document = json.loads((out / "pgcrisis.json").read_text() or "{}")
            show(what, merged(measured["pgcrisis"]), path.stat().st_size,
                 error_counts(document))
        else:
            print(f"  pgcrisis: skipped: {what}")
    finally:
        shutil.rmtree(out, ignore_errors=True)


def merged(runs: list[Runs]) -> Runs:
    """Single runs taken in turns, as one series."""
    return Runs(tuple(run for series in runs for run in series.runs))


if __name__ == "__main__":
    main()
