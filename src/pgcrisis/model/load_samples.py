"""One sample's own figures, from which a recorded frame's load profile is averaged.

A recording's frame carries the profile of its last few samples (``collect/load_frames.py``):
averages over a window that slides by one sample a frame, so no two frames' averages are
alike and a store that kept them would keep every figure five times over, none shared. What
the store keeps instead is each sample's sessions, counted by what a profile tells apart
(:class:`SeenGroup`): a group of a busy server recurs sample after sample, so it is stored
once and referred to. The averages are made again when the frame is read
(:func:`pgcrisis.collect.load_build.averaged`), by the same code that made them live.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SeenGroup:
    """``sessions`` sessions of one sample alike in all a load profile counts: their state
    and wait, their client (a parallel worker's is its leader's), the statement they ran
    (``query_id``, the leader's for a worker that shows none) and whether the diagnostic
    role could see them (``hidden``: another role's, without pg_read_all_stats)."""

    state: str | None
    wait_event_type: str | None
    wait_event: str | None
    application: str
    address: str
    role: str
    query_id: int | None = None
    hidden: bool = False
    sessions: int = 1


#: one sample's groups, in the order their first session was seen (the order in which a
#: profile's clients and statements with equal figures are listed)
SampleGroups = tuple[SeenGroup, ...]
