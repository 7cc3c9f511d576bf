"""The samplers ``bench/top.py`` times, each in a process of its own: the real ``pgcrisis top``
sampling (:class:`~pgcrisis.top.live.sampling.LiveSource` at 1 s), pg_activity's refresh
(:data:`PGA_DRIVER`, run by pg_activity's own interpreter), and the bare
``SELECT * FROM pg_stat_activity`` reference.

They speak one protocol on stdin/stdout: a JSON line ``{"ready": ...}`` once connected, then
(after a line on stdin) ``{"marks": [(wall, cpu), ...], "took": [...], "sessions": n}`` once
the refreshes are done, then they wait for a last line and stop.

    python bench/_top_samplers.py pgcrisis|floor REFRESHES DSN
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

import psycopg

#: pg_activity's refresh, driven through its own API in its own interpreter (argv: host,
#: port, user, password, dbname, refreshes). Speaks the protocol of the samplers below.
PGA_DRIVER = r"""
import json, sys, time
from pgactivity import __version__, activities
from pgactivity.data import Data

host, port, user, password, dbname, refreshes = sys.argv[1:7]
data = Data.pg_connect(host=host, port=int(port), user=user, password=password,
                       database=dbname)
is_local = data.pg_is_local() and data.pg_is_local_access()
# pg_activity's defaults: no database size, no temporary files, no WAL receiver
flags = dict(using_rds=False, skip_db_size=True, skip_tempfile=True, skip_walreceiver=True)
info = data.pg_get_server_information(None, **flags)
procs = {}

def tick():
    global info
    info = data.pg_get_server_information(info, **flags)
    activities.mem_swap_load()
    if is_local:
        activities.mem_swap_load()
    rows = data.pg_get_activities(1)
    if is_local:
        rows, _, _ = activities.ps_complete(rows, procs, 4096)
    return len(rows)

def say(obj):
    print(json.dumps(obj), flush=True)

next_tick = time.monotonic()
tick()
say({"ready": True, "version": __version__, "local": is_local,
     "backend": data.pg_conn.info.backend_pid})
sys.stdin.readline()
marks = [(time.monotonic(), time.process_time())]
took, seen = [], 0
next_tick = time.monotonic()
for _ in range(int(refreshes)):
    next_tick += 1.0
    time.sleep(max(0.0, next_tick - time.monotonic()))
    began = time.monotonic()
    seen = tick()
    took.append(time.monotonic() - began)
    marks.append((time.monotonic(), time.process_time()))
say({"marks": marks, "took": took, "sessions": seen})
sys.stdin.readline()
"""


def _say(obj: dict[str, Any]) -> None:
    print(json.dumps(obj), flush=True)


def pgcrisis_sampler(dsn: str, refreshes: int) -> None:
    """Run the real LiveSource at 1 s; after its first sample on the thread say "ready" and
    wait for a line, then time ``refreshes`` refreshes, report them, wait for a line, stop.
    The sampler thread waits inside its frame callback, so no query is in flight while the
    coordinator reads the server's counters."""
    from pgcrisis.dsn import Target
    from pgcrisis.record.recorder import RecorderStats
    from pgcrisis.store import Frame
    from pgcrisis.top.live.sampling import LiveSource

    source = LiveSource(Target(dsn, "bench"), interval_s=1.0)
    marks: list[tuple[float, float]] = []
    took: list[float] = []
    done, started = threading.Event(), threading.Event()
    seen: dict[str, int] = {}
    start: dict[str, float] = {}

    def on_frame(frame: Frame, stats: RecorderStats) -> None:
        if threading.current_thread() is threading.main_thread():
            return  # LiveSource.start's first sample (every part), in the caller's thread
        if not marks:
            started.wait()
            _say({"ready": True, **start})
            sys.stdin.readline()
            marks.append((time.monotonic(), time.process_time()))
            return
        marks.append((time.monotonic(), time.process_time()))
        took.append(stats.last_sample_s)
        if len(marks) == refreshes + 1:
            moment = source.latest()
            assert moment is not None
            seen.update(sessions=len(moment.view.sessions), roots=len(moment.view.tree),
                        findings=len(moment.view.findings),
                        behind=sum(n.behind for n in moment.view.tree))
            _say({"marks": marks, "took": took, **seen})
            sys.stdin.readline()
            source.recorder.stop()
            done.set()

    source.recorder.on_frame = on_frame
    cpu0, wall0 = time.process_time(), time.monotonic()
    source.start()
    start.update(start_cpu_s=time.process_time() - cpu0, start_wall_s=time.monotonic() - wall0)
    started.set()
    while not done.wait(0.5):
        if source.error is not None:
            raise source.error
    source.stop()


def floor_sampler(dsn: str, refreshes: int) -> None:
    """A reference beside the tools: the bare view every session list reads,
    ``SELECT * FROM pg_stat_activity`` at 1 s, fetched with psycopg (same protocol as
    :func:`pgcrisis_sampler`)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT * FROM pg_stat_activity").fetchall()
        _say({"ready": True, "backend": conn.info.backend_pid})
        sys.stdin.readline()
        marks = [(time.monotonic(), time.process_time())]
        took: list[float] = []
        seen = 0
        next_tick = time.monotonic()
        for _ in range(refreshes):
            next_tick += 1.0
            time.sleep(max(0.0, next_tick - time.monotonic()))
            began = time.monotonic()
            seen = len(conn.execute("SELECT * FROM pg_stat_activity").fetchall())
            took.append(time.monotonic() - began)
            marks.append((time.monotonic(), time.process_time()))
        _say({"marks": marks, "took": took, "sessions": seen})
        sys.stdin.readline()


if __name__ == "__main__":
    kind, count, target = sys.argv[1:4]
    {"pgcrisis": pgcrisis_sampler, "floor": floor_sampler}[kind](target, int(count))
