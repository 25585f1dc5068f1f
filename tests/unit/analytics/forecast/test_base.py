"""Input checks every forecaster shares: clear errors, never a crash inside a library."""

from __future__ import annotations

import numpy as np
import pytest

from analytics_hub.analytics.forecast.base import usable_seasons
from analytics_hub.analytics.forecast.registry import default_registry
from analytics_hub.errors import ValidationError

MODELS = default_registry().names()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([], "empty"),
        ([1.0, float("nan"), 2.0, 3.0, 4.0], "missing or non-finite"),
        ([1.0, 2.0, float("inf"), 3.0, 4.0], "missing or non-finite"),
        ([[1.0, 2.0], [3.0, 4.0]], "one-dimensional"),
        ([1.0, 2.0], "at least"),
        (["a", "b", "c", "d"], "numbers"),
    ],
)
def test_bad_series_get_a_validation_error(values: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        default_registry().create("arima").fit(values, 24)


@pytest.mark.parametrize("name", MODELS)
def test_constant_series_forecast_the_constant_with_no_spread(name: str) -> None:
    pred = default_registry().create(name).fit(np.full(60, 7.5), 12).predict(5)
    assert np.all(pred.mean == 7.5)
    assert np.all(pred.lower == 7.5)
    assert np.all(pred.upper == 7.5)


def test_predict_checks_fit_horizon_and_level() -> None:
    model = default_registry().create("seasonal_naive")
    with pytest.raises(ValidationError, match="fitted"):
        model.predict(3)
    model.fit(np.arange(1.0, 30.0), 1)
    with pytest.raises(ValidationError, match="horizon"):
        model.predict(0)
    with pytest.raises(ValidationError, match="level"):
        model.predict(3, level=1.0)


def test_seasons_need_two_full_cycles_and_are_sorted() -> None:
    assert usable_seasons((168, 24), 400) == (24, 168)
    assert usable_seasons((24, 168), 300) == (24,)  # 300 < 2 * 168
    assert usable_seasons(24, 40) == ()
    assert usable_seasons(1, 100) == ()
    with pytest.raises(ValidationError, match="positive integers"):
        usable_seasons((0,), 100)


@pytest.mark.parametrize("name", MODELS)
def test_every_model_returns_ordered_finite_bands(name: str, seasonal_series) -> None:
    y = seasonal_series(12 * 12, period=12, trend=0.1, seed=3)
    pred = default_registry().create(name).fit(y, 12).predict(30, level=0.8)
    assert pred.horizon == 30
    assert pred.level == 0.8
    assert np.all(np.isfinite(pred.mean))
    assert np.all(pred.lower <= pred.mean)
    assert np.all(pred.mean <= pred.upper)
    assert np.any(pred.upper > pred.lower)


@pytest.mark.parametrize("name", MODELS)
def test_models_cope_with_zeros_and_short_histories(name: str) -> None:
    # Sparse traffic: zeros rule out the log scale; 30 points leave no 24-hour season.
    y = np.tile([0.0, 0.0, 3.0, 5.0, 2.0], 6)
    pred = default_registry().create(name).fit(y, 24).predict(6)
    assert np.all(np.isfinite(pred.mean))
    assert np.all(pred.lower <= pred.upper)
