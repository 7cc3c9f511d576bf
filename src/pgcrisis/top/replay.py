"""``top``'s replayed moments: the snapshots a recording stored, stepped frame by frame.

Reads a store (:mod:`pgcrisis.store`), never a server: a replay offers no action.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pgcrisis.dsn import Target
from pgcrisis.errors import ConfigError, StoreError
from pgcrisis.history.service import SLACK, recording_name
from pgcrisis.store import Store
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
