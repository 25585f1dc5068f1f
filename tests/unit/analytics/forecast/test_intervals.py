"""Prediction intervals cover about as often as they claim, on data from a known process."""

from __future__ import annotations

import numpy as np
import pytest

from analytics_hub.analytics.forecast.registry import default_registry

PERIOD, HISTORY, HORIZON, REPLICATES = 12, 96, 12, 16


def _simulate(seed: int) -> np.ndarray:
    """exp(level + cycle + AR(1) noise): positive, multiplicative, like usage data."""
    rng = np.random.default_rng(seed)
    size = HISTORY + HORIZON
    shocks = rng.normal(0.0, 0.05, size + 50)
    noise = np.zeros_like(shocks)
    for t in range(1, shocks.size):
        noise[t] = 0.6 * noise[t - 1] + shocks[t]
    t = np.arange(size)
    return np.exp(np.log(100.0) + 0.3 * np.sin(2 * np.pi * t / PERIOD) + noise[50:])


# mstl_arima is left out on purpose: its intervals are known to under-cover (65% to 73% for
# 80% here, 77% for 95% on M4), as docs/analytics/forecasting.md says.
@pytest.mark.parametrize(
    "name", ["seasonal_naive", "naive2", "ets", "arima", "theta", "mstl_ets", "ensemble"]
)
def test_80_percent_intervals_cover_about_80_percent(name: str) -> None:
    registry = default_registry()
    inside = []
    for seed in range(REPLICATES):
        y = _simulate(seed)
        pred = registry.create(name).fit(y[:HISTORY], PERIOD).predict(HORIZON, level=0.8)
        actual = y[HISTORY:]
        inside.append(np.mean((actual >= pred.lower) & (actual <= pred.upper)))
    coverage = float(np.mean(inside))
    # 192 points, correlated within each replicate: allow that much sampling noise, but
    # not a wrong width (a halved interval covers about 47%, a doubled one about 99%).
    assert 0.65 <= coverage <= 0.93, coverage


def test_wider_levels_give_wider_intervals() -> None:
    y = _simulate(99)
    model = default_registry().create("arima").fit(y[:HISTORY], PERIOD)
    narrow, wide = model.predict(HORIZON, 0.5), model.predict(HORIZON, 0.99)
    assert np.all(wide.lower < narrow.lower)
    assert np.all(wide.upper > narrow.upper)
    assert narrow.mean == pytest.approx(wide.mean)
