"""When a growing figure reaches its limit, with an honest interval: a robust fit of the daily
history (weekly seasonality where there is enough of it), and "cannot tell" where the fit is
poor or the history short, never a confident date from a week of noise.

INTERFACE (filled by the forecast work).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


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


@dataclass(frozen=True, slots=True)
class Fit:
    """The fitted path of a figure (for charts: the forecast band): per future day, the
    median and the interval's bounds."""

    days: tuple[date, ...]
    median: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]


def exhaustion(days: Sequence[date], values: Sequence[float], limit: float, *,
               today: date, level: float = 0.8, horizon_days: int = 730
               ) -> tuple[Exhaustion, Fit | None]:
    """When ``values`` (one per day of ``days``, oldest first, gaps allowed) reach ``limit``."""
    raise NotImplementedError
