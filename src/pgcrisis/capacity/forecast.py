"""When a growing figure reaches its limit, with an honest interval: a robust fit of the daily
history (weekly seasonality where there is enough of it), and "cannot tell" where the fit is
poor or the history short, never a confident date from a week of noise.

Rules, each a number a reader can check:

- fewer than :data:`MIN_DAYS` days of history: "cannot tell" (a week of noise looks like a
  trend);
- growth that does not stand :data:`~pgcrisis.capacity._fit.TREND_Z` standard errors above
  zero (the bootstrap's): "cannot tell", with how far the fastest growth the history allows
  would take it;
- otherwise the date the fitted path first reaches the limit, and the interval the
  bootstrap's dates give at ``level``; "not within" when the path stays under the limit for
  ``horizon_days``. The bootstrap is corrected for what it misses (the noise the fit
  absorbed, the doubt between a line and a curve, growth less steady than the model) and
  checked against the history's own past, so that an 80 % interval holds the date about
  80 % of the time (see :mod:`pgcrisis.capacity._fit`); the trend test uses the same
  widened spread, so noise stays "cannot tell".

The numerics (numpy) live in :mod:`pgcrisis.capacity._fit`, imported when a forecast runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pgcrisis.capacity import _fit

#: days of history a forecast needs at least
MIN_DAYS = 14
#: resamples are drawn from this seed: the same history gives the same interval
SEED = 22


class Verdict(StrEnum):
    """What a forecast can say."""

    REACHED = "reached"          # the limit is reached already
    DATE = "date"                # it will be reached: ``when`` within [``low``, ``high``]
    NOT_WITHIN = "not-within"    # not within the horizon (flat, falling, or too slow)
    CANNOT_TELL = "cannot-tell"  # too little history, or a fit too poor to say


@dataclass(frozen=True, slots=True)
class Exhaustion:
    """When a figure reaches its limit. ``low``/``high`` bound ``when`` at ``level`` (0.8: an
    80 % interval covers the true date about 80 % of the time); ``reason`` says why in words
    (the model fitted, how many days, or why it cannot tell)."""

    verdict: Verdict
    when: date | None
    low: date | None
    high: date | None
    level: float
    reason: str
    model: str = ""
    #: with "cannot tell" after a fit (``model`` set): the earliest the limit could come at
    #: the fastest growth the history allows; None: not within the horizon even then
    earliest: date | None = None


@dataclass(frozen=True, slots=True)
class Fit:
    """The fitted path of a figure (for charts: the forecast band): per future day, the
    median and the interval's bounds."""

    days: tuple[date, ...]
    median: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]


def exhaustion(days: Sequence[date], values: Sequence[float | None], limit: float, *,
               today: date, level: float = 0.8, horizon_days: int = 730
               ) -> tuple[Exhaustion, Fit | None]:
    """When ``values`` (one per day of ``days``, oldest first, gaps allowed; None where not
    measured) reach ``limit``; days after ``today`` are ignored."""
    points = sorted((d, float(v)) for d, v in zip(days, values, strict=True)
                    if v is not None and math.isfinite(v) and d <= today)
    if not points:
        return _say(Verdict.CANNOT_TELL, level, "no history"), None
    if points[-1][1] >= limit:
        last = points[-1][0]
        return Exhaustion(Verdict.REACHED, last, last, last, level,
                          f"reached on {last.isoformat()}"), None
    span = (points[-1][0] - points[0][0]).days + 1
    if len(points) < MIN_DAYS or span < MIN_DAYS:
        return _say(Verdict.CANNOT_TELL, level,
                    f"only {len(points)} day{'s' * (len(points) != 1)} of history; a forecast "
                    f"needs {MIN_DAYS}"), None
    from pgcrisis.capacity import _fit

    return _forecast(_fit, points, limit, today, level, horizon_days)


def _say(verdict: Verdict, level: float, reason: str, model: str = "") -> Exhaustion:
    return Exhaustion(verdict, None, None, None, level, reason, model)


def _forecast(fit: Any, points: list[tuple[date, float]], limit: float, today: date,
              level: float, horizon: int) -> tuple[Exhaustion, Fit | None]:
    """The fit, the trend test, the bootstrap and the dates (see the module's rules)."""
    import numpy as np

    t = np.array([(d - today).days for d, _ in points], dtype=float)
    weekday = np.array([d.weekday() for d, _ in points], dtype=np.int64)
    y = np.array([v for _, v in points])
    first = fit.last_shift(y, t)
    since = ""
    if first:
        since = f" since the level shift of {points[first][0].isoformat()}"
        settled = first + fit.SETTLE_DAYS
        t, weekday, y = t[settled:], weekday[settled:], y[settled:]
        if y.size < MIN_DAYS:
            return _say(Verdict.CANNOT_TELL, level,
                        f"a level shift on {points[first][0].isoformat()}; only {y.size} "
                        f"days since, a forecast needs {MIN_DAYS}"), None
    choice = fit.choose(t, weekday, y)
    model = choice.model
    name = ("exponential" if model.log else "linear") + (
        ", weekly pattern" if np.any(model.season) else "")
    days = f"{y.size} days{since}"
    drawn = fit.draws(choice, t, weekday, y, np.random.default_rng(SEED))
    spread = float(np.std(drawn[0][1]))
    future = np.arange(0, horizon + 1, dtype=float)
    weekdays = np.array([(today + timedelta(days=int(k))).weekday() for k in future],
                        dtype=np.int64)
    if not model.slope > fit.TREND_Z * spread:
        fastest = model.slope + fit.TREND_Z * spread
        hit, _ = fit.crossings(np.array([fastest]), np.array([model.intercept]), model,
                               limit, future, weekdays)
        earliest = _on(today, hit[0])
        reach = (f"; even at the fastest growth it allows, not within {horizon} days"
                 if earliest is None else
                 f"; at the fastest growth it allows, the limit could come in {int(hit[0])} days")
        if model.slope < -fit.TREND_Z * spread:
            return _say(Verdict.NOT_WITHIN, level, f"falling over {days}", name), None
        return Exhaustion(Verdict.CANNOT_TELL, None, None, None, level,
                          f"no growth distinguishable from the noise over {days}{reach}", name,
                          earliest), None
    point, _ = fit.crossings(np.array([model.slope]), np.array([model.intercept]), model,
                             limit, future, weekdays)
    crossed = [fit.crossings(slopes, intercepts, each, limit, future, weekdays)
               for each, slopes, intercepts in drawn]
    dates = np.concatenate([c[0] for c in crossed])
    paths = np.concatenate([c[1] for c in crossed])
    tail = (1 - level) / 2
    low, high = np.quantile(dates, [tail, 1 - tail], method="inverted_cdf")
    band = _band(np, today, future, paths, model, weekdays, tail, point[0], high)
    growth = (f"{math.expm1(model.slope * 30):.1%} a month" if model.log
              else f"{_amount(model.slope)} a day")
    if not math.isfinite(point[0]):
        return Exhaustion(Verdict.NOT_WITHIN, None, _on(today, low), None, level,
                          f"{name} fit of {days}, growing {growth}: not within "
                          f"{horizon} days", name), band
    return Exhaustion(Verdict.DATE, _on(today, point[0]), _on(today, low), _on(today, high),
                      level, f"{name} fit of {days}, growing {growth}", name), band


def _amount(value: float) -> str:
    """A daily growth, short: ``0.5``, ``2.0M``."""
    from pgcrisis.quantities import count

    return count(value) if abs(value) >= 1000 else f"{value:.3g}"


def _on(today: date, offset: float) -> date | None:
    """The date ``offset`` days after ``today``; None for never (inf)."""
    return today + timedelta(days=int(offset)) if math.isfinite(offset) else None


def _band(np: Any, today: date, future: Any, paths: Any, model: _fit.Model, weekdays: Any,
          tail: float, point: float, high: float) -> Fit:
    """The chart's band: the median path and the interval's, up to a little past the later
    of the date and its upper bound (at least 90 days, at most the horizon)."""
    ends = [e for e in (point, high) if math.isfinite(e)]
    end = int(min(future.size - 1, max([90.0, *[e * 1.2 + 14 for e in ends]])))
    from pgcrisis.capacity._fit import predict

    median = predict(model, future[:end + 1], weekdays[:end + 1])
    low, high_path = np.quantile(paths[:, :end + 1], [tail, 1 - tail], axis=0)
    return Fit(tuple(today + timedelta(days=k) for k in range(end + 1)),
               tuple(float(v) for v in median), tuple(float(v) for v in low),
               tuple(float(v) for v in high_path))
