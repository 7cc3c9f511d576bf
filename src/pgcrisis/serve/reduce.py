"""A series reduced to the screen's resolution: the minimum and maximum of each pixel column.

A chart ``width`` pixels wide over ``[start, end)`` needs no more than ``width`` columns; each
keeps the smallest and largest value whose time falls in it, so a one-minute spike in 14 days
still shows (an average would hide it). A column without data is ``None`` (a gap, not a zero).
Pure; times are integers (µs, or any unit, the same for all arguments).
"""

from __future__ import annotations

import math
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


def peaks(times: Sequence[int], totals: Sequence[float], start: int, end: int,
          width: int) -> list[int | None]:
    """For each column, the index (into ``times``) of the sample with the largest total in
    it: a stacked chart draws that sample's parts, so a column's stack is one real moment's
    and a spike never averages away (``None``: no sample in the column).

    >>> peaks([0, 10, 20, 60, 70], [1, 5, 2, 3, 9], 0, 100, 2)
    [1, 4]
    >>> peaks([5, 6], [float("nan"), 2], 0, 100, 3)
    [1, None, None]
    """
    out: list[int | None] = [None] * max(width, 0)
    if width <= 0 or end <= start:
        return out
    t = np.asarray(times, dtype=np.int64)
    v = np.asarray(totals, dtype=np.float64)
    index = np.flatnonzero((t >= start) & (t < end) & ~np.isnan(v))
    if not len(index):
        return out
    col = (t[index] - start) * width // (end - start)
    order = np.lexsort((-v[index], col))  # by column, the largest total first
    col, index = col[order], index[order]
    firsts = np.flatnonzero(np.r_[True, col[1:] != col[:-1]])
    for c, i in zip(col[firsts].tolist(), index[firsts].tolist(), strict=True):
        out[c] = int(i)
    return out


def spread(ends: Sequence[int], spans: Sequence[int], values: Sequence[float], start: int,
           end: int, width: int) -> Reduced:
    """Rates drawn over the time they cover: value ``k`` is a rate over ``(ends[k] -
    spans[k], ends[k]]`` (a counter read once a minute, differenced), so it is given to every
    column that span reaches, not to the one instant it was read at; a column reached by
    several keeps their minimum and maximum.

    >>> r = spread([60], [60], [2.0], 0, 120, 4)    # read at 60 s, covering the first minute
    >>> r.hi
    [2.0, 2.0, None, None]
    >>> spread([60, 120], [60, 60], [2.0, 4.0], 0, 120, 3).lo
    [2.0, 2.0, 4.0]
    """
    lo: list[float | None] = [None] * max(width, 0)
    hi: list[float | None] = [None] * max(width, 0)
    if width <= 0 or end <= start:
        return Reduced(lo, hi)
    length = end - start
    for e, s, value in zip(ends, spans, values, strict=True):
        if math.isnan(value) or s <= 0 or e <= start or e - s >= end:  # outside
            continue
        first = max(0, (e - s - start) * width // length)
        last = min(width - 1, (e - 1 - start) * width // length)
        for c in range(int(first), int(last) + 1):
            lo[c] = value if lo[c] is None else min(lo[c], value)  # type: ignore[type-var]
            hi[c] = value if hi[c] is None else max(hi[c], value)  # type: ignore[type-var]
    return Reduced(lo, hi)
