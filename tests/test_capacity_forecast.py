"""Forecasts of when a daily figure reaches its limit: dates for growth, "cannot tell" for
noise and short histories, the interval around the truth. The coverage at scale is
bench/forecast_accuracy.py's; here, the rules and their monotone properties."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pgcrisis.capacity.forecast import MIN_DAYS, Verdict, exhaustion
from tests.capacity_synthetic import FAMILIES, case

TODAY = date(2026, 6, 1)


def _days(n: int) -> list[date]:
    return [TODAY - timedelta(days=n - 1 - k) for k in range(n)]


def _noisy(n: int, slope: float, sigma: float, seed: int = 1, level: float = 100.0
           ) -> list[float]:
    rng = np.random.default_rng(seed)
    return [level + slope * k + float(rng.normal(0, sigma)) for k in range(n)]


def test_linear_growth_gets_a_date_inside_its_interval() -> None:
    # 100 + 0.5/day reaches 400 on day 600 of the series, 236 days after today (day 364)
    found, fit = exhaustion(_days(365), _noisy(365, 0.5, 3), 400, today=TODAY)
    assert found.verdict is Verdict.DATE
    assert found.low and found.high and found.when
    assert found.low <= found.when <= found.high
    assert abs((found.when - (TODAY + timedelta(days=236))).days) <= 10
    assert found.model == "linear"
    assert fit is not None and fit.days[0] == TODAY
    assert all(lo <= m <= hi for lo, m, hi in zip(fit.low, fit.median, fit.high, strict=True))


def test_exponential_growth_is_fitted_on_the_log_scale() -> None:
    rng = np.random.default_rng(3)
    values = [100 * np.exp(0.004 * k) * (1 + rng.normal(0, 0.02)) for k in range(365)]
    found, _ = exhaustion(_days(365), values, 1000, today=TODAY)
    assert found.verdict is Verdict.DATE and found.model.startswith("exponential")
    true = TODAY + timedelta(days=round(np.log(10) / 0.004) - 364)
    assert found.when and abs((found.when - true).days) <= 10


def test_a_step_change_is_fitted_from_where_it_happened() -> None:
    values = [v + (100 if k > 300 else 0) for k, v in enumerate(_noisy(365, 0.5, 3))]
    found, _ = exhaustion(_days(365), values, 500, today=TODAY)
    assert found.verdict is Verdict.DATE
    assert "level shift" in found.reason


def test_pure_noise_cannot_tell() -> None:
    found, fit = exhaustion(_days(365), _noisy(365, 0, 5), 150, today=TODAY)
    assert found.verdict is Verdict.CANNOT_TELL and found.when is None and fit is None
    assert "noise" in found.reason


def test_a_week_of_history_cannot_tell_and_says_how_many_days_it_needs() -> None:
    found, _ = exhaustion(_days(7), [100 + 10 * k for k in range(7)], 200, today=TODAY)
    assert found.verdict is Verdict.CANNOT_TELL
    assert f"a forecast needs {MIN_DAYS}" in found.reason


def test_a_limit_already_reached_says_so() -> None:
    found, _ = exhaustion(_days(30), [100.0] * 29 + [250.0], 200, today=TODAY)
    assert found.verdict is Verdict.REACHED and found.when == TODAY


def test_falling_and_far_off_are_not_within_the_horizon() -> None:
    falling, _ = exhaustion(_days(120), _noisy(120, -0.5, 1, level=500), 1000, today=TODAY)
    assert falling.verdict is Verdict.NOT_WITHIN
    slow, _ = exhaustion(_days(120), _noisy(120, 0.05, 0.2), 1000, today=TODAY,
                         horizon_days=365)
    assert slow.verdict is Verdict.NOT_WITHIN


def test_the_synthetic_truths_are_found_on_a_few_seeds() -> None:
    rng = np.random.default_rng(7)
    for family in ("linear", "weekly"):
        c = case(family, rng)
        found, _ = exhaustion(c.days, c.values, c.limit, today=c.today)
        assert found.verdict is Verdict.DATE, (family, found.reason)


def test_a_noisier_history_gets_a_wider_interval() -> None:
    # the same growth, four times the noise: the date is less certain, and says so
    quiet, _ = exhaustion(_days(180), _noisy(180, 0.5, 2, seed=4), 300, today=TODAY)
    noisy, _ = exhaustion(_days(180), _noisy(180, 0.5, 8, seed=4), 300, today=TODAY)
    assert quiet.verdict is Verdict.DATE and noisy.verdict is Verdict.DATE
    assert quiet.low and quiet.high and noisy.low and noisy.high
    assert (noisy.high - noisy.low) > 2 * (quiet.high - quiet.low)


def test_the_same_history_gives_the_same_interval() -> None:
    values = _noisy(120, 0.4, 3, seed=9)
    first, _ = exhaustion(_days(120), values, 250, today=TODAY)
    again, _ = exhaustion(_days(120), values, 250, today=TODAY)
    assert first == again


def test_intervals_cover_the_synthetic_truths_about_as_often_as_they_say() -> None:
    # a smoke test, seeded and deterministic: 40 linear histories, an 80 % interval; the
    # bounds are loose on purpose (the bench measures coverage at scale)
    rng = np.random.default_rng([2026, FAMILIES.index("linear")])
    covered = 0
    for _ in range(40):
        c = case("linear", rng)
        found, _ = exhaustion(c.days, c.values, c.limit, today=c.today)
        covered += bool(found.verdict is Verdict.DATE and found.low and c.true_date
                        and found.low <= c.true_date
                        and (found.high is None or c.true_date <= found.high))
    assert 22 <= covered <= 39


@settings(max_examples=15, deadline=None)
@given(st.floats(0.2, 2.0), st.floats(1.2, 3.0), st.integers(0, 10_000))
def test_faster_growth_never_runs_out_later(slope: float, factor: float, seed: int) -> None:
    """Under the same model: a slower history may be read as exponential and a faster one as
    linear (each by its own backtest), and then the curve can reach the limit first
    (slope 0.25, factor 1.5, seed 6220: 2027-07-28 against 2027-09-04); their intervals
    overlap, which is all the forecast claims then."""
    slow, _ = exhaustion(_days(90), _noisy(90, slope, 1, seed), 300, today=TODAY)
    fast, _ = exhaustion(_days(90), _noisy(90, slope * factor, 1, seed), 300, today=TODAY)
    if slow.verdict is Verdict.DATE:
        assert fast.verdict in (Verdict.DATE, Verdict.REACHED)
        assert fast.when is not None and slow.when is not None
        if fast.model == slow.model:
            assert fast.when <= slow.when
        else:
            # the intervals overlap (an open end: past the horizon)
            assert fast.low is None or slow.high is None or fast.low <= slow.high


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000), st.integers(14, 200))
def test_noise_never_gets_a_date(seed: int, n: int) -> None:
    found, _ = exhaustion(_days(n), _noisy(n, 0, 5, seed), 200, today=TODAY)
    assert found.verdict is not Verdict.DATE
