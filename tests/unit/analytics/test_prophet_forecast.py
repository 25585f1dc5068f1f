"""The Prophet forecaster (optional ``prophet`` extra): known answers on synthetic series."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest

from analytics_hub.analytics.forecast import registry as registry_module
from analytics_hub.analytics.forecast.prophet import ProphetForecaster
from analytics_hub.analytics.forecast.registry import default_registry
from analytics_hub.errors import ValidationError

pytest.importorskip("prophet", reason="the optional 'prophet' extra is not installed")

PERIOD = 24


def seasonal(n: int, seed: int, noise: float = 2.0, trend: float = 0.05) -> np.ndarray:
    """A rising level with a cycle of 24 steps (amplitude 20) and Gaussian noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 100.0 + trend * t + 20.0 * np.sin(2 * np.pi * t / PERIOD) + rng.normal(0.0, noise, n)


def test_registered_by_name_when_prophet_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(default_registry().create("prophet"), ProphetForecaster)
    monkeypatch.setattr(registry_module, "installed", lambda package: package != "prophet")
    with pytest.raises(ValidationError, match="'prophet' dependency"):
        default_registry().create("prophet")


def test_a_seasonal_series_is_forecast_within_tolerance_with_honest_intervals() -> None:
    inside = []
    for seed in range(3):
        y = seasonal(24 * 12 + 48, seed=seed)
        history, actual = y[:-48], y[-48:]
        model = ProphetForecaster().fit(history, PERIOD)
        pred = model.predict(48, 0.95)
        t = np.arange(y.size - 48, y.size)
        truth = 100.0 + 0.05 * t + 20.0 * np.sin(2 * np.pi * t / PERIOD)
        assert np.mean(np.abs(pred.mean - truth)) < 2.0  # noise sd 2, amplitude 20
        inside.append(np.mean((actual >= pred.lower) & (actual <= pred.upper)))
        narrower = model.predict(48, 0.8)
        assert np.all(narrower.upper - narrower.lower < pred.upper - pred.lower)
    assert 0.85 <= np.mean(inside) <= 1.0  # nominal 95%


def test_forecasts_are_deterministic_and_fitting_logs_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    y = seasonal(200, seed=5)
    with caplog.at_level(logging.INFO):
        first = ProphetForecaster().fit(y, PERIOD).predict(12)
    second = ProphetForecaster().fit(y, PERIOD).predict(12)
    assert not [r for r in caplog.records if r.name.startswith(("cmdstanpy", "prophet"))]
    np.testing.assert_array_equal(first.mean, second.mean)
    np.testing.assert_array_equal(first.lower, second.lower)
    # the caller's random state is left alone
    np.random.seed(1)
    expected = np.random.random()
    np.random.seed(1)
    ProphetForecaster().fit(y, PERIOD).predict(3)
    assert np.random.random() == expected


def test_bad_input_is_refused_with_clear_errors() -> None:
    with pytest.raises(ValidationError, match="empty"):
        ProphetForecaster().fit([])
    with pytest.raises(ValidationError, match="missing or non-finite"):
        ProphetForecaster().fit([1.0, 2.0, math.inf, 4.0, 5.0])
    flat = ProphetForecaster().fit(np.full(30, 3.0)).predict(4)
    assert np.all(flat.mean == 3.0)
    assert np.all(flat.lower == flat.upper)
    # a series with zeros is modelled as it is, and a short one without a usable season
    sparse = ProphetForecaster().fit(np.r_[np.zeros(10), np.arange(10.0)], PERIOD).predict(2)
    assert np.all(np.isfinite(sparse.mean))
