"""Two source trees of pgcrisis timing the analysis of the same plan files, interleaved.

A change that reshapes the plan reader must show it loses nothing; on a shared machine
whose load moves from minute to minute, only figures taken in the same run, one tree right
after the other on the same file, compare. Each run is a fresh process whose ``PYTHONPATH``
puts one tree's ``src`` first (it wins over the installed package), that times
``analyse(open_input(FILE))`` alone (imports left out) and renders the JSON report, whose
digest must be the same for both trees: the same bytes in, the same analysis out.

The order alternates from one repeat to the next (before, after; after, before), so a
trend in the machine's load falls on both alike.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

#: run in each tree: wall seconds of the analysis, CPU seconds of it (this process's and
#: the reader child's, when a big plan is read on two cores), the module's path, a digest
_DRIVER = r"""
import hashlib, json, resource, sys, time
import pgcrisis.plan
from pgcrisis.plan import analyse, open_input
from pgcrisis.presentation import explain_json
def cpu(who):
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime
cpu_before = cpu(resource.RUSAGE_SELF)
started = time.perf_counter()
source = open_input(sys.argv[1])
analysis = analyse(source)
wall = time.perf_counter() - started
spent = cpu(resource.RUSAGE_SELF) - cpu_before + cpu(resource.RUSAGE_CHILDREN)
source.close()
digest = hashlib.sha256(explain_json.render(analysis).encode()).hexdigest()
print(json.dumps({"wall": wall, "cpu": spent, "module": pgcrisis.plan.__file__,
                  "digest": digest, "nodes": analysis.summary.nodes}))
"""


@dataclass
class Timings:
    """One tree's runs on one file."""

    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    digests: set[str] = field(default_factory=set)
    nodes: int = 0

    def wall(self) -> str:
        """Median wall seconds with the spread, ``1.23 s [1.20-1.31]``."""
        return (f"{statistics.median(self.walls):6.2f} s "
                f"[{min(self.walls):.2f}-{max(self.walls):.2f}]")

    def cpu(self) -> str:
        """Median CPU seconds with the spread."""
        return (f"{statistics.median(self.cpus):6.2f} s "
                f"[{min(self.cpus):.2f}-{max(self.cpus):.2f}]")


def _run(src: Path, path: Path) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run([sys.executable, "-c", _DRIVER, str(path)], env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{src}: the analysis of {path} failed:\n{done.stderr}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    module = Path(str(result["module"])).resolve()
    if not module.is_relative_to(src.resolve()):
        raise SystemExit(f"{src}: the run imported {module}, not this tree")
    return result


def compare(files: dict[str, Path], baseline: Path, current: Path, repeat: int) -> None:
    """Time each file's analysis ``repeat`` times in both trees, interleaved; print each
    tree's median wall and CPU time with their spread, and after/before of the medians."""
    trees = {"before": baseline, "after": current}
    timings = {(name, tree): Timings() for name in files for tree in trees}
    print(f"before = {baseline}\nafter  = {current}\n{repeat} runs each, interleaved "
          f"(before/after, then after/before); load average at start "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for index in range(repeat):
        order = ("before", "after") if index % 2 == 0 else ("after", "before")
        for name, path in files.items():
            for tree in order:
                result = _run(trees[tree], path)
                entry = timings[name, tree]
                entry.walls.append(float(str(result["wall"])))
                entry.cpus.append(float(str(result["cpu"])))
                entry.digests.add(str(result["digest"]))
                entry.nodes = int(str(result["nodes"]))
        print(f"  repeat {index + 1} of {repeat} done")
    print(f"\n{'layout':<10} {'size':>9} {'tree':<7} {'wall: median [min-max]':<26} "
          f"{'CPU: median [min-max]':<26}")
    for name, path in files.items():
        before, after = timings[name, "before"], timings[name, "after"]
        size = f"{path.stat().st_size / 2**20:,.0f} MiB"
        for tree, entry in (("before", before), ("after", after)):
            print(f"{name:<10} {size:>9} {tree:<7} {entry.wall():<26} {entry.cpu():<26}")
        wall_ratio = statistics.median(after.walls) / statistics.median(before.walls)
        cpu_ratio = statistics.median(after.cpus) / statistics.median(before.cpus)
        same = len(before.digests | after.digests) == 1
        print(f"{'':<10} {'':>9} {'after/before':<12} wall {wall_ratio:.3f}, CPU "
              f"{cpu_ratio:.3f}; {before.nodes:,} nodes; the same report from both: {same}")
