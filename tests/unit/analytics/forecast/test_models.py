"""The statistical models on synthetic series whose right answer is known."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.tsa.statespace.sarimax import SARIMAX

from analytics_hub.analytics.forecast.arima import ARIMA, _integrate
from analytics_hub.analytics.forecast.registry import default_registry

SMOOTH_SEASONAL_MODELS = ["ets", "arima", "theta", "mstl_ets", "mstl_arima", "ensemble"]


def _mae(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.abs(a - b)))


@pytest.mark.parametrize("name", SMOOTH_SEASONAL_MODELS)
def test_models_beat_naive_and_match_seasonal_naive_on_a_noisy_cycle(name, seasonal_series) -> None:
    # A stable cycle plus noise: repeating one noisy day (seasonal naive) carries that
    # day's noise into the forecast, a model that averages the cycle does not, and the
    # naive forecast ignores the cycle altogether.
    registry = default_registry()
    errors: dict[str, list[float]] = {name: [], "seasonal_naive": [], "naive": []}
    for seed in range(3):
        y = seasonal_series(12 * 16 + 12, period=12, noise=4.0, seed=seed)
        history, actual = y[:-12], y[-12:]
        errors[name].append(_mae(actual, registry.create(name).fit(history, 12).predict(12).mean))
        errors["seasonal_naive"].append(
            _mae(actual, registry.create("seasonal_naive").fit(history, 12).predict(12).mean)
        )
        errors["naive"].append(_mae(actual, np.full(12, history[-1])))
    model, snaive, naive = (float(np.mean(errors[k])) for k in (name, "seasonal_naive", "naive"))
    assert model < 0.5 * naive
    assert model <= 1.05 * snaive


@pytest.mark.parametrize("name", ["ets", "arima", "mstl_ets", "mstl_arima", "ensemble"])
def test_models_follow_a_trend_that_seasonal_naive_misses(name, seasonal_series) -> None:
    y = seasonal_series(24 * 10 + 48, period=24, noise=1.0, trend=0.5, level=50.0, seed=5)
    history, actual = y[:-48], y[-48:]
    model = default_registry().create(name).fit(history, 24).predict(48).mean
    snaive = default_registry().create("seasonal_naive").fit(history, 24).predict(48).mean
    # Seasonal naive lags the trend by a day or two (12 to 24 units); models track it.
    assert _mae(actual, model) < 0.7 * _mae(actual, snaive)


def test_mstl_models_use_a_weekly_cycle_a_daily_model_cannot_see(seasonal_series) -> None:
    # Weekends at half traffic: only a model given the 168-hour season can know that the
    # next day is a weekend day when the last day was not.
    y = seasonal_series(24 * 27, period=24, noise=1.0, seed=6)  # ends on a Saturday
    weekend = (np.arange(y.size) // 24) % 7 >= 5
    y = np.where(weekend, 0.5 * y, y)
    history, actual = y[:-24], y[-24:]
    assert weekend[-24:].all()
    assert not weekend[-25]
    weekly = default_registry().create("mstl_ets").fit(history, (24, 168)).predict(24).mean
    daily = default_registry().create("seasonal_naive").fit(history, 24).predict(24).mean
    assert _mae(actual, weekly) < 0.3 * _mae(actual, daily)


def test_integrate_undoes_seasonal_and_first_differences() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(size=40).cumsum()
    poly = np.convolve([1.0, -1.0], np.r_[1.0, np.zeros(3), -1.0])  # (1-B)(1-B^4)
    full = np.r_[z, rng.normal(size=6)]
    diffed = np.convolve(full, poly)[poly.size - 1 : full.size]  # w_t = sum a_k z_{t-k}
    assert _integrate(z, diffed[-6:], poly) == pytest.approx(full[-6:])


def test_arima_interval_matches_the_full_seasonal_state_space_model() -> None:
    # Our fast path differences first and rebuilds the forecast variance from psi-weights;
    # statsmodels' full state-space SARIMA with the same parameters must agree.
    rng = np.random.default_rng(1)
    m, n = 12, 240
    e = rng.normal(0, 1, n + m)
    w = e[m:] - 0.6 * e[:-m]  # seasonal MA(1) after a seasonal difference
    y = 200.0 + np.cumsum(np.r_[np.zeros(m), w].reshape(-1, m), axis=0).ravel()[:n]
    model = ARIMA(transform="none").fit(y, m)
    ours = model.predict(30, level=0.9)
    params = model._result.params
    full = SARIMAX(y, order=(1, 0, 1), seasonal_order=(0, 1, 1, m), concentrate_scale=True)
    reference = full.filter(params)
    frame = reference.get_forecast(30).summary_frame(alpha=0.1)
    assert ours.mean == pytest.approx(frame["mean"].to_numpy(), rel=1e-3)
    assert ours.upper - ours.mean == pytest.approx(
        (frame["mean_ci_upper"] - frame["mean"]).to_numpy(), rel=0.05
    )
