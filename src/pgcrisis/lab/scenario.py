"""The scenario base class and helpers for holding connections open in threads."""

from __future__ import annotations

import contextlib
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar, Self

import psycopg

from pgcrisis.errors import ScenarioError


def admin_connect(dsn: str, *, autocommit: bool = True,
                  application_name: str = "pgcrisis-lab") -> psycopg.Connection[Any]:
    """A plain read-write connection for setting a scenario up (never used to diagnose)."""
    return psycopg.connect(dsn, autocommit=autocommit, application_name=application_name)


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0,
               what: str = "condition") -> None:
    """Poll ``predicate`` until true, or raise :class:`ScenarioError` naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise ScenarioError(f"timed out after {timeout:.0f} s waiting for {what}")


class Worker(threading.Thread):
    """A thread that runs ``target(conn)`` on its own connection and records any error.

    Used to hold locks, open transactions or run simulated users while triage looks on.
    The connection is closed when the thread ends; :meth:`cancel` interrupts a waiting query.
    """

    def __init__(self, dsn: str, target: Callable[[psycopg.Connection[Any]], None], *,
                 name: str, application_name: str = "pgcrisis-lab",
                 autocommit: bool = True) -> None:
        super().__init__(name=name, daemon=True)
        self._dsn = dsn
        self._target = target
        self._appname = application_name
        self._autocommit = autocommit
        self.conn: psycopg.Connection[Any] | None = None
        self.pid: int | None = None
        self.error: BaseException | None = None
        self.ready = threading.Event()
        self.release = threading.Event()

    def run(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        try:
            conn = psycopg.connect(self._dsn, autocommit=self._autocommit,
                                   application_name=self._appname)
            self.conn = conn
            self.pid = conn.info.backend_pid
            self.ready.set()
            with conn:  # commits (or rolls back) at the end, like any client
                self._target(conn)
        except psycopg.errors.QueryCanceled:
            pass  # cancelled by stop(): the expected way out
        except psycopg.OperationalError as exc:
            if not self.release.is_set():
                self.error = exc
        except BaseException as exc:
            self.error = exc
        finally:
            if conn is not None:
                conn.close()  # also when a remedy terminated the session mid-commit
            self.ready.set()

    def cancel(self) -> None:
        """Release the worker: set the event and cancel whatever it is running."""
        self.release.set()
        if self.conn is not None and not self.conn.closed:
            with contextlib.suppress(Exception):
                self.conn.cancel_safe()

    def start_and_wait(self, timeout: float = 10.0) -> Worker:
        """Start, and return once the connection is open (raise if it failed)."""
        self.start()
        if not self.ready.wait(timeout) or self.pid is None:
            raise ScenarioError(f"{self.name} could not connect: {self.error}")
        return self


def wait_for_release() -> None:
    """Block the calling worker until its scenario releases it (:meth:`Worker.cancel`).

    For a worker's target: it finds its worker as the current thread, never through the
    variable the spawner assigns once ``spawn`` returns (a fast thread gets here first, and a
    closure over that variable then fails with NameError, ending the session it was to hold).
    """
    worker = threading.current_thread()
    if not isinstance(worker, Worker):
        raise ScenarioError("wait_for_release() is for a scenario worker's target")
    worker.release.wait()


@dataclass(frozen=True, slots=True)
class Metric:
    """One measured symptom, for the demo's before/after table.

    ``source`` says where the figure came from (what was measured, on the server, while the
    symptom happened), so the table never shows a number computed from configuration.
    ``error`` is set when the measurement itself failed (a refresh that errored, a reader
    that was cancelled): such a figure proves nothing and never counts as an improvement.
    ``min_ratio`` is the margin an improvement needs (noise is not an improvement).
    """

    label: str       # e.g. "mean order-creation time"
    unit: str        # e.g. "ms"
    value: float
    source: str = "measured"
    lower_is_better: bool = True
    error: str | None = None
    min_ratio: float = 2.0

    def improved_over(self, before: Metric) -> bool:
        """Whether this (after) value beats ``before`` by at least ``min_ratio``.

        >>> before = Metric("wait", "ms", 100.0)
        >>> Metric("wait", "ms", 60.0).improved_over(before)   # noise, not a fix
        False
        >>> Metric("wait", "ms", 0.0).improved_over(before)
        True
        >>> Metric("wait", "ms", 1.0, error="refresh failed").improved_over(before)
        False
        """
        if self.error is not None or before.error is not None:
            return False
        better, worse = ((self.value, before.value) if self.lower_is_better
                         else (before.value, self.value))
        if worse <= 0:
            return False
        return better * self.min_ratio <= worse


class Scenario(ABC):
    """One fault: ``setup`` builds what it needs, ``inject`` starts it, ``self_check`` proves it
    is real, ``stop`` releases every connection and thread (and leaves the schema).

    Use as a context manager: entering runs setup, inject and self_check.
    """

    #: the finding code triage should produce for this fault
    code: ClassVar[str]
    #: one line for the demo's progress output
    title: ClassVar[str]

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.workers: list[Worker] = []

    def setup(self) -> None:  # noqa: B027 (optional hook)
        """Create tables and data; default: nothing."""

    @abstractmethod
    def inject(self) -> None:
        """Start the fault."""

    @abstractmethod
    def self_check(self) -> None:
        """Raise :class:`ScenarioError` unless the fault is really there."""

    def measure(self) -> Metric:
        """Measure the symptom this fault causes, now (the demo calls it before and after the
        remedy). Scenarios the demo uses override it."""
        raise NotImplementedError(f"{type(self).__name__} has no metric")

    def stop(self) -> None:
        """Cancel and join every worker."""
        for worker in self.workers:
            worker.cancel()
        for worker in self.workers:
            worker.join(10)
        self.workers.clear()

    def spawn(self, target: Callable[[psycopg.Connection[Any]], None], *, name: str,
              application_name: str = "pgcrisis-lab", autocommit: bool = True,
              wait: bool = True) -> Worker:
        """Start a :class:`Worker` owned by this scenario."""
        worker = Worker(self.dsn, target, name=name, application_name=application_name,
                        autocommit=autocommit)
        self.workers.append(worker)
        if wait:
            worker.start_and_wait()
        else:
            worker.start()
        return worker

    def __enter__(self) -> Self:
        self.setup()
        try:
            self.inject()
            self.self_check()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
