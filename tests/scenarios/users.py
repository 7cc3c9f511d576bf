"""Simulated users: threads that each hold a connection and repeat one action, timing it.

The demo runs them while the server seizes up (and again after the fixes), so the effect of
each fault is felt the way a user feels it: as latency.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

Action = Callable[[psycopg.Connection[Any], int], None]


@dataclass
class Latencies:
    """Per-action timings in ms (thread-safe appends)."""

    samples: list[float] = field(default_factory=list)
    errors: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, ms: float) -> None:
        with self._lock:
            self.samples.append(ms)

    def percentile(self, p: float) -> float:
        """The p-th percentile (0-100) in ms, 0 when empty."""
        with self._lock:
            data = sorted(self.samples)
        if not data:
            return 0.0
        if len(data) == 1:
            return data[0]
        return statistics.quantiles(data, n=100, method="inclusive")[max(0, min(98, int(p) - 1))]


class SimulatedUsers:
    """``users`` threads repeating ``action(conn, i)`` until :meth:`stop` or ``duration_s``."""

    def __init__(self, dsn: str, action: Action, *, users: int, name: str,
                 application_name: str, think_s: float = 0.05) -> None:
        self.dsn = dsn
        self.action = action
        self.users = users
        self.name = name
        self.application_name = application_name
        self.think_s = think_s
        self.latencies = Latencies()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _run(self, index: int) -> None:
        try:
            with psycopg.connect(self.dsn, autocommit=True,
                                 application_name=self.application_name) as conn:
                i = index
                while not self._stop.is_set():
                    t0 = time.perf_counter()
                    try:
                        self.action(conn, i)
                        self.latencies.add((time.perf_counter() - t0) * 1000)
                    except psycopg.errors.QueryCanceled:
                        self.latencies.errors += 1
                    i += self.users
                    self._stop.wait(self.think_s)
        except psycopg.OperationalError:
            self.latencies.errors += 1

    def start(self) -> SimulatedUsers:
        for n in range(self.users):
            thread = threading.Thread(target=self._run, args=(n,), name=f"{self.name}-{n}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, timeout: float = 30.0) -> Latencies:
        """Stop and join the threads; returns the latencies collected."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
        return self.latencies
