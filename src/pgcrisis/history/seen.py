"""What a window's findings share (pure): when each held, and the stretches of frames a
history check finds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pgcrisis.model.findings import Finding
from pgcrisis.model.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class Seen:
    """When a finding held in the window: first and last frame, and the worst frame."""

    started_at: datetime
    ended_at: datetime
    peak_at: datetime
    frames: int


@dataclass(frozen=True, slots=True)
class WindowFinding:
    """A finding of the window and when it held; ``pids``: the sessions it was about over
    the window, where it named one per frame (a root blocker, an idle session), in the order
    first seen, when they were several."""

    finding: Finding
    seen: Seen
    pids: tuple[int, ...] = ()


def moment(snapshot: Snapshot) -> datetime:
    """When a frame was taken (the server's clock where known)."""
    return snapshot.server_time or snapshot.taken_at


def stretches(flags: Sequence[tuple[datetime, int]], minimum: int,
              ) -> list[list[tuple[datetime, int]]]:
    """Runs of consecutive frames whose count is at least ``minimum``.

    >>> from datetime import UTC
    >>> at = [datetime(2026, 1, 1, 0, 0, s, tzinfo=UTC) for s in range(5)]
    >>> [[c for _, c in run] for run in stretches(list(zip(at, [6, 7, 0, 9, 1])), 5)]
    [[6, 7], [9]]
    """
    runs: list[list[tuple[datetime, int]]] = []
    current: list[tuple[datetime, int]] = []
    for at, count in flags:
        if count >= minimum:
            current.append((at, count))
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs
