"""``top``'s live moments: the recorder's own loop samples the server on a thread.

Triage's safe sessions and probes, fast parts every interval and every part once a minute,
skipped ticks rather than stacked queries, lost connections recorded and retried with
backoff; the frames go into a writer that keeps only the latest moment in memory and
computes its view there, so the UI thread never waits on the server. Every session keeps its
row (nothing is stored, so nothing is counted instead).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.dsn import Target
from pgcrisis.model.parts import assemble
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.record.recorder import Recorder, RecorderOptions
from pgcrisis.store import Event, Frame, LogErrorCount, LogSlowCount
from pgcrisis.top.load import LoadPoint, kept, point
from pgcrisis.top.view import Moment, build_view


class MemoryWriter:
    """A :class:`~pgcrisis.store.StoreWriter` that keeps the latest moment only: each
    frame's parts laid over what the frames before it read, as a store reads a moment back
    (:func:`~pgcrisis.model.parts.assemble`)."""

    def __init__(self, target: Target, thresholds: Thresholds | None = None) -> None:
        self.target = target
        self.thresholds = thresholds
        self._lock = threading.Lock()
        self._fields: dict[str, Any] = {}
        self._unavailable: dict[str, str] = {}
        self._snapshot: Snapshot | None = None
        self._history: tuple[LoadPoint, ...] = ()  # the load of the last minute's samples
        self._moment: Moment | None = None
        self._seq = 0
        self.events: deque[Event] = deque(maxlen=100)
        self.connected = True

    def append(self, frame: Frame) -> None:
        self._fields.update(frame.fields())
        snapshot = assemble(frame.server, frame.server_time, self._fields, read=frame.parts,
                            unavailable=frame.unavailable, before=self._unavailable)
        self._unavailable = dict(snapshot.unavailable)
        self._history = kept(self._history, point(snapshot))
        view = build_view(snapshot, self._snapshot, target=self.target,
                          thresholds=self.thresholds, history=self._history)
        with self._lock:
            self._seq += 1
            self._snapshot = snapshot
            self.connected = True
            self._moment = Moment(view, snapshot, self._seq, "live", tuple(self.events))

    def log_errors(self, rows: Sequence[LogErrorCount]) -> None:
        """Nothing: ``top`` follows no log."""

    def log_slow(self, rows: Sequence[LogSlowCount]) -> None:
        """Nothing: ``top`` follows no log."""

    def event(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)
            if event.kind == "disconnect":
                self.connected = False
            if self._moment is not None:
                status = "live" if self.connected else f"disconnected, retrying: {event.detail}"
                self._seq += 1
                self._moment = replace(self._moment, seq=self._seq, status=status,
                                       events=tuple(self.events))

    def maintain(self, now: datetime, *, retention: timedelta, thin_after: timedelta) -> None:
        """Nothing is kept, so nothing to thin."""

    def close(self) -> None:
        """Nothing to release."""

    def latest(self) -> Moment | None:
        with self._lock:
            return self._moment


class LiveSource:
    """Samples ``target`` on a background thread until :meth:`stop`."""

    def __init__(self, target: Target, *, interval_s: float = 1.0,
                 options: RecorderOptions | None = None) -> None:
        base = options or RecorderOptions()
        self.options = replace(base, interval_s=interval_s, judge=False,
                               maintain_every_s=float("inf"), count_sessions=False)
        self.writer = MemoryWriter(target, self.options.thresholds)
        self.recorder = Recorder(target, self.writer, self.options)
        self.error: Exception | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Connect (a refused first connection raises
        :class:`~pgcrisis.errors.ConnectError` here, before any screen opens), then sample
        on a thread."""
        self.recorder.run(max_frames=1)  # the first sample, in the caller's thread
        self.recorder.stats.frames = 0
        self._thread = threading.Thread(target=self._run, name="pgcrisis-top-sampler",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.recorder.run()
        except Exception as exc:  # shown by the UI, which stays up
            self.error = exc

    def latest(self) -> Moment | None:
        return self.writer.latest()

    def stop(self) -> None:
        self.recorder.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)
