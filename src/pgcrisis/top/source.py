"""Where ``top`` gets its moments: live from a server, or replayed from a recording.

Live, the recorder's own loop samples the server (triage's safe sessions and probes, fast
parts every interval and every part once a minute, skipped ticks rather than stacked queries,
lost connections recorded and retried with backoff) on a thread, into a writer that keeps
only the latest moment in memory and computes its view there, so the UI thread never waits
on the server. Replay reads the same snapshots back from a store and steps frame by frame.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.dsn import Target
from pgcrisis.errors import ConfigError, StoreError
from pgcrisis.model.parts import assemble
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.record.frame import Event, Frame, LogErrorCount, Store
from pgcrisis.record.past import SLACK, recording_name
from pgcrisis.record.recorder import Recorder, RecorderOptions
from pgcrisis.top.view import TopView, build_view
from pgcrisis.when import shown


@dataclass(frozen=True, slots=True)
class Moment:
    """One moment as a screen shows it, with where it came from."""

    view: TopView
    snapshot: Snapshot
    seq: int                     # grows with every new moment (the UI redraws on change)
    status: str                  # "live", "reconnecting: …", "replay 3/120 …"
    events: tuple[Event, ...] = ()


class MemoryWriter:
    """A :class:`~pgcrisis.record.frame.StoreWriter` that keeps the latest moment only: each
    frame's parts laid over what the frames before it read, as a store reads a moment back
    (:func:`~pgcrisis.model.parts.assemble`)."""

    def __init__(self, target: Target, thresholds: Thresholds | None = None) -> None:
        self.target = target
        self.thresholds = thresholds
        self._lock = threading.Lock()
        self._fields: dict[str, Any] = {}
        self._unavailable: dict[str, str] = {}
        self._snapshot: Snapshot | None = None
        self._moment: Moment | None = None
        self._seq = 0
        self.events: deque[Event] = deque(maxlen=100)
        self.connected = True

    def append(self, frame: Frame) -> None:
        self._fields.update(frame.fields())
        snapshot = assemble(frame.server, frame.server_time, self._fields, read=frame.parts,
                            unavailable=frame.unavailable, before=self._unavailable)
        self._unavailable = dict(snapshot.unavailable)
        view = build_view(snapshot, self._snapshot, target=self.target,
                          thresholds=self.thresholds)
        with self._lock:
            self._seq += 1
            self._snapshot = snapshot
            self.connected = True
            self._moment = Moment(view, snapshot, self._seq, "live", tuple(self.events))

    def log_errors(self, rows: Sequence[LogErrorCount]) -> None:
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


class ReplaySource:
    """Moments of a recording, stepped frame by frame."""

    def __init__(self, store: Store, name: str | None, when: datetime) -> None:
        self.store = store
        self.name = recording_name(store, name)
        cover = store.coverage(self.name)
        if cover is None:
            raise StoreError(f"the recording {self.name!r} is empty")
        first, last = cover
        if when < first or when > last + SLACK:
            raise ConfigError(f"{shown(when)} is outside the recording {self.name!r}, which "
                              f"covers {shown(first)} to {shown(last)}")
        self.first, self.last = first, last
        at = store.snapshot_at(self.name, when)
        if at is None:
            raise StoreError(f"the recording {self.name!r} holds no frame at {shown(when)}")
        self.position = at.server_time or at.taken_at
        self._seq = 0
        self._moment = self._load()

    def _load(self) -> Moment:
        snapshot = self.store.snapshot_at(self.name, self.position)
        assert snapshot is not None
        before = self.store.frame_near(self.name, self.position, forward=False)
        previous = None if before is None else self.store.snapshot_at(self.name, before)
        view = build_view(snapshot, previous,
                          target=Target("", f"recording {self.name}",
                                        label=f"recording {self.name}"))
        self._seq += 1
        events = self.store.events(self.name, self.position - timedelta(minutes=5),
                                   self.position)
        status = f"replay of {self.name}: {shown(self.position)}"
        return Moment(view, snapshot, self._seq, status, tuple(events))

    def latest(self) -> Moment:
        return self._moment

    def step(self, forward: bool, *, flagged: bool = False) -> bool:
        """Move to the next (previous) frame, or the next one with a finding; False at an
        end (the position does not move)."""
        when = self.store.frame_near(self.name, self.position, forward=forward,
                                     flagged=flagged)
        if when is None:
            return False
        self.position = when
        self._moment = self._load()
        return True
