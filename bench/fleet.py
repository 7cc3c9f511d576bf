"""Benchmark: a fleet of recorders writing to one central store, and its fleet page.

Two throwaway clusters with --databases databases each (25: 50 in all) are watched by one
``pgcrisis record`` process per database, every --interval (1 s), for --minutes (10), all
writing to one central PostgreSQL store (a third cluster). A light write load runs on every
database (one small insert per database every 2 s, from one connection per database).
A 51st recorder writes to a store of its own on the third cluster: the baseline fleet page
of one recording.

Then:

1. Every sample landed? Per recording: samples in the store against those its recorder says
   it took (``stopped after N samples``), against the samples the elapsed time asks for
   (from its first to its last sample, one per interval), and the samples it skipped as too
   slow (its ``slow-sample`` events). The recorders' CPU (user + system) beside.
2. The store's growth per recording per day: the central database's bytes before and after,
   over the recordings and the elapsed time, times 86,400.
3. The fleet page (``GET /`` over Starlette's TestClient, the whole page rendered: every
   recording ranked, its worst finding now, its sparkline): median [min-max] of --repeat,
   while the recorders still write and after they stopped; beside it, the same page over the
   one-recording store.

    uv run python bench/fleet.py [--minutes 10] [--databases 25] [--interval 1s] [--repeat 10]

The machine may have 2 cores: 50 recorders at 1 s may not keep up there. Samples missed
are printed, not hidden; there is no target, only the baseline beside each figure.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from pgcrisis.embedded import SUPERUSER, EmbeddedServer
from pgcrisis.store import open_store

SETTINGS = {"max_connections": "300", "shared_buffers": "64MB", "fsync": "off",
            "synchronous_commit": "off"}
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


@dataclass
class Recorder:
    """One ``pgcrisis record`` process: the recording's name, the process, and once it
    ended its CPU seconds, the samples it says it took, and its error output."""

    name: str
    proc: subprocess.Popen[bytes]
    cpu_s: float = 0.0
    said: int | None = None
    stderr: str = ""


def uri(server: EmbeddedServer, dbname: str) -> str:
    return f"postgresql://{SUPERUSER}:{server.password}@127.0.0.1:{server.port}/{dbname}"


def spread(values: list[float], unit: str, digits: int = 1) -> str:
    """``12.3 ms [11.0-15.2]``: the median and the range."""
    return (f"{statistics.median(values):.{digits}f} {unit} "
            f"[{min(values):.{digits}f}-{max(values):.{digits}f}]")


def databases(server: EmbeddedServer, prefix: str, n: int) -> list[str]:
    """``n`` databases with a small table each; their names."""
    names = [f"{prefix}_{i:02d}" for i in range(n)]
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"'.encode())
    for name in names:
        with psycopg.connect(server.dsn_for(name), autocommit=True) as conn:
            conn.execute(b"CREATE TABLE events (id bigserial PRIMARY KEY, at timestamptz "
                         b"DEFAULT now(), body text)")
    return names


@contextmanager
def light_load(dsns: list[str], every_s: float = 2.0) -> Iterator[None]:
    """One small insert per database every ``every_s``, from one thread and one connection
    per database (a light, steady write load; no pgbench process per database)."""
    stop = threading.Event()

    def run() -> None:
        conns = [psycopg.connect(d, autocommit=True) for d in dsns]
        try:
            while not stop.wait(every_s / len(conns)):
                conn = random.choice(conns)
                conn.execute(b"INSERT INTO events (body) VALUES (repeat('x', 64))")
        finally:
            for c in conns:
                c.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(30)


def start_recorder(dsn: str, store: str, name: str, interval: str, minutes: float
                   ) -> Recorder:
    argv = [sys.executable, "-m", "pgcrisis", "record", dsn, "--store", store, "--name", name,
            "--interval", interval, "--duration", f"{round(minutes * 60)}s"]
    return Recorder(name, subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.PIPE, env=ENV))


def finish(rec: Recorder, timeout: float) -> None:
    """Wait for the recorder to end (its --duration), read its CPU time and what it said."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(rec.proc.pid, os.WNOHANG)
        if not pid and time.monotonic() > deadline:
            rec.proc.kill()
            pid, status, usage = os.wait4(rec.proc.pid, 0)
        if pid:
            rec.cpu_s = usage.ru_utime + usage.ru_stime
            rec.proc.returncode = os.waitstatus_to_exitcode(status)
            break
        time.sleep(0.2)
    assert rec.proc.stderr is not None
    rec.stderr = rec.proc.stderr.read().decode("utf-8", "replace")
    for line in rec.stderr.splitlines():
        if "stopped after" in line:
            rec.said = int(line.split("stopped after", 1)[1].split()[0].replace(",", ""))


def stored(store_uri: str) -> dict[str, tuple[int, int, int, int]]:
    """Per recording: samples stored, first and last sample (µs), slow-sample events."""
    with psycopg.connect(store_uri, autocommit=True) as conn:
        conn.execute(b"SET search_path = pgcrisis_record")
        rows = conn.execute(
            b"SELECT r.name, count(f.t), min(f.t), max(f.t), (SELECT count(*) FROM events e "
            b"WHERE e.rec = r.id AND e.kind = 'slow-sample') FROM recordings r "
            b"LEFT JOIN frames f ON f.rec = r.id GROUP BY r.id, r.name").fetchall()
    return {r[0]: (int(r[1]), int(r[2] or 0), int(r[3] or 0), int(r[4])) for r in rows}


def database_bytes(store_uri: str) -> int:
    with psycopg.connect(store_uri, autocommit=True) as conn:
        row = conn.execute(b"SELECT pg_database_size(current_database())").fetchone()
    assert row is not None
    return int(row[0])


def time_page(store_uri: str, repeat: int) -> tuple[list[float], int]:
    """``GET /`` of the fleet's page ``repeat`` times (ms each), and the rows it listed."""
    from starlette.testclient import TestClient

    from pgcrisis.serve.fleet import create_fleet_app

    store = open_store(store_uri, create=False)
    times = []
    try:
        with TestClient(create_fleet_app(store)) as client:
            client.get("/")  # the templates compiled, the connection warm
            for _ in range(repeat):
                started = time.perf_counter()
                page = client.get("/")
                times.append((time.perf_counter() - started) * 1000)
                assert page.status_code == 200, page.text[:200]
            rows = page.text.count('<tr class="pick')
    finally:
        store.close()
    return times, rows


def landed(recorders: list[Recorder], rows: dict[str, tuple[int, int, int, int]],
           interval_s: float) -> None:
    """Print what landed against what each recorder said and what the time asked for."""
    stored_n = expected = said = slow = missing_rec = 0
    worst: tuple[int, str] = (0, "")
    for rec in recorders:
        n, first, last, skipped = rows.get(rec.name, (0, 0, 0, 0))
        want = round((last - first) / 1e6 / interval_s) + 1 if n else 0
        stored_n, expected, slow = stored_n + n, expected + want, slow + skipped
        said += rec.said or 0
        if rec.said is None:
            missing_rec += 1
        worst = max(worst, (want - n, rec.name))
    print(f"samples: {stored_n:,} stored; the recorders said {said:,}"
          f"{f' ({missing_rec} said nothing)' if missing_rec else ''}; the time asked for "
          f"{expected:,} (each recording's first to last sample, one per interval)")
    print(f"  lost between recorder and store: {said - stored_n:,}; not taken (late or "
          f"skipped): {expected - stored_n:,} ({(expected - stored_n) / max(1, expected):.1%})"
          f", {slow:,} slow-sample events; most behind: {worst[1]} ({worst[0]} samples)")
    cpu = [r.cpu_s for r in recorders]
    print(f"recorder CPU: {spread(cpu, 's', 1)} per recorder; {sum(cpu):.0f} s in all")


def run(args: argparse.Namespace, work: Path) -> None:
    interval_s = float(args.interval.rstrip("s"))
    with ExitStack() as stack:
        servers = [stack.enter_context(EmbeddedServer(directory=work / f"c{i}",
                                                      settings=SETTINGS)) for i in range(3)]
        watched, central = servers[:2], servers[2]
        print(f"{central.description}; {len(watched)} watched clusters x {args.databases} "
              f"databases, a recorder each every {args.interval} for {args.minutes} min; "
              f"{os.cpu_count()} CPUs")
        with psycopg.connect(central.dsn, autocommit=True) as conn:
            conn.execute(b'CREATE DATABASE "fleet"')
            conn.execute(b'CREATE DATABASE "one"')
        fleet_uri, one_uri = uri(central, "fleet"), uri(central, "one")
        for spec in (fleet_uri, one_uri):
            open_store(spec, create=True).close()
        before = database_bytes(fleet_uri)
        dsns = {f"c{i}-{name}": s.dsn_for(name) for i, s in enumerate(watched)
                for name in databases(s, f"db{i}", args.databases)}
        stack.enter_context(light_load(list(dsns.values())))
        started = time.monotonic()
        recorders = [start_recorder(dsn, fleet_uri, name, args.interval, args.minutes)
                     for name, dsn in dsns.items()]
        first = next(iter(dsns.values()))
        baseline = start_recorder(first, one_uri, "one", args.interval, args.minutes)
        while time.monotonic() - started < args.minutes * 60 - 40:
            time.sleep(5)
        live, live_rows = time_page(fleet_uri, args.repeat)
        live_one, _ = time_page(one_uri, args.repeat)
        for rec in [*recorders, baseline]:
            finish(rec, args.minutes * 60 + 120)
        elapsed = time.monotonic() - started
        failed = [r for r in recorders if r.proc.returncode not in (0, None)]
        for r in failed[:3]:
            print(f"recorder {r.name} exited {r.proc.returncode}: {r.stderr.strip()[-300:]}")
        rows_stored = stored(fleet_uri)
        landed(recorders, rows_stored, interval_s)
        grown = database_bytes(fleet_uri) - before
        # the time the samples cover (each recording's first to last), not the start-up
        spans = [(last - first) / 1e6 + interval_s for n, first, last, _ in rows_stored.values()
                 if n]
        span = statistics.mean(spans) if spans else elapsed
        per_day = grown / len(recorders) / span * 86_400
        print(f"store growth: {grown / 2**20:.1f} MiB for {len(recorders)} recordings of "
              f"{span:.0f} s each ({elapsed:.0f} s in all): {per_day / 2**20:.1f} MiB per "
              f"recording per day at this interval, before thinning (a short run overstates "
              f"it: what is stored once, texts and names, is counted as growth)")
        after, rows = time_page(fleet_uri, args.repeat)
        one, _ = time_page(one_uri, args.repeat)
        print(f"fleet page, {live_rows} recordings, recorders writing: {spread(live, 'ms')}; "
              f"baseline 1 recording: {spread(live_one, 'ms')}")
        print(f"fleet page, {rows} recordings, recorders stopped: {spread(after, 'ms')}; "
              f"baseline 1 recording: {spread(one, 'ms')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--databases", type=int, default=25, help="per watched cluster")
    parser.add_argument("--interval", default="1s")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--keep", type=Path, default=None, help="keep the clusters here")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        run(args, args.keep)
        return
    with tempfile.TemporaryDirectory(prefix="pgcrisis-fleet-") as work:
        Path(work).chmod(0o755)  # the server's user (never root) enters it
        run(args, Path(work))


if __name__ == "__main__":
    main()
