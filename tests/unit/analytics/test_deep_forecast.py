"""The LSTM forecaster (optional ``deep`` extra): known answers on small synthetic series."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analytics_hub.analytics.forecast import registry as registry_module
from analytics_hub.analytics.forecast.base import ForecastFailedError
from analytics_hub.analytics.forecast.lstm import LSTMForecaster
from analytics_hub.analytics.forecast.registry import default_registry
from analytics_hub.errors import ValidationError

pytest.importorskip("torch", reason="the optional 'deep' extra is not installed")

PERIOD = 12


def seasonal(n: int, seed: int, noise: float = 1.0) -> np.ndarray:
    """A level of 50 with a cycle of 12 steps (amplitude 10) and Gaussian noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 50.0 + 10.0 * np.sin(2 * np.pi * t / PERIOD) + rng.normal(0.0, noise, n)


def small() -> LSTMForecaster:
    return LSTMForecaster(hidden=8, epochs=15, paths=100)


def test_registered_by_name_when_torch_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(default_registry().create("lstm"), LSTMForecaster)
    monkeypatch.setattr(registry_module, "installed", lambda package: package != "torch")
    registry = default_registry()
    assert "lstm" in registry.unavailable()
    with pytest.raises(ValidationError, match="'deep' extra"):
        registry.create("lstm")


def test_a_seasonal_series_is_forecast_within_tolerance_with_honest_intervals() -> None:
    y = seasonal(240 + 24, seed=1)
    history, actual = y[:240], y[240:]
    model = small().fit(history, PERIOD)
    pred = model.predict(24, 0.95)
    truth = 50.0 + 10.0 * np.sin(2 * np.pi * np.arange(240, 264) / PERIOD)
    assert np.mean(np.abs(pred.mean - truth)) < 2.5  # the cycle's amplitude is 10
    inside = np.mean((actual >= pred.lower) & (actual <= pred.upper))
    assert inside >= 0.8  # nominal 95%
    narrower = model.predict(24, 0.5)
    assert np.all(narrower.upper - narrower.lower <= pred.upper - pred.lower + 1e-9)
    assert 0.2 <= np.mean((actual >= narrower.lower) & (actual <= narrower.upper)) <= 0.9


def test_forecasts_are_deterministic() -> None:
    y = seasonal(150, seed=2)
    first = small().fit(y, PERIOD).predict(6)
    second = small().fit(y, PERIOD).predict(6)
    np.testing.assert_array_equal(first.mean, second.mean)
    np.testing.assert_array_equal(first.upper, second.upper)


def test_bad_input_is_refused_with_clear_errors() -> None:
    with pytest.raises(ValidationError, match="empty"):
        small().fit([])
    with pytest.raises(ValidationError, match="missing or non-finite"):
        small().fit([1.0, 2.0, math.nan, 4.0, 5.0])
    with pytest.raises(ForecastFailedError, match="at least"):
        small().fit(np.arange(1.0, 12.0))
    flat = small().fit(np.full(50, 7.0)).predict(3)
    assert np.all(flat.mean == 7.0)
    assert np.all(flat.lower == flat.upper)
    with pytest.raises(ValueError, match="hidden"):
        LSTMForecaster(hidden=0)
