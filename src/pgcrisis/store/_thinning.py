"""Which frames thinning keeps, and how the kept ones keep their values (pure planning).

Old detail is thinned to one frame a minute (the minute's full frames, else its first
frame), plus every frame whose checks found a warning or worse, plus the recording's last
frame. A field's value is stored only where it changed, so deleting a frame that carried a
change would silently give the kept frames after it the value from before. The plan
therefore *moves* such a change to the next kept frame (unless that frame has its own change
for the field, which wins), so every kept frame answers ``snapshot_at`` exactly as before.

Ages are stored against references kept in the frame that read them (:mod:`._clocks`); a
kept frame that did not read a clocked field uses the latest frame that did. If thinning
deletes that frame, its references are copied into the kept frame (``ref_copies``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

MINUTE_US = 60 * 1_000_000
#: worst-severity ranks that survive thinning (0 critical, 1 warning)
KEPT_WORST = (0, 1)
FULL = 1


@dataclass(frozen=True, slots=True)
class FrameInfo:
    """What thinning needs of a frame: its time, kind, worst finding and what it read."""

    t: int
    kind: int
    worst: int | None
    seen: int


@dataclass(slots=True)
class Plan:
    """What to do to one batch of frames."""

    delete: list[int] = field(default_factory=list)              # frame times
    moves: list[tuple[int, int, int]] = field(default_factory=list)  # (field, from t, to t)
    drops: list[tuple[int, int]] = field(default_factory=list)      # (field, t)
    ref_copies: list[tuple[int, int, int]] = field(default_factory=list)  # (field, from, to)


def kept(frames: Sequence[FrameInfo], last_t: int) -> set[int]:
    """The times of the frames thinning keeps (``last_t``: the recording's last frame).

    >>> f = [FrameInfo(0, 0, None, 1), FrameInfo(10, 1, None, 1), FrameInfo(20, 0, 1, 1),
    ...      FrameInfo(MINUTE_US, 0, None, 1), FrameInfo(MINUTE_US + 5, 0, None, 1)]
    >>> sorted(kept(f, MINUTE_US + 5))
    [10, 20, 60000000, 60000005]
    """
    keep = {f.t for f in frames if f.kind == FULL or f.worst in KEPT_WORST or f.t == last_t}
    minutes: dict[int, list[FrameInfo]] = {}
    for f in frames:
        minutes.setdefault(f.t // MINUTE_US, []).append(f)
    for group in minutes.values():
        if not any(f.kind == FULL for f in group):
            keep.add(min(f.t for f in group))
    return keep


def plan(frames: Sequence[FrameInfo], after: FrameInfo | None, changes: Iterable[tuple[int, int]],
         clocked: Iterable[int], last_t: int) -> Plan:
    """The plan for ``frames`` (one batch, oldest first; ``after``: the first frame after
    it, kept for now), given the ``changes`` as (field, t) of the batch and of ``after``, and
    the ids of the clocked fields.
    """
    keep = kept(frames, last_t)
    deleted = {f.t for f in frames} - keep
    by_field: dict[int, list[int]] = {}
    for fid, t in changes:
        by_field.setdefault(fid, []).append(t)
    later = [f.t for f in frames if f.t in keep] + ([after.t] if after is not None else [])
    result = Plan()
    for fid, times in by_field.items():
        own = set(times)
        targets: dict[int, int] = {}  # kept frame -> the latest deleted change before it
        for t in sorted(times):
            if t not in deleted:
                continue
            target = next((k for k in later if k > t), None)
            if target is None:  # nothing after it to carry the value: keep the frame
                keep.add(t)
                deleted.discard(t)
                continue
            if target in targets:
                result.drops.append((fid, targets[target]))
            targets[target] = t
        for target, t in targets.items():
            if target in own:
                result.drops.append((fid, t))
            else:
                result.moves.append((fid, t, target))
    result.delete = [f.t for f in frames if f.t not in keep]
    result.ref_copies = _ref_copies(frames, after, keep, clocked)
    return result


def _ref_copies(frames: Sequence[FrameInfo], after: FrameInfo | None, keep: set[int],
                clocked: Iterable[int]) -> list[tuple[int, int, int]]:
    """Kept frames that did not read a clocked field whose last reader is deleted (a moved
    change's frame read its field, so it is such a reader too)."""
    bits = {fid: 1 << fid for fid in clocked}
    last_reader: dict[int, int] = {}   # field -> the latest frame that read it, if deleted
    copies: list[tuple[int, int, int]] = []
    for f in [*frames, *([after] if after is not None else [])]:
        deleted = f is not after and f.t not in keep
        for fid, bit in bits.items():
            if f.seen & bit:
                if deleted:
                    last_reader[fid] = f.t
                else:
                    last_reader.pop(fid, None)
            elif not deleted:
                source = last_reader.pop(fid, None)
                if source is not None:
                    copies.append((fid, source, f.t))
    return copies
