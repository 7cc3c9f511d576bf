"""A series reduced to the screen's resolution: the minimum and maximum of each pixel column.

A chart ``width`` pixels wide over ``[start, end)`` needs no more than ``width`` columns; each
keeps the smallest and largest value whose time falls in it, so a one-minute spike in 14 days
still shows (an average would hide it). A column without data is ``None`` (a gap, not a zero).
Pure; times are integers (µs, or any unit, the same for all arguments).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Reduced:
    """``lo[i]`` and ``hi[i]``: the extremes of column ``i`` (``None``: no data there)."""

    lo: list[float | None]
    hi: list[float | None]


def columns(start: int, end: int, width: int) -> list[int]:
    """The start time of each of ``width`` columns over ``[start, end)``.

    >>> columns(0, 100, 4)
    [0, 25, 50, 75]
    """
    return [start + (end - start) * i // width for i in range(width)]


def reduce(times: Sequence[int], values: Sequence[float], start: int, end: int,
           width: int) -> Reduced:
    """Each column's minimum and maximum of ``values`` (at sorted ``times``).

    >>> r = reduce([0, 10, 20, 60, 70], [1, 5, 2, 3, 9], 0, 100, 2)
    >>> r.lo, r.hi
    ([1.0, 3.0], [5.0, 9.0])
    >>> reduce([5], [4], 0, 100, 4).hi
    [4.0, None, None, None]
    >>> reduce([], [], 0, 100, 2).lo
    [None, None]
    """
    if width <= 0 or end <= start:
        return Reduced([], [])
    t = np.asarray(times, dtype=np.int64)
    v = np.asarray(values, dtype=np.float64)
    keep = (t >= start) & (t < end) & ~np.isnan(v)
    t, v = t[keep], v[keep]
    lo: list[float | None] = [None] * width
    hi: list[float | None] = [None] * width
    if not len(t):
        return Reduced(lo, hi)
    col = ((t - start) * width // (end - start)).astype(np.int64)
    order = np.argsort(col, kind="stable")
    col, v = col[order], v[order]
    firsts = np.flatnonzero(np.r_[True, col[1:] != col[:-1]])
    mins = np.minimum.reduceat(v, firsts)
    maxs = np.maximum.reduceat(v, firsts)
    for c, a, b in zip(col[firsts].tolist(), mins.tolist(), maxs.tolist(), strict=True):
        lo[c], hi[c] = float(a), float(b)
    return Reduced(lo, hi)
