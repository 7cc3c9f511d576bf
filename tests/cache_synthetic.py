"""A synthetic catalogue of cached views, for the planner's tests and ``bench/cache.py``.

Durations are lognormal (most refreshes take a minute or two, a few take much longer);
about half the views are built on one or two earlier views, so trees several levels deep
form. Seeded: the same seed gives the same catalogue.

>>> durations, bases = catalogue(10, seed=1)
>>> len(durations), all(b < v for v, bs in bases.items() for b in bs)
(10, True)
"""

from __future__ import annotations

import math
import random


def catalogue(n: int = 300, *, seed: int = 7, mean_s: float = 120.0, sigma: float = 1.0,
              dependent_share: float = 0.5) -> tuple[dict[str, float], dict[str, tuple[str, ...]]]:
    """``(durations, bases)`` for ``n`` views named ``mv_000`` ... (bases come earlier)."""
    rng = random.Random(seed)
    mu = math.log(mean_s) - sigma ** 2 / 2
    names = [f"mv_{i:03d}" for i in range(n)]
    durations = {name: max(1.0, rng.lognormvariate(mu, sigma)) for name in names}
    bases: dict[str, tuple[str, ...]] = {}
    for i, name in enumerate(names):
        if i and rng.random() < dependent_share:
            k = 1 if rng.random() < 0.7 else 2
            bases[name] = tuple(sorted(set(rng.sample(names[:i], min(k, i)))))
    return durations, bases


def random_starts(names: list[str], window_s: float, *, seed: int,
                  minute_grid: bool = True) -> dict[str, float]:
    """A random start (on a whole minute, as cron would) in ``[0, window)`` for each view."""
    rng = random.Random(seed)
    if minute_grid:
        minutes = max(1, int(window_s // 60))
        return {n: 60.0 * rng.randrange(minutes) for n in names}
    return {n: rng.uniform(0, window_s) for n in names}
