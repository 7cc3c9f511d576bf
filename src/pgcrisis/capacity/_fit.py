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
  uses what follows, from :data:`SETTLE_DAYS` after it (its place is known to a few days).
- The interval: a circular-block bootstrap of the residuals (blocks of two weeks keep the
  noise's day-to-day correlation), each resample refitted and run forward to the limit; the
  dates' percentiles bound the date. A plain block bootstrap of a fit's residuals is too
  narrow, by up to a quarter in the slope's spread on 1 to 4 months of AR(1) noise, for three
  reasons, each corrected here:

  * the residuals lack what the fit took out of the noise: the slope follows the noise's slow
    wander, about ``2 (1 + phi) / (1 - phi)`` days' worth of its variance
    (:func:`fitted_share`), and block resampling loses about a block's worth more; the
    residuals are scaled back by ``sqrt(n / (n - block - that))``;
  * linear or exponential is itself a guess: near the backtest's threshold a share of the
    resamples comes from the other model (:func:`choose`), so a close call widens the
    interval instead of stating one curve's dates confidently;
  * growth that is not steady (a bend, a shift too small to detect): the history is cut in
    two at a few places, both sides fitted and bootstrapped apart, and the slopes'
    difference measured in its bootstrap standard errors; where it exceeds what an honest
    bootstrap allows, the band is widened by the ratio (:func:`inflation`), calibrated on
    the history's own past, never narrowed.

  The benchmark ``bench/forecast_accuracy.py`` checks that an 80 % interval covers the true
  date about 80 % of the time on each family, with several seeds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

#: weeks of history before weekday medians are taken
SEASON_MIN_DAYS = 28
#: the window each side of a candidate level shift, and how many noise units it must jump
#: (4.5: with the growth measured off the step, fewer false shifts on 400 linear, weekly
#: and noise histories than 5 gave before, and as many steps found)
STEP_WINDOW = 7
STEP_SIGMAS = 4.5
#: days skipped after a detected shift: its place is known to a few days either side, and a
#: day from before it, fitted as after, pulls the slope
SETTLE_DAYS = 3
#: bootstrap resamples, and the block length (days) they are drawn in
RESAMPLES = 400
BLOCK = 14
#: where the history is cut to check the bootstrap against itself, the fewest days each side,
#: the resamples per side, and the honest pseudo-cuts the measured ratio is pooled with
CUTS = (1 / 3, 1 / 2, 2 / 3)
CUT_MIN_DAYS = 14
CUT_RESAMPLES = 150
PRIOR = 4.0
#: the log model is chosen when its backtest error is under this share of the line's; the
#: other model keeps some resamples within this factor of that threshold
LOG_WINS = 0.7
LOG_RAMP = 2.0
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
    the local growth explains: the median week-on-week rise of the weeks around k that do not
    span it (those that do carry the step, and a third of them in the median pulled a
    moderate shift below the threshold and let noise through), against the noise of
    day-to-day changes."""
    w = STEP_WINDOW
    n = y.size
    if n < 4 * w:
        return 0
    rise = y[w:] - y[:-w]  # rise[j]: over the week from day j
    jumps = np.zeros(n)
    for k in range(w, n - w + 1):
        # the rises either side that do not span k: a third of them would carry the step
        weekly = np.median(np.concatenate((rise[max(0, k - 3 * w):k - w + 1],
                                           rise[k:k + 2 * w])))
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


@dataclass(frozen=True, slots=True)
class Choice:
    """The model a forecast states, the other one, and the share of the resamples drawn
    from the other: how far the history leaves the choice open."""

    model: Model
    other: Model | None
    share: float


def choose(t: Array, weekday: npt.NDArray[np.int64], y: Array) -> Choice:
    """Linear, or exponential when the values are positive and the log model forecasts the
    last third of the history from the first two clearly better (a backtest, not an in-sample
    fit: a curve always fits the past at least as well): its error under :data:`LOG_WINS`
    times the line's.

    The choice is itself uncertain: a backtest ratio near the threshold could as well have
    fallen on the other side. The other model gets a share of the resamples that falls from
    one half at the threshold to none a factor :data:`LOG_RAMP` away from it, so that the
    interval does not jump when the ratio crosses it and carries the doubt of a close call
    (an exponential fitted to a noisy line otherwise gives an interval confidently early)."""
    linear = fit_model(t, weekday, y, log=False)
    if y.size < 21 or np.any(y <= 0):
        return Choice(linear, None, 0.0)
    cut = (2 * y.size) // 3
    errors = []
    for log in (False, True):
        early = fit_model(t[:cut], weekday[:cut], y[:cut], log=log)
        errors.append(float(np.median(np.abs(predict(early, t[cut:], weekday[cut:])
                                             - y[cut:]))))
    exponential = fit_model(t, weekday, y, log=True)
    ratio = errors[1] / errors[0] if errors[0] > 0 else (1.0 if errors[1] > 0 else LOG_WINS)
    # distance from the threshold in factors of LOG_RAMP: 0 at it, 1 a whole ramp away
    away = min(1.0, abs(float(np.log(max(ratio, 1e-12) / LOG_WINS))) / np.log(LOG_RAMP))
    share = 0.5 * (1 - away)
    if ratio < LOG_WINS:
        return Choice(exponential, linear, share)
    return Choice(linear, exponential, share)


def resample(model: Model, t: Array, rng: np.random.Generator, count: int = RESAMPLES
             ) -> tuple[Array, Array]:
    """Slopes and intercepts of ``count`` circular-block bootstrap refits."""
    n = model.residual.size
    block = min(BLOCK, max(1, n // 4))
    blocks = -(-n // block)
    starts = rng.integers(0, n, size=(count, blocks))
    index = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(count, -1)[:, :n] % n
    noise = model.residual[index] * np.sqrt(n / max(1.0, n - block - fitted_share(model.residual)))
    base = model.intercept + model.slope * t
    return theil(t, base[None, :] + noise)


def fitted_share(residual: Array) -> float:
    """How many days' worth of the noise's variance the fit's two numbers took out of the
    residuals: 2 for independent noise, ``2 (1 + phi) / (1 - phi)`` for AR(1) noise of lag-one
    correlation ``phi`` (a slope follows the noise's slow wander, which then is missing
    from the residuals)."""
    centred = residual - residual.mean()
    power = float(centred @ centred)
    phi = float(centred[1:] @ centred[:-1]) / power if power > 0 else 0.0
    phi = min(max(phi, 0.0), 0.8)
    return 2 * (1 + phi) / (1 - phi)


def inflation(model: Model, t: Array, weekday: npt.NDArray[np.int64], y: Array,
              rng: np.random.Generator) -> float:
    """How much wider than the bootstrap's the slope's uncertainty is, measured on the
    history's own past (1: the bootstrap is honest; never below 1).

    At each cut of :data:`CUTS`, the part before and the part after are fitted apart (same
    model) and bootstrapped; were the bootstrap honest and the growth steady, the difference
    of the two slopes over its bootstrap standard error would be a standard normal. The mean
    of its squares, pooled with :data:`PRIOR` pseudo-cuts of an honest 1 (a handful of
    overlapping cuts is a noisy variance), is the variance's ratio; its root scales the band."""
    squares: list[float] = []
    for share in CUTS:
        cut = int(y.size * share)
        if min(cut, y.size - cut) < CUT_MIN_DAYS:
            continue
        sides = []
        for part in (slice(None, cut), slice(cut, None)):
            fitted = fit_model(t[part], weekday[part], y[part], log=model.log)
            slopes, _ = resample(fitted, t[part], rng, CUT_RESAMPLES)
            sides.append((fitted.slope, float(np.var(slopes))))
        (before, var_before), (after, var_after) = sides
        if var_before + var_after > 0:
            squares.append((before - after) ** 2 / (var_before + var_after))
    ratio = (PRIOR + sum(squares)) / (PRIOR + len(squares))
    return max(1.0, float(np.sqrt(ratio)))


def draws(choice: Choice, t: Array, weekday: npt.NDArray[np.int64], y: Array,
          rng: np.random.Generator) -> list[tuple[Model, Array, Array]]:
    """The bootstrap's slopes and intercepts, per model (the chosen first), widened about
    each fit by :func:`inflation`; :data:`RESAMPLES` in all."""
    widen = inflation(choice.model, t, weekday, y, rng)
    others = round(choice.share * RESAMPLES) if choice.other is not None else 0
    out = []
    for model, count in ((choice.model, RESAMPLES - others), (choice.other, others)):
        if model is None or count == 0:
            continue
        slopes, intercepts = resample(model, t, rng, count)
        out.append((model, model.slope + widen * (slopes - model.slope),
                    model.intercept + widen * (intercepts - model.intercept)))
    return out


def crossings(slopes: Array, intercepts: Array, model: Model, limit: float,
              future: Array, weekday: npt.NDArray[np.int64]) -> tuple[Array, Array]:
    """Per resample, the first future day (index into ``future``) its path reaches ``limit``
    (``inf`` when never), and the paths themselves."""
    z = intercepts[:, None] + slopes[:, None] * future[None, :] + model.season[weekday][None, :]
    paths = np.exp(z) if model.log else z
    reached = paths >= limit
    first = np.where(reached.any(axis=1), reached.argmax(axis=1), np.inf).astype(float)
    return first, paths
