"""The baselines: seasonal naive repeats the last season; Naive2 follows the M4 definition."""

from __future__ import annotations

import numpy as np
import pytest

from analytics_hub.analytics.forecast.intervals import lagged_error_bands
from analytics_hub.analytics.forecast.naive import Naive2, SeasonalNaive
from analytics_hub.analytics.forecast.seasonality import (
    autocorrelation,
    centred_moving_average,
    is_seasonal,
    multiplicative_indices,
)


def test_seasonal_naive_repeats_the_last_season() -> None:
    y = np.arange(1.0, 13.0)  # 12 points, season 4: last season is 9, 10, 11, 12
    pred = SeasonalNaive().fit(y, 4).predict(6)
    assert pred.mean.tolist() == pytest.approx([9, 10, 11, 12, 9, 10])


def test_seasonal_naive_without_a_season_is_the_naive_forecast() -> None:
    pred = SeasonalNaive().fit([3.0, 1.0, 4.0, 1.0, 5.0], 1).predict(3)
    assert pred.mean.tolist() == pytest.approx([5, 5, 5])


def test_autocorrelation_of_an_alternating_series() -> None:
    r = autocorrelation(np.array([1.0, -1.0] * 10), 2)
    assert r[0] == pytest.approx(-19 / 20)
    assert r[1] == pytest.approx(18 / 20)


def test_centred_moving_average_of_even_period_uses_half_weights_at_the_ends() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    ma = centred_moving_average(y, 4)
    # position 2: (0.5*1 + 2 + 3 + 4 + 0.5*5) / 4 = 3
    assert np.isnan(ma[:2]).all()
    assert np.isnan(ma[-2:]).all()
    assert ma[2:4].tolist() == pytest.approx([3.0, 4.0])


def test_seasonality_test_and_indices_recover_a_multiplicative_pattern() -> None:
    pattern = np.array([0.5, 1.0, 1.5, 1.0])
    y = 100.0 * np.tile(pattern, 12)
    assert is_seasonal(y, 4)
    assert multiplicative_indices(y, 4) == pytest.approx(pattern)
    rng = np.random.default_rng(1)
    assert not is_seasonal(rng.normal(100, 1, 48), 4)
    assert not is_seasonal(y[:11], 4)  # shorter than three seasons


def test_naive2_reseasonalises_the_last_adjusted_value() -> None:
    pattern = np.array([0.5, 1.0, 1.5, 1.0])
    level = np.r_[np.full(44, 100.0), np.full(4, 120.0)]  # a level shift in the last season
    y = level * np.tile(pattern, 12)
    pred = Naive2().fit(y, 4).predict(4)
    # Last adjusted value is 120 / (index of its position); forecasts are 120 * pattern,
    # up to the small distortion the shift puts into the estimated indices.
    assert pred.mean == pytest.approx(120.0 * pattern, rel=0.03)


def test_naive2_of_a_non_seasonal_series_is_the_naive_forecast() -> None:
    rng = np.random.default_rng(2)
    y = 50.0 + np.cumsum(rng.normal(0, 1, 60))
    pred = Naive2().fit(y, 4).predict(3)
    assert pred.mean.tolist() == pytest.approx([y[-1]] * 3)


def test_back_test_bands_match_normal_quantiles_of_a_random_walk() -> None:
    rng = np.random.default_rng(3)
    z = np.cumsum(rng.normal(0, 1, 20000))
    point = np.zeros(4)
    lower, upper = lagged_error_bands(z, point, [1, 4, 9, 16], 0.95)
    # The h-step difference of a random walk is N(0, h): bounds at +-1.96 * sqrt(h).
    assert upper == pytest.approx(1.96 * np.sqrt([1, 4, 9, 16]), rel=0.06)
    assert lower == pytest.approx(-1.96 * np.sqrt([1, 4, 9, 16]), rel=0.06)


def test_back_test_bands_borrow_a_shorter_lag_with_random_walk_growth() -> None:
    rng = np.random.default_rng(4)
    z = np.cumsum(rng.normal(0, 1, 60))
    point = np.zeros(2)
    # Lag 50 leaves 10 differences (< 20): it borrows lag 4, scaled by sqrt(50 / 4).
    lower, upper = lagged_error_bands(z, point, [4, 50], 0.9)
    assert upper[1] == pytest.approx(upper[0] * np.sqrt(50 / 4))
    assert lower[1] == pytest.approx(lower[0] * np.sqrt(50 / 4))
