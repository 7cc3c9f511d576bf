"""``top``'s replayed moments: the snapshots a recording stored, stepped frame by frame.

Reads a store (:mod:`pgcrisis.store`), never a server: a replay offers no action.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pgcrisis.dsn import Target
from pgcrisis.errors import ConfigError, StoreError
from pgcrisis.history.service import SLACK, recording_name
from pgcrisis.store import Store
from pgcrisis.top.load import HISTORY, LoadPoint, point
from pgcrisis.top.view import Moment, build_view
from pgcrisis.when import shown


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
        self._points: dict[datetime, LoadPoint | None] = {}  # the frames' load, by time
        self._covered: tuple[datetime, datetime] | None = None
        self._moment = self._load()

    def _history(self) -> tuple[LoadPoint, ...]:
        """The load of the samples of the minute up to the position, each frame read once
        however often the replay steps over it (the frames read cover ``_covered``)."""
        start = self.position - HISTORY
        tick = timedelta(microseconds=1)
        spans: list[tuple[datetime, datetime]] = []
        if self._covered is None or start > self._covered[1] or self.position < self._covered[0]:
            self._points.clear()  # far from what was read: read the minute afresh
            spans.append((start, self.position))
            self._covered = (start, self.position)
        else:
            first, last = self._covered
            if start < first:
                spans.append((start, first - tick))
            if self.position > last:
                spans.append((last + tick, self.position))
            self._covered = (min(first, start), max(last, self.position))
        for lo, hi in spans:
            for snapshot in self.store.snapshots(self.name, lo, hi):
                self._points[snapshot.server_time or snapshot.taken_at] = point(snapshot)
        return tuple(p for t, p in sorted(self._points.items())
                     if p is not None and start <= t <= self.position)

    def _load(self) -> Moment:
        snapshot = self.store.snapshot_at(self.name, self.position)
        assert snapshot is not None
        before = self.store.frame_near(self.name, self.position, forward=False)
        previous = None if before is None else self.store.snapshot_at(self.name, before)
        view = build_view(snapshot, previous,
                          target=Target("", f"recording {self.name}",
                                        label=f"recording {self.name}"),
                          history=self._history())
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
