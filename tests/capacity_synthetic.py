"""Synthetic daily histories with a known truth, for the forecast tests and
``bench/forecast_accuracy.py``: a noiseless path (linear, exponential, with a weekly pattern,
with a step), noise on top (AR(1): a real figure's days are not independent), a limit the
truth reaches 30 to 400 days after "today", and that true date.

``pure noise`` has no growth at all: its true date is never (None).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

FAMILIES = ("linear", "exponential", "weekly", "step", "noise")
START = date(2025, 1, 6)  # a Monday
#: the days after "today" the truth is followed to find its date
FOLLOW = 800


@dataclass(frozen=True)
class Case:
    """One synthetic history: what a forecast sees, and the truth it should find."""

    family: str
    days: tuple[date, ...]
    values: tuple[float, ...]
    limit: float
    today: date
    true_date: date | None


def _noise(rng: np.random.Generator, n: int, sigma: float, phi: float = 0.4) -> np.ndarray:
    """AR(1) noise of stationary standard deviation ``sigma``."""
    shocks = rng.normal(0, sigma * math.sqrt(1 - phi * phi), n)
    out = np.empty(n)
    out[0] = rng.normal(0, sigma)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + shocks[i]
    return out


def _path(family: str, rng: np.random.Generator, t: np.ndarray) -> tuple[np.ndarray, float]:
    """The noiseless path over ``t`` (days from the start) and the noise's scale."""
    level = rng.uniform(50, 500)
    if family == "exponential":
        rate = rng.uniform(0.002, 0.008)
        return level * np.exp(rate * t), level * rng.uniform(0.01, 0.04)
    slope = level * rng.uniform(0.001, 0.006)
    path = level + slope * t
    sigma = slope * rng.uniform(2, 15)
    if family == "weekly":
        weekday = (t.astype(int) + START.weekday()) % 7
        path = path + np.where(weekday < 5, 1.0, 0.0) * sigma * rng.uniform(2, 6)
    if family == "noise":
        return np.full(t.size, level), level * rng.uniform(0.01, 0.05)
    return path, sigma


def case(family: str, rng: np.random.Generator) -> Case:
    """A history of 60 to 365 days of ``family`` cut at a random today, and its limit."""
    history = int(rng.integers(60, 366))
    total = history + FOLLOW
    t = np.arange(total, dtype=float)
    path, sigma = _path(family, rng, t)
    if family == "step":
        at = history - int(rng.integers(30, 120))
        jump = path[at] * rng.uniform(0.1, 0.4)
        bend = rng.uniform(0.5, 2.0)
        path = np.where(t >= at, path[at] + jump + (path - path[at]) * bend, path)
    observed = path[:history] + _noise(rng, history, sigma)
    today = history - 1
    days = tuple(START + timedelta(days=int(k)) for k in range(history))
    if family == "noise":
        limit = float(path[0] * rng.uniform(1.3, 3.0))
        return Case(family, days, tuple(observed.tolist()), limit, days[-1], None)
    ahead = int(rng.integers(30, 401))
    limit = float(path[today + ahead])
    reached = np.flatnonzero(path[today + 1:] >= limit)
    true = days[-1] + timedelta(days=int(reached[0]) + 1)
    return Case(family, days, tuple(observed.tolist()), limit, days[-1], true)
