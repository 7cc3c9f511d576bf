"""Measured runs of a command: wall and CPU time, peak memory, and the summed memory of
every process it runs at once; medians and spread over repeats.

Used by ``bench/explain.py``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

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


def row(name: str, run: Runs, jq: Runs | None = None) -> None:
    """One measured command's line: wall [spread], CPU, peak memory, exit, speed-up over jq."""
    versus = ""
    if jq is not None and run.status == 0:
        versus = (f"   {jq.wall / run.wall:4.1f}x jq (wall), "
                  f"{jq.cpu / max(run.cpu, 1e-9):4.1f}x (CPU)")
    print(f"  {name:<24} {run.wall:7.2f} s wall [{run.spread()}] {run.cpu:7.2f} s CPU  "
          f"peak {run.peak / 2**20:7.1f} MiB  exit {run.status}{versus}")
    if run.processes > 1:
        print(f"  {'':<24} {run.processes} processes at once: {run.together / 2**20:.1f} MiB "
              f"together at the peak (summed PSS, sampled every 50 ms)")
