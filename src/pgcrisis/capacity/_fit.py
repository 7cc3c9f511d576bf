"""The numerics behind :mod:`pgcrisis.capacity.forecast`, kept apart so that only ``capacity``
pays numpy's import.

The model of a daily figure: ``g(y) = intercept + slope * t + season[weekday] + noise``, with
``g`` the identity (linear growth) or ``log`` (exponential growth), ``t`` in days from today.

- The slope is Theil's estimator (1950): the median of the slopes between each day of the
  first half and its partner half a history later. Robust to outliers like Theil-Sen, but
  O(n), so hundreds of bootstrap refits cost milliseconds.
- Weekly seasonality: the weekday medians of the detrended values, taken only with 4 weeks
  and more, and only when they stand out of the noise (7 fitted numbers would otherwise
  shrink the residuals and narrow the interval dishonestly).
- A level shift (a bulk load, a purge, a VACUUM FREEZE): the last place where the medians of
  the week before and after differ by far more than such differences usually do; the fit
  uses what follows.
- The interval: a moving-block bootstrap of the residuals (blocks of two weeks keep the
  noise's day-to-day correlation), each resample refitted and run forward to the limit; the
  dates' percentiles bound the date. The benchmark ``bench/forecast_accuracy.py`` checks
  that an 80 % interval covers the true date about 80 % of the time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

#: weeks of history before weekday medians are taken
SEASON_MIN_DAYS = 28
#: the window each side of a candidate level shift, and how many noise units it must jump
STEP_WINDOW = 7
STEP_SIGMAS = 5.0
#: bootstrap resamples, and the block length (days) they are drawn in
RESAMPLES = 400
BLOCK = 14
#: the growth must stand this many standard errors above zero to be called a trend
TREND_Z = 2.5
_MAD = 1.4826


def robust_sigma(values: Array) -> float:
    """The noise's scale from the median absolute deviation (1.4826 makes it a normal's sd)."""
    if values.size == 0:
        return 0.0
    return float(_MAD * np.median(np.abs(values - np.median(values))))


def theil(t: Array, y: Array) -> tuple[Array, Array]:
    """Slope and intercept of each row of ``y`` (shape ``(k, n)``) against ``t``: the median
    slope between day i and day i + n/2, and the median of what the slope leaves."""
    half = t.size // 2
    rise = y[:, half:2 * half] - y[:, :half]
    run = t[half:2 * half] - t[:half]
    slope = np.median(rise / run, axis=1)
    intercept = np.median(y - slope[:, None] * t[None, :], axis=1)
    return slope, intercept


def weekday_effect(weekday: npt.NDArray[np.int64], residual: Array) -> Array:
    """The seven weekday medians of ``residual``, centred; zeros when they do not stand out
    of the noise or the history is under :data:`SEASON_MIN_DAYS`."""
    effect = np.zeros(7)
    if residual.size < SEASON_MIN_DAYS:
        return effect
    for d in range(7):
        chosen = residual[weekday == d]
        if chosen.size < 3:
            return np.zeros(7)
        effect[d] = np.median(chosen)
    effect -= effect.mean()
    per_day = residual.size / 7
    noise = robust_sigma(residual) * 1.2533 / np.sqrt(per_day)
    return effect if np.ptp(effect) > 4 * noise else np.zeros(7)


def last_shift(y: Array, t: Array) -> int:
    """Index where the series starts again after its last level shift (0: none found).

    At each day k, the median of the week after less the median of the week before, less what
    the local growth (the median week-on-week rise around k, which a single step cannot
    sway) explains, against the noise of day-to-day changes."""
    w = STEP_WINDOW
    n = y.size
    if n < 4 * w:
        return 0
    rise = y[w:] - y[:-w]  # rise[j]: over the week from day j
    jumps = np.zeros(n)
    for k in range(w, n - w + 1):
        weekly = np.median(rise[max(0, k - 2 * w):min(rise.size, k + w)])
        jumps[k] = np.median(y[k:k + w]) - np.median(y[k - w:k]) - weekly
    # the jumps' own spread is the noise's, correlation and all; a shift is an outlier of it.
    # Noise that grows with the level (exponential growth) is scaled by the local spread of
    # day-to-day changes against the whole history's.
    change = np.abs(np.diff(y))
    overall = float(np.median(change)) or 1e-12
    local = np.array([np.median(change[max(0, k - 2 * w):k + 2 * w]) for k in range(n)])
    threshold = STEP_SIGMAS * (robust_sigma(jumps[w:n - w + 1]) or 1e-12) * np.maximum(
        1.0, local / overall)
    big = np.flatnonzero(np.abs(jumps) > threshold)
    if big.size == 0:
        return 0
    last = big[-1]
    run = big[big >= last - w]  # the cluster of candidates around the last shift
    return int(run[np.argmax(np.abs(jumps[run]))])


@dataclass(frozen=True, slots=True)
class Model:
    """One fitted model of the (transformed) series."""

    log: bool
    slope: float
    intercept: float
    season: Array
    residual: Array


def fit_model(t: Array, weekday: npt.NDArray[np.int64], y: Array, *, log: bool) -> Model:
    """Trend, weekday effect, trend again on the deseasonalised values."""
    z = np.log(y) if log else y
    slope, intercept = theil(t, z[None, :])
    season = weekday_effect(weekday, z - slope[0] * t - intercept[0])
    flat = z - season[weekday]
    slope, intercept = theil(t, flat[None, :])
    residual = flat - slope[0] * t - intercept[0]
    return Model(log, float(slope[0]), float(intercept[0]), season, residual)


def predict(model: Model, t: Array, weekday: npt.NDArray[np.int64]) -> Array:
    """The model's values at ``t`` (original scale)."""
    z = model.intercept + model.slope * t + model.season[weekday]
    return np.exp(z) if model.log else z


def choose(t: Array, weekday: npt.NDArray[np.int64], y: Array) -> Model:
    """Linear, or exponential when the values are positive and the log model forecasts the
    last third of the history from the first two clearly better (a backtest, not an in-sample
    fit: a curve always fits the past at least as well)."""
    linear = fit_model(t, weekday, y, log=False)
    if y.size < 21 or np.any(y <= 0):
        return linear
    cut = (2 * y.size) // 3
    errors = []
    for log in (False, True):
        early = fit_model(t[:cut], weekday[:cut], y[:cut], log=log)
        errors.append(float(np.median(np.abs(predict(early, t[cut:], weekday[cut:])
                                             - y[cut:]))))
    return fit_model(t, weekday, y, log=True) if errors[1] < 0.7 * errors[0] else linear


def resample(model: Model, t: Array, weekday: npt.NDArray[np.int64],
             rng: np.random.Generator) -> tuple[Array, Array]:
    """Slopes and intercepts of :data:`RESAMPLES` moving-block bootstrap refits."""
    n = model.residual.size
    block = min(BLOCK, max(1, n // 4))
    blocks = -(-n // block)
    starts = rng.integers(0, n - block + 1, size=(RESAMPLES, blocks))
    index = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(RESAMPLES, -1)[:, :n]
    noise = model.residual[index]
    base = model.intercept + model.slope * t
    return theil(t, base[None, :] + noise)


def crossings(slopes: Array, intercepts: Array, model: Model, limit: float,
              future: Array, weekday: npt.NDArray[np.int64]) -> tuple[Array, Array]:
    """Per resample, the first future day (index into ``future``) its path reaches ``limit``
    (``inf`` when never), and the paths themselves."""
    z = intercepts[:, None] + slopes[:, None] * future[None, :] + model.season[weekday][None, :]
    paths = np.exp(z) if model.log else z
    reached = paths >= limit
    first = np.where(reached.any(axis=1), reached.argmax(axis=1), np.inf).astype(float)
    return first, paths
