"""Benchmark: a year of daily rollups for one server, on disk and read back.

365 days of one recording with 3 databases x 200 tables x 20 sequences (every table and
sequence moving every day: the worst case, a row each a day) written through the store's own
rollup writer into a SQLite store; the rollups' bytes are the store's size less the same
store without rollups (the baseline: one recording, no day rolled up), and ``Store.history``
of the whole year is timed on a freshly opened store, median of ``--runs`` [min-max].

    uv run python bench/rollups.py [--days 365] [--databases 3] [--tables 200]
                                   [--sequences 20] [--runs 5] [--keep DIR]

The issue's target: a year of one server under 10 MiB.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from pgcrisis.capacity.rollup_step import Counts, Day
from pgcrisis.store import open_store
from pgcrisis.store._rollups import write_day
from pgcrisis.store._sqlite import SqliteStore

MIB = 1024 * 1024
FIRST = date(2025, 1, 1)


def store_bytes(path: Path) -> int:
    """The store's bytes on disk, its WAL checkpointed into it."""
    import sqlite3
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.stat().st_size


def day(number: int, i: int, dbs: int, tables: int, sequences: int) -> Day:
    """Day ``i`` of the year: every figure moving."""
    d = Day(number, 86_400, 86_400.0, wal_bytes=5_000_000_000 + i, commits=9_000_000 + i,
            rollbacks=1_000 + i, connections=Counter({40 + k: 4_000 for k in range(21)}),
            active=Counter(dict.fromkeys(range(21), 4000)), max_connections=300,
            cpu_seconds=40_000.5 + i, io_seconds=9_000.25, lock_seconds=120.0 + i,
            xid_age=150_000_000 + 100_000 * i, freeze_max_age=200_000_000,
            seized_minutes=i % 3)
    for db in range(dbs):
        name = f"db{db}"
        d.databases[name] = Counts(10_000_000_000 + i * 10_000_000, 3_000_000 + i, 900_000,
                                   40_000)
        for t in range(tables):
            d.tables[(name, f"public.table_{t:03}")] = Counts(
                (t + 1) * 1_000_000 + i * 8192, 15_000 + t + i, 4_500 + t, 200 + i % 7)
        for s in range(sequences):
            d.sequences[(name, f"public.table_{s:03}_id_seq")] = (
                1_000_000 + (s + 1) * 5_000 * i, 2**31 - 1)
    return d


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--databases", type=int, default=3)
    ap.add_argument("--tables", type=int, default=200)
    ap.add_argument("--sequences", type=int, default=20)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep", type=Path, help="keep the store in this folder")
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="pgcrisis-rollups-"))
    path = folder / "year.db"
    path.unlink(missing_ok=True)
    st = open_store(str(path), create=True)
    assert isinstance(st, SqliteStore)
    writer = st.writer("server", source="bench")
    baseline = store_bytes(path)
    first = (FIRST - date(1970, 1, 1)).days
    started = time.perf_counter()
    for i in range(args.days):
        with writer.db.write():
            write_day(writer.db, writer.rec, writer.rollups.names,
                      day(first + i, i, args.databases, args.tables, args.sequences),
                      whole=True)
    wrote = time.perf_counter() - started
    writer.close()
    st.close()
    size = store_bytes(path)
    reads: list[float] = []
    for _ in range(args.runs):
        st = open_store(str(path), create=False)
        started = time.perf_counter()
        h = st.history("server", FIRST, FIRST + timedelta(days=args.days - 1))
        reads.append(time.perf_counter() - started)
        st.close()
    assert len(h.server) == args.days
    rows = args.days * args.databases * (args.tables + args.sequences + 1)
    print(f"a year of rollups: {args.days} days, {args.databases} databases x {args.tables} "
          f"tables x {args.sequences} sequences ({rows:,} rows; written in {wrote:.1f} s)")
    print(f"  store without rollups (baseline)   {baseline / MIB:8.2f} MiB")
    print(f"  store with the year's rollups      {size / MIB:8.2f} MiB")
    print(f"  the rollups                        {(size - baseline) / MIB:8.2f} MiB   "
          f"(target < 10 MiB: {'met' if size - baseline < 10 * MIB else 'MISSED'})")
    print(f"Store.history for the year (cold store, median of {args.runs}): "
          f"{statistics.median(reads) * 1000:8.1f} ms   "
          f"[{min(reads) * 1000:.1f}-{max(reads) * 1000:.1f}]   "
          f"({len(h.tables):,} table days, {len(h.sequences):,} sequence days)")
    print(f"store: {path}" if args.keep else "", end="" if not args.keep else "\n")
    if not args.keep:
        path.unlink()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
