"""The recorder of two source trees on the same busy server, interleaved: what one sample
costs the recorder's process and its server backend (CPU per sample), and what it adds to
the store (bytes per sample).

A change that reshapes the recorder's hot path must show it loses nothing, and on a shared
machine whose load moves from minute to minute only figures taken in the same run compare.
Each run is a fresh ``pgcrisis record`` process whose ``PYTHONPATH`` puts one tree's ``src``
first (it wins over the installed package; the run is refused if another tree answers),
recording into a fresh SQLite store while pgbench keeps the server busy. A run is measured
from its first stored frame (imports and the store's creation left out) to its end, so it
covers the fast samples and the minute's full one; CPU is the process's own (every thread)
and its backend's, from ``/proc``. What a sample adds to the store is counted two ways: the
file's growth (after a passive checkpoint; it grows by whole 4 KiB pages, so a minute's run
sees a few), and the bytes of the rows written (the content's bodies, the frames' and the
changes' columns), exact. The order alternates from one repeat to the next
(before, after; after, before) so a trend in the machine's load falls on both alike.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from _proc import cpu_seconds


@dataclass
class Figures:
    """One tree's runs: per-sample CPU of the recorder and of its backend (ms), and store
    bytes per sample."""

    recorder_ms: list[float] = field(default_factory=list)
    backend_ms: list[float] = field(default_factory=list)
    bytes_per: list[float] = field(default_factory=list)
    rows_per: list[float] = field(default_factory=list)
    frames: list[int] = field(default_factory=list)

    @staticmethod
    def spread(values: list[float], unit: str, digits: int = 2) -> str:
        """``median [min-max] unit``."""
        return (f"{statistics.median(values):.{digits}f} [{min(values):.{digits}f}-"
                f"{max(values):.{digits}f}] {unit}")


def _frames(store: Path) -> int:
    """Frames stored so far (0 while the recorder is still creating the file)."""
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=10) as conn:
            return int(conn.execute("SELECT count(*) FROM frames").fetchone()[0])
    except sqlite3.Error:
        return 0


#: the bytes of what the stores' rows hold (an integer column counts 8)
_ROW_BYTES = """
SELECT (SELECT coalesce(sum(length(body)) + 24 * count(*), 0) FROM content)
     + (SELECT coalesce(sum(coalesce(length(unavailable), 0) + coalesce(length(refs), 0))
                        + 48 * count(*), 0) FROM frames)
     + (SELECT 32 * count(*) FROM changes)
"""


def _row_bytes(store: Path) -> int:
    """The bytes the recording's rows hold (content, frames, changes)."""
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=10) as conn:
        return int(conn.execute(_ROW_BYTES).fetchone()[0])


def _size(store: Path) -> int:
    """The store's size once its WAL is copied in (the WAL file is reused, not growth)."""
    with sqlite3.connect(store, timeout=10) as conn:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    return store.stat().st_size


def _await(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"the bench waited in vain for {what}")
        time.sleep(0.1)


def check_tree(src: Path) -> None:
    """Refuse a tree whose ``src`` does not answer ``import pgcrisis``."""
    found = subprocess.run(
        [sys.executable, "-c", "import pgcrisis; print(pgcrisis.__file__)"],
        env={**os.environ, "PYTHONPATH": str(src)}, capture_output=True, text=True,
        check=True).stdout.strip()
    if not Path(found).resolve().is_relative_to(src.resolve()):
        raise SystemExit(f"{src}: `import pgcrisis` found {found}, not this tree")


def one_run(src: Path, dsn: str, store: Path, seconds: float,
            backend_of: Callable[[str], int | None],
            ) -> tuple[float, float, float, float, int]:
    """The recorder of tree ``src`` for ``seconds`` from its first frame: (recorder ms per
    sample, backend ms per sample, file bytes per sample, row bytes per sample, samples)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pgcrisis", "record", dsn, "--store", str(store),
         "--interval", "1s", "--name", "bench"],
        env={**os.environ, "PYTHONPATH": str(src)}, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _await(lambda: _frames(store) >= 1, "the first frame")
        backend = backend_of(dsn)
        if backend is None:
            raise SystemExit("the recorder's backend was not found")
        frames0, size0, rows0 = _frames(store), _size(store), _row_bytes(store)
        cpu0, back0 = cpu_seconds(proc.pid), cpu_seconds(backend)
        time.sleep(seconds)  # the measured stretch itself, not a wait for a condition
        cpu1, back1 = cpu_seconds(proc.pid), cpu_seconds(backend)
        frames1, size1, rows1 = _frames(store), _size(store), _row_bytes(store)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    samples = frames1 - frames0
    return ((cpu1 - cpu0) * 1000 / samples, (back1 - back0) * 1000 / samples,
            (size1 - size0) / samples, (rows1 - rows0) / samples, samples)


def compare(dsn: str, work: Path, trees: dict[str, Path], repeat: int, seconds: float,
            backend_of: Callable[[str], int | None]) -> dict[str, Figures]:
    """Every tree ``repeat`` times, interleaved, each into a fresh store under ``work``."""
    for src in trees.values():
        check_tree(src)
    figures = {name: Figures() for name in trees}
    names = list(trees)
    for i in range(repeat):
        for name in (names if i % 2 == 0 else names[::-1]):
            store = work / f"{name}-{i}.sqlite"
            rec, back, size, rows, samples = one_run(trees[name], dsn, store, seconds,
                                                     backend_of)
            f = figures[name]
            f.recorder_ms.append(rec)
            f.backend_ms.append(back)
            f.bytes_per.append(size)
            f.rows_per.append(rows)
            f.frames.append(samples)
            print(f"  repeat {i + 1}, {name}: {rec:.2f} ms + {back:.2f} ms (backend) of CPU, "
                  f"{rows:,.0f} B of rows ({size:,.0f} B of file) per sample over {samples} "
                  "samples", flush=True)
    return figures


def report(figures: dict[str, Figures], trees: dict[str, Path]) -> None:
    """Each tree's medians and spread, then after/before of the medians."""
    for name, src in trees.items():
        print(f"{name:<7} = {src}")
    print(f"\n{'tree':<7} {'recorder CPU / sample':<26} {'backend CPU / sample':<26} "
          f"{'rows stored / sample':<24} {'file growth / sample':<24}")
    for name, f in figures.items():
        print(f"{name:<7} {f.spread(f.recorder_ms, 'ms'):<26} "
              f"{f.spread(f.backend_ms, 'ms'):<26} {f.spread(f.rows_per, 'B', 0):<24} "
              f"{f.spread(f.bytes_per, 'B', 0):<24}")
    if {"before", "after"} <= set(figures):
        a, b = figures["after"], figures["before"]
        ratio = [statistics.median(getattr(a, k)) / statistics.median(getattr(b, k))
                 for k in ("recorder_ms", "backend_ms", "rows_per")]
        print(f"after/before (medians): recorder CPU {ratio[0]:.3f}, backend CPU "
              f"{ratio[1]:.3f}, rows stored {ratio[2]:.3f}")
