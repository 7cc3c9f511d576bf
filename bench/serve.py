"""Benchmark: the timeline's data (``/api/timeline``, every chart reduced to 1,200 pixel
columns) for the whole of a synthetic 14-day store, beside the same for its last hour (the
baseline); the target is under 300 ms for each (median of several requests, and the spread).

The store is ``tests/record_synthetic.py``'s busy server (as ``bench/record_store.py``),
written a frame a minute for 14 days and the last ``--detail-hours`` in full detail; the
per-minute series is derived as it is written (the recorder's own writer).

    uv run python bench/serve.py [--days 14] [--detail-hours 1] [--runs 7] [--keep DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' synthetic load

from starlette.testclient import TestClient
from tests.record_synthetic import Load, write

from pgcrisis.serve.app import create_app
from pgcrisis.store._sqlite import SqliteStore

START = datetime(2025, 2, 1, tzinfo=UTC)
TARGET_MS = 300.0
NAME = "shop@db:5432"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=float, default=14)
    ap.add_argument("--detail-hours", type=float, default=1)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--keep", type=Path, default=None)
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="pgcrisis-bench-serve-"))
    path = folder / "serve.sqlite"
    if not path.exists():
        t0 = time.perf_counter()
        store = SqliteStore(path, create=True)
        writer = store.writer(NAME, source="bench")
        frames = write(writer, Load(START), days=args.days, detail_hours=args.detail_hours)
        writer.close()
        store.close()
        print(f"wrote {len(frames):,} frames in {time.perf_counter() - t0:.0f} s -> {path}")
    store = SqliteStore(path, create=False)
    end = START + timedelta(days=args.days)
    ranges = {"1 hour": (end - timedelta(hours=1), end),
              f"{args.days:g} days": (START, end)}
    with TestClient(create_app(store, NAME)) as client:
        for label, (a, b) in ranges.items():
            params = {"from": a.isoformat(), "to": b.isoformat(), "width": "1200"}
            client.get("/api/timeline", params=params).raise_for_status()  # warm
            times = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                r = client.get("/api/timeline", params=params)
                times.append((time.perf_counter() - t0) * 1000)
                r.raise_for_status()
            med = statistics.median(times)
            print(f"timeline, {label:>8}: median {med:6.1f} ms, min {min(times):6.1f}, "
                  f"max {max(times):6.1f} ({r.json()['minutes']:,} minutes) "
                  f"{'OK' if med < TARGET_MS else 'OVER'} (target < {TARGET_MS:.0f} ms)")
    store.close()


if __name__ == "__main__":
    main()
