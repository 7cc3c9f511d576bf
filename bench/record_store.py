"""Benchmark: what a recording costs on disk, and how fast ``snapshot_at`` answers in a
14-day store, beside the same lookup in a 1-day store (the baseline).

The load is ``tests/record_synthetic.py``'s busy server: 200 sessions (most short-lived, a
few long-lived, a lock queue every 5 minutes), and every minute 300 tables with indexes and
health, 200 statements, 50 sequences, cron, matviews; a tenth of the counters move.

1. Growth: one hour recorded in full detail (a fast frame a second, a full one a minute);
   bytes per frame, and a day of it extrapolated. A thinned day (what ``maintain`` leaves
   after ``thin_after``: one full frame a minute) is measured on its own.
2. Speed: a store shaped as a recorder with the defaults leaves it after 14 days (12 days
   thinned to a frame a minute, the last 48 hours in detail), and a 1-day store (the last 24
   hours in detail... all of it); ``snapshot_at`` at moments around each one's middle, on a
   freshly opened store (cold caches) and again (warm).

    uv run python bench/record_store.py [--days 14] [--detail-hours 48] [--keep DIR]
                                        [--central [--central-days 3]]

With ``--central``, the same lookups in a central store on an embedded PostgreSQL (a shorter
recording: a central store writes a frame in several round trips).

Figures go to stdout; there is no target, only the baseline beside each figure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' synthetic load

from tests.record_synthetic import Load, frame, write

from pgcrisis.store import Store
from pgcrisis.store._sqlite import SqliteStore

START = datetime(2025, 2, 1, tzinfo=UTC)
#: the commands' environment: bytecode cached as an installed tool has it (a shell with
#: PYTHONDONTWRITEBYTECODE would otherwise time Python compiling pgcrisis on every run)
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def store_bytes(path: Path) -> int:
    """The file's size with its WAL folded in (a TRUNCATE checkpoint first)."""
    import sqlite3
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    return int((pages - free) * size)


def growth(folder: Path, load: Load) -> None:
    path = folder / "hour.db"
    store = SqliteStore(path, create=True)
    empty = store_bytes(path)
    writer = store.writer("shop", source="bench")
    t0 = time.perf_counter()
    for i in range(3600):
        writer.append(frame(load, i, full=i % 60 == 0))
    elapsed = time.perf_counter() - t0
    writer.close()
    hour = store_bytes(path) - empty
    store.close()

    path = folder / "thinned.db"
    store = SqliteStore(path, create=True)
    empty = store_bytes(path)
    writer = store.writer("shop", source="bench")
    for minute in range(240):
        writer.append(frame(load, minute * 60, full=True))
    writer.close()
    thinned = (store_bytes(path) - empty) / 240
    store.close()
    print(f"growth, one hour in detail (3600 frames, 60 of them full): {hour / 1e6:.2f} MB,"
          f" {hour / 3600:,.0f} bytes per frame, written at {elapsed / 3600 * 1000:.2f} ms "
          "per frame")
    print(f"  a day in detail (x24): {hour * 24 / 1e6:.0f} MB;"
          f" a thinned day (1440 full frames at {thinned:,.0f} bytes each):"
          f" {thinned * 1440 / 1e6:.1f} MB")


def build(path: Path, load: Load, days: float, detail_hours: float) -> None:
    if path.exists():  # --keep DIR of an earlier run: measure again without building
        print(f"  {path.name}: kept from an earlier run, {store_bytes(path) / 1e6:.0f} MB")
        return
    store = SqliteStore(path, create=True)
    writer = store.writer("shop", source="bench")
    t0 = time.perf_counter()
    written = write(writer, load, days=days, detail_hours=detail_hours)
    writer.close()
    store.close()
    print(f"  built {path.name}: {days:g} days, {len(written):,} frames, "
          f"{store_bytes(path) / 1e6:.0f} MB in {time.perf_counter() - t0:.0f} s")


def lookups(opener: Callable[[], Store], name: str, middle: datetime) -> tuple[float, float]:
    """Median ms of ``snapshot_at`` at 10 moments around ``middle``: cold (on a store just
    opened) and warm (the same moment again)."""
    cold, warm = [], []
    for k in range(-5, 5):
        when = middle + timedelta(seconds=97 * k)
        store = opener()
        t0 = time.perf_counter()
        snap = store.snapshot_at(name, when)
        cold.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        store.snapshot_at(name, when)
        warm.append(time.perf_counter() - t0)
        assert snap is not None and snap.statements.rows
        store.close()
    return statistics.median(cold) * 1000, statistics.median(warm) * 1000


def cli(path: Path, when: datetime, runs: int = 7,
        fmt: str = "json") -> tuple[float, float, float]:
    """Median, min and max seconds of the whole ``pgcrisis triage --store PATH --at WHEN``
    command (a new process each run: interpreter start, imports, store open, rebuild, checks,
    rendering), at moments a few minutes apart. Exit 0/1/2 are verdicts; anything else fails."""
    took = []
    for k in range(-1, runs):  # run -1 warms the bytecode cache (as any installed tool has)
        at = (when + timedelta(seconds=173 * k)).isoformat()
        argv = [sys.executable, "-m", "pgcrisis", "triage", "--store", str(path),
                "--name", "shop", "--at", at, "--format", fmt]
        t0 = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, check=False, env=ENV)
        took.append(time.perf_counter() - t0)
        if done.returncode not in (0, 1, 2):
            raise SystemExit(f"triage --at {at} exited {done.returncode}: "
                             f"{done.stderr.strip()}")
    took = took[1:]
    return statistics.median(took), min(took), max(took)


def startup(runs: int = 7) -> tuple[float, float, float]:
    """The same figures for ``pgcrisis --version``: what any command pays before it works."""
    took = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pgcrisis", "--version"], capture_output=True,
                       check=True, env=ENV)
        took.append(time.perf_counter() - t0)
    return statistics.median(took), min(took), max(took)


def central(load: Load, days: float) -> None:
    """The same lookups in a central store, on an embedded server (``--central``): a
    ``days``-day recording beside a 1-day one, both with their last hour in detail."""
    import psycopg
    from tests.record_helpers import uri

    from pgcrisis.embedded import EmbeddedServer
    from pgcrisis.store._postgres import PgStore

    with EmbeddedServer() as server:
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            conn.execute("CREATE DATABASE recordings")
        spec = uri(server.dsn_for("recordings"))
        store = PgStore(spec, create=True)
        for name, span in (("1-day", 1.0), (f"{days:g}-day", days)):
            writer = store.writer(name, source="bench")
            t0 = time.perf_counter()
            written = write(writer, load, days=span, detail_hours=1)
            elapsed = time.perf_counter() - t0
            writer.close()
            print(f"  built {name} in the central store: {len(written):,} frames in "
                  f"{elapsed:.0f} s ({elapsed / len(written) * 1000:.1f} ms per frame)")
        with psycopg.connect(spec) as conn:
            row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        print(f"  central store database: {int(row[0]) / 1e6 if row else 0:.0f} MB")
        store.close()
        print("snapshot_at in the central store (median of 10 moments):")
        day = timedelta(days=1)
        for name, middle in (("1-day", START + day / 2),
                             (f"{days:g}-day", START + days * day / 2)):
            cold, warm = lookups(lambda: PgStore(spec, create=False), name, middle)
            print(f"  {name + ' recording, its middle':<36} cold {cold:7.1f} ms   "
                  f"warm {warm:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=float, default=14)
    parser.add_argument("--detail-hours", type=float, default=48)
    parser.add_argument("--keep", type=Path, help="build the stores here and keep them (a "
                        "store already there is measured again, not rebuilt)")
    parser.add_argument("--central", action="store_true",
                        help="also measure a central store on an embedded PostgreSQL")
    parser.add_argument("--central-days", type=float, default=3,
                        help="the central recording's length (days, thinned but the last "
                             "hour; writing it takes a while)")
    parser.add_argument("--only-central", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="pgcrisis-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    load = Load(START)
    if args.only_central:
        central(load, args.central_days)
        return
    growth(folder, load)
    print("stores:")
    long_store, short_store = folder / "14-day.db", folder / "1-day.db"
    build(long_store, load, args.days, args.detail_hours)
    build(short_store, load, 1, 24)
    print("snapshot_at (median of 10 moments):")
    day = timedelta(days=1)
    for label, path, middle in (
            ("1-day store, its middle (baseline)", short_store, START + day / 2),
            (f"{args.days:g}-day store, its middle", long_store, START + args.days * day / 2),
            (f"{args.days:g}-day store, its last day", long_store,
             START + (args.days - 0.5) * day)):
        cold, warm = lookups(lambda path=path: SqliteStore(path, create=False), "shop",
                             middle)
        print(f"  {label:<36} cold {cold:7.1f} ms   warm {warm:7.1f} ms")
    print("pgcrisis triage --store ... --at ... (the whole command, median of 7 runs, "
          "[min-max]; target < 1 s on the 14-day store):")
    figures = (("pgcrisis --version (baseline: start-up)", startup()),
               ("1-day store, its middle", cli(short_store, START + day / 2)),
               (f"{args.days:g}-day store, its middle",
                cli(long_store, START + args.days * day / 2)),
               (f"{args.days:g}-day store, terminal format",
                cli(long_store, START + args.days * day / 2, fmt="terminal")))
    for label, (median, low, high) in figures:
        print(f"  {label:<40} {median:6.2f} s   [{low:.2f}-{high:.2f}]")
    if args.central:
        central(load, args.central_days)
    if args.keep is None:
        for p in folder.iterdir():
            os.unlink(p)
        folder.rmdir()


if __name__ == "__main__":
    main()
