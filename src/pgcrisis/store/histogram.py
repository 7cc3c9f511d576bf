"""Durations counted in fixed log-scale buckets, so that a percentile (the slow page's p95) can
be read over any range by adding the minutes' histograms, without keeping every duration.

Bucket ``i`` holds the durations ``d`` (milliseconds) with ``FLOOR_MS * RATIO**i <= d <
FLOOR_MS * RATIO**(i+1)``, ``RATIO`` being ``2**(1/4)`` (four buckets per doubling);
bucket 0 also holds whatever is shorter than :data:`FLOOR_MS`. A percentile is read as the
geometric middle of the bucket it falls in, kept within the largest duration seen: at most
``sqrt(RATIO) - 1``, 9.05 %, from the exact value for any duration above the floor.

A histogram is stored as JSON text, the counts of its non-empty buckets by index
(``{"41": 3, "42": 1}``): a minute of one statement holds a handful of buckets. The scale is
fixed: changing :data:`FLOOR_MS` or :data:`PER_DOUBLING` changes what stored histograms
mean (a store schema change).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping

#: the lower edge of bucket 1 (bucket 0: anything shorter), ms
FLOOR_MS = 0.01
#: buckets per doubling of the duration
PER_DOUBLING = 4
RATIO = 2 ** (1 / PER_DOUBLING)

Histogram = dict[int, int]


def bucket_of(ms: float) -> int:
    """The bucket of a duration.

    >>> bucket_of(0.001), bucket_of(0.01), bucket_of(0.02), bucket_of(1000.0)
    (0, 0, 4, 66)
    """
    if ms <= FLOOR_MS:
        return 0
    return max(0, math.floor(math.log2(ms / FLOOR_MS) * PER_DOUBLING + 1e-9))


def of(durations: Iterable[float]) -> Histogram:
    """The histogram of ``durations`` (ms)."""
    out: Histogram = {}
    for ms in durations:
        b = bucket_of(ms)
        out[b] = out.get(b, 0) + 1
    return out


def merged(histograms: Iterable[Mapping[int, int]]) -> Histogram:
    """The sum of histograms (of several minutes, or of one minute written twice)."""
    out: Histogram = {}
    for h in histograms:
        for b, n in h.items():
            out[b] = out.get(b, 0) + n
    return out


def quantile(h: Mapping[int, int], q: float, max_ms: float | None = None) -> float | None:
    """The duration below which a share ``q`` of the counted ones are (nearest rank), as the
    geometric middle of its bucket, never above ``max_ms``; ``None`` for an empty histogram.

    >>> round(quantile(of([10.0] * 19 + [1000.0]), 0.95), 1)
    9.4
    """
    total = sum(h.values())
    if total <= 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for b in sorted(h):
        seen += h[b]
        if seen >= rank:
            low = FLOOR_MS * RATIO ** b if b else 0.0
            middle = FLOOR_MS * RATIO ** (b + 0.5) if b else FLOOR_MS / 2
            value = max(low, middle)
            return min(value, max_ms) if max_ms is not None else value
    return None  # unreachable: the ranks add up to total


def dumps(h: Mapping[int, int]) -> str:
    """The stored text of a histogram (indexes in order).

    >>> dumps({42: 1, 41: 3})
    '{"41":3,"42":1}'
    """
    return json.dumps({str(b): h[b] for b in sorted(h)}, separators=(",", ":"))


def loads(text: str | None) -> Histogram:
    """A histogram from its stored text (``None`` or ``""``: empty)."""
    if not text:
        return {}
    return {int(b): int(n) for b, n in json.loads(text).items()}
