"""Benchmark: are ``pgcrisis capacity``'s dates right, and are its intervals honest?

Synthetic histories with a known truth (``tests/capacity_synthetic.py``): linear growth,
exponential growth, linear with a weekly pattern, a step change, and pure noise; 60 to 365
days of history each, AR(1) noise, a limit the truth reaches 30 to 400 days later. For each
family, over ``--cases`` seeded histories:

- coverage: the share of histories whose true date falls inside the stated interval (a
  "not within" or a "reached" counts as a miss, a "cannot tell" is counted apart), with its
  95 % binomial (Wilson) interval. Target: about the stated level (80 %).
- cannot tell: the share of histories the forecast declines; on pure noise it must be about
  100 %, and a date there is a false alarm.
- the median absolute error of the date, in days, and the share of dates within 10 % of the
  true remaining time.

Beside it, the baseline measured in the same run: a straight line through the last 7 days,
extended to the limit (pgMonitor's and RDS storage autoscaling's way). It states no
interval and never declines, so its columns are the date's error and its false alarms.

    uv run python bench/forecast_accuracy.py [--cases 200] [--seed 22] [--level 0.8]

Run it with two seeds or more: 200 cases give a coverage interval about ±6 points wide, and
an interval calibrated to one seed's histories proves nothing about anyone else's.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from pgcrisis.capacity.forecast import Verdict, exhaustion

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' synthetic truths

from tests.capacity_synthetic import FAMILIES, Case, case

HORIZON = 730


@dataclass
class Tally:
    """What one method did over one family's cases."""

    cases: int = 0
    covered: int = 0
    stated: int = 0          # cases with an interval (anything but "cannot tell")
    declined: int = 0        # "cannot tell"
    dated: int = 0           # a date given (a false alarm on pure noise)
    errors: list[float] = field(default_factory=list)
    close: int = 0           # dates within 10 % of the true remaining time


def baseline(c: Case) -> date | None:
    """The last 7 days' least-squares line, extended to the limit (None: flat or falling)."""
    y = np.array(c.values[-7:])
    t = np.arange(y.size, dtype=float)
    slope, intercept = np.polyfit(t, y, 1)
    if slope <= 0:
        return None
    ahead = (c.limit - (intercept + slope * t[-1])) / slope
    return c.today + timedelta(days=max(0, math.ceil(ahead))) if ahead < HORIZON else None


def _score(tally: Tally, c: Case, when: date | None) -> None:
    """The date's error against the truth (both known)."""
    if when is None or c.true_date is None:
        return
    error = abs((when - c.true_date).days)
    tally.errors.append(error)
    tally.close += error <= 0.1 * (c.true_date - c.today).days


def run(family: str, cases: int, seed: int, level: float) -> tuple[Tally, Tally, float]:
    """Both methods over ``cases`` histories of ``family``; and the seconds per forecast."""
    rng = np.random.default_rng([seed, FAMILIES.index(family)])
    ours, naive = Tally(), Tally()
    spent = 0.0
    for _ in range(cases):
        c = case(family, rng)
        started = time.perf_counter()
        verdict, _ = exhaustion(c.days, c.values, c.limit, today=c.today, level=level,
                                horizon_days=HORIZON)
        spent += time.perf_counter() - started
        ours.cases += 1
        naive.cases += 1
        if verdict.verdict is Verdict.CANNOT_TELL:
            ours.declined += 1
        else:
            ours.stated += 1
            ours.covered += _covers(verdict.verdict, verdict.low, verdict.high, c.true_date)
        if verdict.verdict is Verdict.DATE:
            ours.dated += 1
            _score(ours, c, verdict.when)
        guess = baseline(c)
        naive.stated += 1
        naive.dated += guess is not None
        _score(naive, c, guess)
    return ours, naive, spent / cases


def _covers(verdict: Verdict, low: date | None, high: date | None, true: date | None) -> bool:
    """Whether the stated interval holds the true date (None: never, within the horizon)."""
    if verdict is Verdict.NOT_WITHIN:
        return true is None
    if verdict is not Verdict.DATE or true is None or low is None:
        return False
    return low <= true and (high is None or true <= high)


def wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95 % Wilson score interval of a binomial share."""
    if n == 0:
        return (math.nan, math.nan)
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def _share(k: int, n: int) -> str:
    return f"{k / n:.0%}" if n else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200, help="histories per family")
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--level", type=float, default=0.8, help="the interval's level")
    args = parser.parse_args()
    table = Table(title=f"Forecast accuracy: {args.cases} histories per family, "
                        f"{args.level:.0%} intervals (baseline: last 7 days, linear)")
    for column in ("family", "coverage (95 % CI)", "cannot tell", "dates",
                   "median |error| days", "within 10 %", "baseline dates",
                   "baseline median |error|", "baseline within 10 %", "ms/forecast"):
        table.add_column(column, justify="left" if column == "family" else "right")
    for family in FAMILIES:
        ours, naive, seconds = run(family, args.cases, args.seed, args.level)
        low, high = wilson(ours.covered, ours.stated)
        coverage = (f"{ours.covered / ours.stated:.0%} ({low:.0%}-{high:.0%})"
                    if ours.stated else "-")
        table.add_row(family, coverage, _share(ours.declined, ours.cases),
                      _share(ours.dated, ours.cases), _median(ours.errors),
                      _share(ours.close, len(ours.errors)),
                      _share(naive.dated, naive.cases), _median(naive.errors),
                      _share(naive.close, len(naive.errors)), f"{seconds * 1000:.0f}")
    Console(width=170).print(table)
    print("coverage: the true date inside the stated interval, of the histories given one; "
          "on pure noise 'dates' are false alarms.")
    print("one seed's coverage wanders by a few points (see its interval): check another "
          "--seed before trusting a change.")


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.0f}" if values else "-"


if __name__ == "__main__":
    main()
