"""From values + start + step to a dated forecast with its back-test."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from analytics_hub.analytics.forecast import registry as registry_module
from analytics_hub.analytics.forecast.backtest import backtest
from analytics_hub.analytics.forecast.naive import SeasonalNaive
from analytics_hub.analytics.forecast.service import default_seasons, forecast
from analytics_hub.errors import ValidationError

START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def test_forecast_steps_are_dated_after_the_history(seasonal_series) -> None:
    y = seasonal_series(24 * 8, period=24, seed=1)
    out = forecast(y, start=START, step=HOUR, horizon=5, model="seasonal_naive")
    assert out.start == START + 24 * 8 * HOUR
    assert out.times == [START + (24 * 8 + i) * HOUR for i in range(5)]
    assert out.model == "seasonal_naive"
    assert out.weights == {"seasonal_naive": 1.0}
    # Seasonal naive on a 24-hour step: the last day repeated.
    assert out.mean == pytest.approx(y[-24:-19])


def test_default_forecast_is_the_ensemble_with_its_weights_and_backtest(seasonal_series) -> None:
    y = seasonal_series(120, period=7, seed=2)
    out = forecast(y, start=START, step=dt.timedelta(days=1), horizon=30)
    assert out.model == "ensemble"
    assert sum(out.weights.values()) == pytest.approx(1.0)
    assert out.backtest is not None
    assert out.backtest.horizon == 30
    assert out.backtest.mase is not None
    assert out.backtest.mase < 1.5
    assert out.horizon == 30


def test_default_seasons_follow_the_step() -> None:
    assert default_seasons(HOUR) == (24, 168)
    assert default_seasons(dt.timedelta(days=1)) == (7,)
    assert default_seasons(dt.timedelta(minutes=5)) == (1,)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon": 0}, "horizon"),
        ({"horizon": 10_000}, "horizon"),
        ({"step": dt.timedelta(0)}, "step"),
        ({"level": 95.0}, "level"),
        ({"model": "prophet"}, "not available"),
    ],
)
def test_bad_requests_are_validation_errors(
    kwargs: dict[str, object], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as on an install without the optional extras, so that "prophet" is a missing model
    monkeypatch.setattr(registry_module, "installed", lambda package: False)
    args: dict[str, object] = {"start": START, "step": HOUR, "horizon": 3}
    args.update(kwargs)
    with pytest.raises(ValidationError, match=message):
        forecast(np.arange(1.0, 50.0), **args)


def test_backtest_scores_the_held_out_windows() -> None:
    # Season 4 pattern, then the last window doubled: seasonal naive misses it by exactly
    # the pattern itself, so every error is known.
    pattern = np.array([1.0, 2.0, 3.0, 4.0])
    y = np.r_[np.tile(pattern, 5), 2 * pattern]
    result = backtest(SeasonalNaive, y, 4, 4)
    assert result.horizon == 4
    assert result.mae == pytest.approx(2.5)
    assert result.mase is None  # the training part repeats exactly: no scale
    two = backtest(SeasonalNaive, y, 4, 4, origins=2)
    # First window is forecast perfectly, the second misses by 2.5 on average.
    assert two.mae == pytest.approx(1.25)


def test_backtest_shrinks_the_window_to_keep_half_the_history() -> None:
    result = backtest(SeasonalNaive, np.arange(1.0, 21.0), 1, 50)
    assert result.horizon == 10
    with pytest.raises(ValidationError, match="too few"):
        backtest(SeasonalNaive, np.arange(1.0, 6.0), 1, 3, origins=3)
